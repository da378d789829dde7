namespace Smp.Core.Plans;

/// <summary>
/// The shared shape of the short identifiers customers type or paste (serials, update versions): trimmed,
/// 1 to a maximum length of a small ASCII alphabet, compared in upper case.
/// </summary>
internal static class IdentifierText
{
    public static bool IsAsciiLetterOrDigit(char c) => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9');

    /// <summary>The trimmed, upper-cased identifier, or null when it is empty, too long or has a character outside <paramref name="allowed"/>.</summary>
    public static string? Normalize(string? raw, int maxLength, Func<char, bool> allowed)
    {
        var trimmed = raw?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > maxLength)
        {
            return null;
        }

        foreach (var c in trimmed)
        {
            if (!allowed(c))
            {
                return null;
            }
        }

        return trimmed.ToUpperInvariant();
    }
}
