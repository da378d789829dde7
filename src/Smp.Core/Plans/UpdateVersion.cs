
namespace Smp.Core.Plans;

/// <summary>
/// The version of a software update (R13), such as <c>1.96</c>: 1-20 characters of
/// <c>0-9 A-Z a-z .</c>, trimmed.
/// </summary>
/// <remarks>
/// <para>
/// Versions are case-insensitive and normalized to upper case (<c>1.96b</c> is <c>1.96B</c>), like
/// serials. The reason is the password's home: Key Vault secret names are case-insensitive, so
/// <c>smp-update-1-96a</c> and <c>smp-update-1-96A</c> are one secret, and two versions that differ
/// only by case could never hold two passwords. The normalized form is also what customer links sign.
/// </para>
/// <para>
/// Distinct versions never share a secret name: the name replaces <c>.</c> by <c>-</c>, and <c>-</c> is
/// not allowed in a version, so the mapping is one-to-one (<c>1.9.6</c> gives <c>smp-update-1-9-6</c>,
/// <c>1.96</c> gives <c>smp-update-1-96</c>).
/// </para>
/// </remarks>
public readonly record struct UpdateVersion
{
    public const int MaxLength = 20;

    private UpdateVersion(string value) => Value = value;

    /// <summary>The normalized (trimmed, upper-case) version.</summary>
    public string Value { get; }

    public static bool TryParse(string? raw, out UpdateVersion version)
    {
        var normalized = IdentifierText.Normalize(raw, MaxLength, c => IdentifierText.IsAsciiLetterOrDigit(c) || c == '.');
        version = normalized is null ? default : new UpdateVersion(normalized);
        return normalized is not null;
    }

    public static UpdateVersion Parse(string raw) =>
        TryParse(raw, out var version) ? version : throw new FormatException("An update version is 1-20 characters of A-Z, a-z, 0-9 and '.'.");

    public override string ToString() => Value ?? string.Empty;
}
