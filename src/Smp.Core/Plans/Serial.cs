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
        serial = default;
        if (raw is null)
        {
            return false;
        }

        var trimmed = raw.Trim();
        if (trimmed.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in trimmed)
        {
            if (!(c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        serial = new Serial(trimmed.ToUpperInvariant());
        return true;
    }

    public static Serial Parse(string raw) =>
        TryParse(raw, out var serial) ? serial : throw new FormatException("A serial is 1-32 characters of A-Z, a-z, 0-9 and '-'.");

    public override string ToString() => Value ?? string.Empty;
}
