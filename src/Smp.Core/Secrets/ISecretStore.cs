namespace Smp.Core.Secrets;

/// <summary>
/// Where update passwords and the link-signing key live (Key Vault in Azure, a folder for local runs).
/// Implementations never write a secret value to a log, an exception message or a <c>ToString()</c>.
/// </summary>
public interface ISecretStore
{
    /// <summary>The current value of the secret, or null when there is no such secret.</summary>
    Task<string?> GetAsync(SecretName name, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="value"/> (not empty) as the current value of the secret, replacing any earlier one.</summary>
    Task SetAsync(SecretName name, string value, CancellationToken cancellationToken);

    /// <summary>
    /// The current value of the secret; when there is none, stores one made by <paramref name="create"/> first.
    /// Concurrent callers, in this process or in others sharing the store, all end with the same value:
    /// a caller whose value lost a race returns the winner's value, never its own.
    /// </summary>
    Task<string> GetOrCreateAsync(SecretName name, Func<string> create, CancellationToken cancellationToken);

    /// <summary>
    /// The values of every enabled version of the secret, newest first as far as the store can tell (empty when
    /// there is no such secret). A store
    /// without versions returns the current value alone. Used for keys that rotate: older versions keep verifying
    /// until an operator disables them.
    /// </summary>
    Task<IReadOnlyList<string>> GetEnabledVersionsAsync(SecretName name, CancellationToken cancellationToken);
}
