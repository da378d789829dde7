using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;

namespace Smp.Azure.Secrets;

/// <summary>How <see cref="KeyVaultSecretStore"/> reaches its vault.</summary>
public sealed class KeyVaultSecretStoreOptions
{
    /// <summary>The vault, <c>https://NAME.vault.azure.net/</c> (<c>Smp:Secrets:VaultUri</c>).</summary>
    public required Uri VaultUri { get; init; }

    /// <summary>
    /// The client id of a user-assigned managed identity (<c>Smp:Secrets:ManagedIdentityClientId</c>). When
    /// set, only that identity is used; when not, <c>DefaultAzureCredential</c> (the app's system-assigned
    /// identity in Azure, a developer's own sign-in on a workstation).
    /// </summary>
    public string? ManagedIdentityClientId { get; init; }

    /// <summary>A credential to use instead of the managed identity choice above.</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>The HTTP transport; null for the SDK's default.</summary>
    public HttpPipelineTransport? Transport { get; init; }

    /// <summary>
    /// How long a creator waits after storing a new secret before it looks at every version to pick the
    /// first one (see <see cref="KeyVaultSecretStore.GetOrCreateAsync"/>). At least one second, since Key
    /// Vault stamps versions in whole seconds; not a setting of the app. Tests with a single creator
    /// shorten it.
    /// </summary>
    internal TimeSpan CreateSettleDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How old the latest version must be before a reader trusts it as settled; null for the settle delay plus 2 s.</summary>
    internal TimeSpan? CreateQuietPeriod { get; init; }

    /// <summary>
    /// Lets a test vault on 127.0.0.1 answer the authentication challenge for vault.azure.net. Never set in
    /// the app: it is what stops a look-alike host from obtaining a Key Vault token.
    /// </summary>
    internal bool DisableChallengeResourceVerification { get; init; }

    /// <summary>Further client settings for tests (shorter retries); the store's own safety settings win.</summary>
    internal Action<SecretClientOptions>? ConfigureClient { get; init; }
}
