using System.Net.Mail;

namespace Smp.Core.Plans;

/// <summary>
/// A plain mailbox address (<c>local@domain</c>), without display name or comments. Compared
/// case-insensitively, stored as given (trimmed).
/// </summary>
public readonly record struct EmailAddress
{
    public const int MaxLength = 254;

    private EmailAddress(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? raw, out EmailAddress address)
    {
        address = default;
        var trimmed = raw?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in trimmed)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or '(' or ')' or ',' or ';' or '"' or '\\')
            {
                return false;
            }
        }

        if (!MailAddress.TryCreate(trimmed, out var parsed) || !string.Equals(parsed.Address, trimmed, StringComparison.Ordinal))
        {
            return false;
        }

        // A deliverable domain has at least one dot, no empty labels and no leading/trailing hyphen.
        var domain = parsed.Host;
        if (!domain.Contains('.', StringComparison.Ordinal) || domain.Split('.').Any(l => l.Length == 0 || l.StartsWith('-') || l.EndsWith('-')))
        {
            return false;
        }

        address = new EmailAddress(trimmed);
        return true;
    }

    public static EmailAddress Parse(string raw) =>
        TryParse(raw, out var a) ? a : throw new FormatException("Not a valid email address.");

    public bool Equals(EmailAddress other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Value ?? string.Empty);

    public override string ToString() => Value ?? string.Empty;
}
