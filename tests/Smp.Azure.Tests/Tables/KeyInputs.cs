using FsCheck;
using FsCheck.Fluent;

namespace Smp.Azure.Tests.Tables;

/// <summary>A string meant to break table keys and OData filters.</summary>
public sealed record HostileText(string Value)
{
    public override string ToString() => $"\"{string.Concat(Value.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()))}\" ({Value.Length} chars)";
}

/// <summary>FsCheck generators of <see cref="HostileText"/>: short mixes of hostile pieces, and long ones up to 1000 characters.</summary>
public static class KeyInputs
{
    private static readonly string[] Pieces =
    [
        "/", "\\", "#", "?", "'", "''", "\"", "%", "%2F", "|", "~", "~~", "~002F", "&", "=", "+", " ", "$filter", "(", ")", ",",
        "\u0000", "\t", "\n", "\r", "\u001F", "\u007F", "\u0080", "\u0085", "\u009F", "\u00A0", "\u200B", "\uFEFF", "\uFFFD",
        "é", "ß", "Ж", "中文", "עברית", "😀", "👍🏽", "🏳️‍🌈", "𝄞",
        "a", "Z", "0", "9", "-", "_", ".", "ACME", "customer|", "expires", "license", "event-",
    ];

    public static Arbitrary<HostileText> HostileText()
    {
        var piece = Gen.Elements(Pieces);
        var shortText = piece.ListOf().Select(p => string.Concat(p));
        var longText = Gen.Choose(900, 1000).SelectMany(length => piece.ArrayOf(length).Select(p => Cut(string.Concat(p), length)));
        var text = Gen.Frequency((8, shortText), (1, longText));
        return Arb.From(text.Select(v => new HostileText(v)));
    }

    /// <summary>At most <paramref name="length"/> characters, never ending inside a surrogate pair.</summary>
    private static string Cut(string value, int length)
    {
        if (value.Length <= length)
        {
            return value;
        }

        return char.IsHighSurrogate(value[length - 1]) ? value[..(length - 1)] : value[..length];
    }
}
