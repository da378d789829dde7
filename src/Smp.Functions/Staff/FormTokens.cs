using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NodaTime;
using Smp.Core.Secrets;

namespace Smp.Functions.Staff;

/// <summary>
/// The console's anti-forgery tokens (SPEC section 8): the issue time and an HMAC-SHA256 of the signed-in person's
/// object id, their sign-in session (Entra ID's <c>sid</c> claim, when the platform passes it) and that issue time,
/// under a key kept in the secret store (<c>smp-console-form-key</c>, 32 random bytes created on first use). The newest key
/// issues; every enabled version verifies, so the key rotates by storing a new version without failing forms already
/// open. A token names its key by a short id, never the key; tokens are compared in constant time. A token is accepted
/// for <see cref="Lifetime"/> after it was issued, and refused when its issue time lies more than <see cref="ClockSkew"/>
/// ahead of the clock.
/// </summary>
public sealed class FormTokens(ISecretStore secrets, IClock clock) : IDisposable
{
    public const string FieldName = "__form";
    public static SecretName KeyName { get; } = SecretName.Parse("smp-console-form-key");

    /// <summary>How long keys are used before they are read again; an unknown key id reloads sooner.</summary>
    public static readonly Duration RefreshInterval = Duration.FromMinutes(5);

    /// <summary>How long a form token is accepted after it was issued.</summary>
    public static readonly Duration Lifetime = Duration.FromHours(4);

    /// <summary>How far in the future an issue time may lie (clocks of instances differ a little).</summary>
    public static readonly Duration ClockSkew = Duration.FromMinutes(5);
    private static readonly Duration UnknownKeyReloadInterval = Duration.FromSeconds(10);
    private const string Purpose = "smp-console-form-v2\n";

    private readonly SemaphoreSlim loading = new(1, 1);
    private Keyring? keyring;

    /// <summary>A token for <paramref name="person"/>'s sign-in, issued now: <c>keyId.issuedAtUnixSeconds.mac</c>.</summary>
    public async Task<string> IssueAsync(StaffPerson person, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentException.ThrowIfNullOrEmpty(person.Id);
        var ring = await KeysAsync(null, cancellationToken);
        var issued = clock.GetCurrentInstant().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return ring.NewestId + "." + issued + "." + Mac(ring.ById[ring.NewestId], person, issued);
    }

    /// <summary>Whether <paramref name="token"/> was issued by this console to <paramref name="person"/>'s sign-in within its lifetime.</summary>
    public async Task<FormTokenCheck> CheckAsync(StaffPerson person, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(person);
        if (string.IsNullOrEmpty(person.Id) || string.IsNullOrEmpty(token) || token.Length > 200 || token.Split('.') is not [var keyId, var issued, var mac]
            || issued.Length is 0 or > 12 || !long.TryParse(issued, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return FormTokenCheck.NotIssuedToThisSignIn;
        }

        var ring = await KeysAsync(keyId, cancellationToken);
        if (!ring.ById.TryGetValue(keyId, out var key)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(key, person, issued)), Encoding.ASCII.GetBytes(mac)))
        {
            return FormTokenCheck.NotIssuedToThisSignIn;
        }

        var age = clock.GetCurrentInstant() - NodaTime.Instant.FromUnixTimeSeconds(seconds);
        return age > Lifetime ? FormTokenCheck.Expired : age < -ClockSkew ? FormTokenCheck.FromTheFuture : FormTokenCheck.Valid;
    }

    /// <summary>The MAC binds the person's object id, their sign-in session when the platform names one, and the issue time.</summary>
    private static string Mac(byte[] key, StaffPerson person, string issued) =>
        Base64Url(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"{Purpose}{person.Id.Length}:{person.Id}\n{person.Session?.Length ?? 0}:{person.Session}\n{issued}"))));

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

/// <summary>What a posted form token is.</summary>
public enum FormTokenCheck
{
    Valid,

    /// <summary>Missing, malformed, under an unknown key, or issued to another person or another sign-in session.</summary>
    NotIssuedToThisSignIn,

    /// <summary>Issued to this sign-in more than <see cref="FormTokens.Lifetime"/> ago.</summary>
    Expired,

    /// <summary>Its issue time lies more than <see cref="FormTokens.ClockSkew"/> ahead of the clock.</summary>
    FromTheFuture,
}
