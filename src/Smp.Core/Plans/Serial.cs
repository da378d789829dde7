namespace Smp.Core.Plans;

/// <summary>
/// A dongle serial number (R1): 1-32 characters of <c>A-Z a-z 0-9 -</c>, trimmed and upper-cased.
/// The normalized form is the identity of a license.
/// </summary>
public readonly record struct Serial
{
    public const int MaxLength = 32;

    private Serial(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? raw, out Serial serial)
    {
        var normalized = IdentifierText.Normalize(raw, MaxLength, c => IdentifierText.IsAsciiLetterOrDigit(c) || c == '-');
        serial = normalized is null ? default : new Serial(normalized);
        return normalized is not null;
    }

    public static Serial Parse(string raw) =>
        TryParse(raw, out var serial) ? serial : throw new FormatException("A serial is 1-32 characters of A-Z, a-z, 0-9 and '-'.");

    public override string ToString() => Value ?? string.Empty;
}
