using System.Security.Cryptography;
using System.Text;
using NodaTime;
using Smp.Core.Secrets;

namespace Smp.Functions.Staff;

/// <summary>
/// The console's anti-forgery tokens (SPEC section 8): HMAC-SHA256 of the signed-in person's object id under a key
/// kept in the secret store (<c>smp-console-form-key</c>, 32 random bytes created on first use). The newest key
/// issues; every enabled version verifies, so the key rotates by storing a new version without failing forms already
/// open. A token names its key by a short id, never the key; tokens are compared in constant time.
/// </summary>
public sealed class FormTokens(ISecretStore secrets, IClock clock) : IDisposable
{
    public const string FieldName = "__form";
    public static SecretName KeyName { get; } = SecretName.Parse("smp-console-form-key");

    /// <summary>How long keys are used before they are read again; an unknown key id reloads sooner.</summary>
    public static readonly Duration RefreshInterval = Duration.FromMinutes(5);
    private static readonly Duration UnknownKeyReloadInterval = Duration.FromSeconds(10);
    private const string Purpose = "smp-console-form\n";

    private readonly SemaphoreSlim loading = new(1, 1);
    private Keyring? keyring;

    public async Task<string> IssueAsync(string personId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(personId);
        var ring = await KeysAsync(null, cancellationToken);
        return ring.NewestId + "." + Mac(ring.ById[ring.NewestId], personId);
    }

    public async Task<bool> VerifyAsync(string personId, string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(personId) || string.IsNullOrEmpty(token) || token.Length > 200 || token.Split('.') is not [var keyId, var mac])
        {
            return false;
        }

        var ring = await KeysAsync(keyId, cancellationToken);
        return ring.ById.TryGetValue(keyId, out var key)
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(key, personId)), Encoding.ASCII.GetBytes(mac));
    }

    private static string Mac(byte[] key, string personId) =>
        Base64Url(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Purpose + personId)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task<Keyring> KeysAsync(string? wantedKeyId, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref keyring);
        if (current is not null && !NeedsReload(current, wantedKeyId))
        {
            return current;
        }

        await loading.WaitAsync(cancellationToken);
        try
        {
            current = Volatile.Read(ref keyring);
            if (current is not null && !NeedsReload(current, wantedKeyId))
            {
                return current;
            }

            var newest = await secrets.GetOrCreateAsync(KeyName, NewKey, cancellationToken);
            var byId = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var newestId = Add(byId, newest);
            foreach (var version in await secrets.GetEnabledVersionsAsync(KeyName, cancellationToken))
            {
                Add(byId, version);
            }

            var fresh = new Keyring(newestId, byId, clock.GetCurrentInstant());
            Volatile.Write(ref keyring, fresh);
            return fresh;
        }
        finally
        {
            loading.Release();
        }
    }

    private bool NeedsReload(Keyring ring, string? wantedKeyId)
    {
        var age = clock.GetCurrentInstant() - ring.LoadedAt;
        return age >= RefreshInterval || (wantedKeyId is not null && !ring.ById.ContainsKey(wantedKeyId) && age >= UnknownKeyReloadInterval);
    }

    private static string Add(Dictionary<string, byte[]> byId, string encoded)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(encoded.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The secret '{KeyName}' must hold base64 of at least 32 bytes in every enabled version.");
        }

        if (key.Length < 32)
        {
            throw new InvalidOperationException($"The secret '{KeyName}' must hold base64 of at least 32 bytes in every enabled version.");
        }

        var id = Convert.ToHexStringLower(SHA256.HashData(key))[..8];
        byId.TryAdd(id, key);
        return id;
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public void Dispose() => loading.Dispose();

    private sealed record Keyring(string NewestId, IReadOnlyDictionary<string, byte[]> ById, Instant LoadedAt);
}
