using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>Text generators: hostile pieces that break naive code, and harmless but exotic text that must be accepted.</summary>
public static class FuzzText
{
    /// <summary>Short strings that each break some assumption: about Unicode, keys, filters, headers or quoting.</summary>
    public static readonly string[] HostilePieces =
    [
        // Lone surrogates (only expressible in JSON as escapes), and halves of a real pair.
        "\ud800", "\udfff", "\ud83d", "a\udc00b",
        // Bidirectional overrides and zero-width characters.
        "\u202e", "\u202d", "\u200f", "\u200d", "\u200b", "\u2060", "\ufeff",
        // Combining marks, full-width and other non-ASCII digits.
        "e\u0301", "\u0301", "a\u0338\u0338\u0338", "\uff11\uff12\uff13", "\u0661\u0662", "\u0966",
        // Emoji: plain, a ZWJ sequence, a flag.
        "\U0001F600", "\U0001F469\u200D\U0001F4BB", "\U0001F1FA\U0001F1F8",
        // NUL and other control characters (C0, DEL, C1), line and paragraph separators, odd spaces.
        "\0", "\u0001", "\u0007", "\b", "\t", "\n", "\r\n", "\u001b", "\u001f", "\u007f", "\u0085", "\u009f",
        "\u2028", "\u2029", "\u00a0", "\u3000", " ",
        // Specials and characters whose case mapping changes the length.
        "\ufffd", "\ufffe", "\uffff", "\u0130", "\u0131", "\u00df", "\ufb03", "\u2126",
        // Table-key, URL, OData and quoting hazards.
        "/", "\\", "#", "?", "'", "''", "\"", "%", "%2F", "%00", "~", "~~", "~002F", "|", "{", "}", "&", "=", "+", "*", "..", "../",
        "' or ''='", "PartitionKey eq 'x'", "customer|", "event-", "license",
        // Injection payloads for other layers: markup, templates, mail headers, spreadsheets.
        "<script>alert(1)</script>", "${jndi:ldap://x}", "{{7*7}}", "\r\nBcc: victim@example.com", "=cmd|' /C calc'!A0",
    ];

    /// <summary>Exotic text that is still well-formed and free of control characters.</summary>
    public static readonly string[] BenignPieces =
    [
        "Acme", "Tube", "Works", "GmbH", "&", "'", "\"", "/", "\\", "#", "?", "%", "~", "|", "(", ")", "-", "_", ".", ",",
        " ", "\u00a0", "\u202e", "\u200d", "\u200b", "e\u0301", "\uff11\uff12", "\U0001F600", "\U0001F469\u200D\U0001F4BB",
        "\u6f22\u5b57", "\u0645\u0631\u062d\u0628\u0627", "\u05e2\u05d1\u05e8\u05d9\u05ea", "\u0416", "\u00e9", "\u00df", "\u0130",
        "\ufffd", "\u2126", "42", "7",
    ];

    public static Gen<string> Word { get; } =
        from length in Gen.Choose(1, 8)
        from chars in Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".ToCharArray()).ArrayOf(length)
        select new string(chars);

    public static Gen<string> Hostile { get; } = Gen.Frequency(
        (8, Gen.Elements(HostilePieces).ArrayOf().SelectMany(p => Word.Select(w => Interleave(p, w)))),
        (2, Gen.Elements(HostilePieces)),
        (1, Gen.Choose(990, 1010).SelectMany(length => Gen.Elements(HostilePieces).Select(p => Repeat(p, length)))),
        (1, Gen.Elements(1000, 1001, 65_535, 70_000).Select(length => new string('A', length))));

    /// <summary>Text of 1 to <paramref name="maxLength"/> UTF-16 units that the free-text fields must accept.</summary>
    public static Gen<string> Benign(int maxLength) =>
        from first in Word
        from pieces in Gen.Elements(BenignPieces).ArrayOf()
        from last in Word
        select Cut(first + string.Concat(pieces) + last, maxLength);

    /// <summary>At most <paramref name="length"/> characters, never ending inside a surrogate pair or a ZWJ sequence's first half.</summary>
    public static string Cut(string value, int length)
    {
        if (value.Length <= length)
        {
            return value;
        }

        var cut = char.IsHighSurrogate(value[length - 1]) ? value[..(length - 1)] : value[..length];
        return cut.TrimEnd();
    }

    public static string Repeat(string piece, int length)
    {
        var builder = new StringBuilder(length + piece.Length);
        while (builder.Length < length)
        {
            builder.Append(piece);
        }

        return Cut(builder.ToString(), length);
    }

    /// <summary>Text for failure reports: printable ASCII as it is, everything else escaped, long text shortened.</summary>
    public static string Show(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var shown = new StringBuilder("\"");
        foreach (var c in value.Length > 300 ? value[..200] : value)
        {
            shown.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        if (value.Length > 300)
        {
            shown.Append(CultureInfo.InvariantCulture, $"...\" ({value.Length} chars)");
            return shown.ToString();
        }

        return shown.Append('"').ToString();
    }

    /// <summary>Bytes for failure reports: printable ASCII as it is, other bytes as <c>\xNN</c>, long bodies shortened.</summary>
    public static string Show(byte[]? bytes)
    {
        if (bytes is null)
        {
            return "none";
        }

        var shown = new StringBuilder();
        var head = bytes.Length > 1200 ? bytes.AsSpan(0, 800) : bytes;
        foreach (var b in head)
        {
            shown.Append(b is >= 0x20 and <= 0x7E and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        if (bytes.Length > 1200)
        {
            shown.Append(CultureInfo.InvariantCulture, $"...[{bytes.Length} bytes in all]...");
            foreach (var b in bytes.AsSpan(bytes.Length - 100))
            {
                shown.Append(b is >= 0x20 and <= 0x7E and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
            }
        }

        return shown.ToString();
    }

    private static string Interleave(string[] pieces, string word) =>
        pieces.Length == 0 ? word : string.Concat(pieces.Select((p, i) => i % 2 == 0 ? p : word + p));
}
