using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Secrets;

/// <summary>
/// The name of a secret, valid in Azure Key Vault and as a file name: 1-127 characters of
/// <c>0-9 a-z A-Z -</c>. Key Vault compares secret names case-insensitively, so the name is
/// normalized to lower case and the local folder store (one file per name) behaves the same.
/// </summary>
public readonly record struct SecretName
{
    public const int MaxLength = 127;

    /// <summary>The <c>purpose</c> tag of update passwords.</summary>
    public const string UpdatePasswordPurpose = "smp-update";

    /// <summary>The <c>purpose</c> tag of the key that signs customer links.</summary>
    public const string LinkSigningPurpose = "smp-link-signing";

    private const string UpdatePrefix = "smp-update-";

    private SecretName(string value) => Value = value;

    /// <summary>The normalized (lower-case) name.</summary>
    public string Value { get; }

    /// <summary>The key that signs customer links (SPEC section 5), created on first use.</summary>
    public static SecretName LinkSigningKey { get; } = new("smp-link-signing-key");

    /// <summary>
    /// What the secret is for, as the adapters tag it: <see cref="UpdatePasswordPurpose"/>,
    /// <see cref="LinkSigningPurpose"/>, or <c>smp</c> for any other name.
    /// </summary>
    public string Purpose =>
        Value is null ? "smp"
        : Value.StartsWith(UpdatePrefix, StringComparison.Ordinal) ? UpdatePasswordPurpose
        : Value == LinkSigningKey.Value ? LinkSigningPurpose
        : "smp";

    /// <summary>The secret that holds an update's password (R13): <c>smp-update-</c> and the version with <c>.</c> replaced by <c>-</c>.</summary>
    public static SecretName ForUpdate(UpdateVersion version)
    {
        if (version.Value is null)
        {
            throw new ArgumentException("The update version is not set.", nameof(version));
        }

        // Versions never contain '-', so replacing '.' keeps distinct versions distinct.
        return Parse(UpdatePrefix + version.Value.Replace('.', '-'));
    }

    public static bool TryParse(string? raw, out SecretName name)
    {
        name = default;
        if (raw is null || raw.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in raw)
        {
            if (!(c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        name = new SecretName(raw.ToLowerInvariant());
        return true;
    }

    public static SecretName Parse(string raw) =>
        TryParse(raw, out var name) ? name : throw new FormatException("A secret name is 1-127 characters of 0-9, a-z, A-Z and '-'.");

    public override string ToString() => Value ?? string.Empty;
}
