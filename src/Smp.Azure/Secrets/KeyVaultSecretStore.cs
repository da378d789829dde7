using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging;
using Smp.Core.Secrets;

namespace Smp.Azure.Secrets;

/// <summary>
/// <see cref="ISecretStore"/> on Azure Key Vault. Values are stored with content type <c>text/plain</c> and
/// the tags <c>app=smp</c> and <c>purpose</c> (<see cref="SecretName.Purpose"/>). The app's identity needs
/// the Key Vault Secrets Officer role: it reads, lists versions of and writes secrets.
/// </summary>
/// <remarks>
/// Nothing here logs or throws a secret value. The SDK's HTTP logging never records bodies (content
/// logging is forced off whatever the options say), and a failed request becomes a
/// <see cref="SecretStoreException"/> carrying the status, the Key Vault error code and the request id
/// only: the SDK's own exception embeds the raw response, which this store does not pass on.
/// </remarks>
public sealed partial class KeyVaultSecretStore : ISecretStore
{
    private const string ContentType = "text/plain";

    private readonly SecretClient client;
    private readonly TimeSpan createSettleDelay;
    private readonly TimeSpan createQuietPeriod;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<KeyVaultSecretStore> logger;

    /// <param name="options">The vault and how to reach it.</param>
    /// <param name="timeProvider">Times the waits of <see cref="GetOrCreateAsync"/> (the app registers <see cref="TimeProvider.System"/>).</param>
    /// <param name="logger">Where the store logs (never a value).</param>
    public KeyVaultSecretStore(KeyVaultSecretStoreOptions options, TimeProvider timeProvider, ILogger<KeyVaultSecretStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (!options.VaultUri.IsAbsoluteUri || options.VaultUri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("The vault URI must be an absolute https address.", nameof(options));
        }

        var clientOptions = new SecretClientOptions();
        options.ConfigureClient?.Invoke(clientOptions);
        if (options.Transport is not null)
        {
            clientOptions.Transport = options.Transport;
        }

        clientOptions.DisableChallengeResourceVerification = options.DisableChallengeResourceVerification;
        clientOptions.Diagnostics.IsLoggingContentEnabled = false;

        client = new SecretClient(options.VaultUri, options.Credential ?? CreateCredential(options.ManagedIdentityClientId), clientOptions);
        createSettleDelay = options.CreateSettleDelay;
        createQuietPeriod = options.CreateQuietPeriod ?? options.CreateSettleDelay + TimeSpan.FromSeconds(2);
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    public async Task<string?> GetAsync(SecretName name, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        return (await GetLatestAsync(name, cancellationToken))?.Value.Value;
    }

    public async Task SetAsync(SecretName name, string value, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        SecretArguments.ThrowIfInvalidValue(value, name);
        await PutAsync(name, value, cancellationToken);
        LogStored(logger, name.Value);
    }

    /// <summary>
    /// Key Vault has no create-if-absent, so concurrent creators each store a version. To end with one
    /// value, a creator waits a settle delay (2 s) after its write, lists the enabled versions and takes
    /// the first created, ties within Key Vault's whole-second timestamps going to the lowest version id.
    /// A creator whose own value lost stores the winner's value again, so the latest version, which later
    /// readers get, holds the winner's value too.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why every creator picks the same version: a creator's version is stamped with some second S, and it
    /// lists at least one second later, when second S is over, so it sees every version stamped S or
    /// earlier, the first of all versions among them. A shorter delay is not safe: a write landing later in
    /// the same second, with a lower version id, would be first for some creators and not for others.
    /// </para>
    /// <para>
    /// A caller that finds a version younger than the quiet period (settle delay plus 2 s, by the vault's
    /// clock) waits until the latest version is that old before using it: until then a creation race may
    /// still be settling and the latest version may be a loser's, about to be repaired. Every creator
    /// finishes its write, wait, listing and repair within the quiet period of its own write, so once no
    /// version is that young every creator is done and the latest version holds the winner's value. An
    /// operator's new version costs a caller at most one such wait.
    /// </para>
    /// <para>
    /// The remaining gaps: a creator stopped between its write and that repair leaves its own value as the
    /// latest version while the others use the first; the argument assumes the vault stamps versions from
    /// a clock that does not go back. A secret in the soft-deleted state makes the write fail (409) until
    /// it is recovered or purged.
    /// </para>
    /// </remarks>
    /// <summary>
    /// Lists the secret's versions and reads each enabled one, newest first (by creation time, ties by version id).
    /// Disabling a version in the vault is how an operator retires it.
    /// </summary>
    public async Task<IReadOnlyList<string>> GetEnabledVersionsAsync(SecretName name, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        var enabled = new List<SecretProperties>();
        try
        {
            await foreach (var properties in client.GetPropertiesOfSecretVersionsAsync(name.Value, cancellationToken))
            {
                if (properties.Enabled != false && properties.Version is not null)
                {
                    enabled.Add(properties);
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
        catch (RequestFailedException e)
        {
            throw Failure("list the versions of", name, e);
        }

        var values = new List<string>(enabled.Count);
        foreach (var version in enabled
            .OrderByDescending(v => v.CreatedOn ?? DateTimeOffset.MinValue)
            .ThenByDescending(v => v.Version, StringComparer.Ordinal))
        {
            try
            {
                values.Add((await client.GetSecretAsync(name.Value, version.Version, cancellationToken)).Value.Value);
            }
            catch (RequestFailedException e) when (e.Status is 403 or 404)
            {
                // Disabled or deleted between the listing and the read: no longer a version to use.
            }
            catch (RequestFailedException e)
            {
                throw Failure("read a version of", name, e);
            }
        }

        return values;
    }

    public async Task<string> GetOrCreateAsync(SecretName name, Func<string> create, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        ArgumentNullException.ThrowIfNull(create);

        // A version younger than the quiet period may belong to a creation still settling (its creator
        // may yet find it lost): wait until the latest version is old enough, then it is the settled value.
        while (await GetLatestAsync(name, cancellationToken) is { } latest)
        {
            var age = AgeOf(latest);
            if (age is null || age >= createQuietPeriod)
            {
                return latest.Value.Value;
            }

            await Task.Delay(createQuietPeriod - age.Value, timeProvider, cancellationToken);
        }

        var mine = create();
        SecretArguments.ThrowIfInvalidValue(mine, name);
        await PutAsync(name, mine, cancellationToken);
        LogCreated(logger, name.Value);

        if (createSettleDelay > TimeSpan.Zero)
        {
            await Task.Delay(createSettleDelay, timeProvider, cancellationToken);
        }

        var first = await FirstVersionAsync(name, cancellationToken);
        string winner;
        try
        {
            winner = (await client.GetSecretAsync(name.Value, first, cancellationToken: cancellationToken)).Value.Value;
        }
        catch (RequestFailedException e)
        {
            throw Failure("read the first version of", name, e);
        }

        if (!string.Equals(winner, mine, StringComparison.Ordinal))
        {
            await PutAsync(name, winner, cancellationToken);
            LogLostRace(logger, name.Value);
        }

        return winner;
    }

    private async Task<Response<KeyVaultSecret>?> GetLatestAsync(SecretName name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetSecretAsync(name.Value, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            LogNotFound(logger, name.Value);
            return null;
        }
        catch (RequestFailedException e)
        {
            throw Failure("read", name, e);
        }
    }

    /// <summary>How old the version is by the vault's own clock (its Date header), so local clock skew does not count.</summary>
    private static TimeSpan? AgeOf(Response<KeyVaultSecret> response)
    {
        var created = response.Value.Properties.CreatedOn;
        var now = response.GetRawResponse().Headers.Date;
        return created is null || now is null ? null : now.Value - created.Value;
    }

    private async Task<string> FirstVersionAsync(SecretName name, CancellationToken cancellationToken)
    {
        var versions = new List<SecretProperties>();
        try
        {
            await foreach (var properties in client.GetPropertiesOfSecretVersionsAsync(name.Value, cancellationToken))
            {
                if (properties.Enabled != false && properties.Version is not null)
                {
                    versions.Add(properties);
                }
            }
        }
        catch (RequestFailedException e)
        {
            throw Failure("list the versions of", name, e);
        }

        var first = versions
            .OrderBy(v => v.CreatedOn ?? DateTimeOffset.MaxValue)
            .ThenBy(v => v.Version, StringComparer.Ordinal)
            .FirstOrDefault();
        return first?.Version ?? throw new SecretStoreException($"Secret '{name}' has no enabled version right after it was created.");
    }

    private async Task PutAsync(SecretName name, string value, CancellationToken cancellationToken)
    {
        var secret = new KeyVaultSecret(name.Value, value);
        secret.Properties.ContentType = ContentType;
        secret.Properties.Tags["app"] = "smp";
        secret.Properties.Tags["purpose"] = name.Purpose;
        try
        {
            await client.SetSecretAsync(secret, cancellationToken);
        }
        catch (RequestFailedException e)
        {
            throw Failure("write", name, e);
        }
    }

    private static SecretStoreException Failure(string action, SecretName name, RequestFailedException e)
    {
        var code = string.IsNullOrEmpty(e.ErrorCode) ? string.Empty : $" ({e.ErrorCode})";
        var response = e.GetRawResponse();
        var requestId = response is not null && response.Headers.TryGetValue("x-ms-request-id", out var id) ? id : response?.ClientRequestId;
        return new SecretStoreException($"Key Vault could not {action} secret '{name}': status {e.Status}{code}, request id {requestId ?? "unknown"}.");
    }

    private static TokenCredential CreateCredential(string? managedIdentityClientId) =>
        string.IsNullOrWhiteSpace(managedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId.Trim()));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Secret {SecretName} does not exist in Key Vault.")]
    private static partial void LogNotFound(ILogger logger, string secretName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored a new version of secret {SecretName} in Key Vault.")]
    private static partial void LogStored(ILogger logger, string secretName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created secret {SecretName} in Key Vault.")]
    private static partial void LogCreated(ILogger logger, string secretName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secret {SecretName} was created concurrently by another instance; using the first version and storing it again as the latest.")]
    private static partial void LogLostRace(ILogger logger, string secretName);
}
