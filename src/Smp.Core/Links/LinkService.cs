using System.Security.Cryptography;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;

namespace Smp.Core.Links;

/// <summary>
/// Makes and checks the customer links that fetch an update password (SPEC sections 3 and 5). The signing keys
/// come from the secret store (<see cref="SecretName.LinkSigningKey"/>, base64 of 32 random bytes each): the
/// newest version signs, every enabled version verifies, so a key rotates by storing a new version and retires by
/// disabling an old one. The key is created on first use. A link's <c>sig</c> is <c>KEYID.MAC</c>; a bare MAC
/// (a link mailed before key ids) is checked against every enabled key. Keys are read again every
/// <see cref="RefreshInterval"/>, and at once (at most every <see cref="UnknownKeyReloadInterval"/>) when a link
/// names a key id not yet known, so a link signed by another instance with a brand-new key verifies. Register it
/// as a singleton.
/// </summary>
public sealed class LinkService(ISecretStore secrets, IClock clock, LinkOptions options) : IDisposable
{
    /// <summary>The length of the key id at the start of a link's <c>sig</c> (<c>KEYID.MAC</c>).</summary>
    public const int KeyIdLength = LinkSigner.KeyIdLength;

    /// <summary>How long the keys read from the store are used before they are read again (a rotation reaches every instance within it).</summary>
    public static readonly Duration RefreshInterval = Duration.FromMinutes(5);

    /// <summary>The least time between two reads caused by a link whose key id is unknown (forged ids cannot make every request read the store).</summary>
    public static readonly Duration UnknownKeyReloadInterval = Duration.FromSeconds(10);

    private const int NewKeyLength = 32;

    private readonly SemaphoreSlim loading = new(1, 1);
    private Keyring? keyring;

    /// <summary>
    /// <c>{Smp:PublicBaseUrl}/api/updates/{version}/password?serial=..&amp;expires=..&amp;sig=KEYID.MAC</c>, signed with
    /// the newest key and valid for <see cref="LinkOptions.ValidityDays"/> days from now (to the whole second).
    /// </summary>
    public async Task<CustomerLink> CreatePasswordLinkAsync(Serial serial, UpdateVersion version, CancellationToken cancellationToken)
    {
        if (serial.Value is null || version.Value is null)
        {
            throw new ArgumentException("The serial and the version must be set.");
        }

        var ring = await GetKeyringAsync(unknownKeyId: null, cancellationToken);
        var now = clock.GetCurrentInstant();
        var expires = Instant.FromUnixTimeSeconds(now.Plus(Duration.FromDays(options.ValidityDays)).ToUnixTimeSeconds());
        var signature = ring.Newest.KeyId + "." + ring.Newest.Sign(serial, version, expires);

        var baseUrl = options.PublicBaseUrl.AbsoluteUri.TrimEnd('/');
        var url = new Uri(
            $"{baseUrl}/api/updates/{Uri.EscapeDataString(version.Value)}/password" +
            $"?serial={Uri.EscapeDataString(serial.Value)}&expires={LinkSigner.FormatExpires(expires)}&sig={signature}",
            UriKind.Absolute);
        return new CustomerLink(url, expires);
    }

    /// <summary>Checks a link's fields against its signature (with the key it names) at the current instant.</summary>
    public async Task<LinkCheck> VerifyPasswordLinkAsync(Serial serial, UpdateVersion version, Instant expires, string? signature, CancellationToken cancellationToken)
    {
        var now = clock.GetCurrentInstant();
        if (signature is not null && signature.Length == KeyIdLength + 1 + LinkSigner.SignatureLength && signature[KeyIdLength] == '.')
        {
            var keyId = signature[..KeyIdLength];
            var ring = await GetKeyringAsync(keyId, cancellationToken);
            return ring.ByKeyId.TryGetValue(keyId, out var signer)
                ? signer.Verify(serial, version, expires, signature[(KeyIdLength + 1)..], now)
                : new LinkCheck.BadSignature();
        }

        if (signature is not null && signature.Length == LinkSigner.SignatureLength)
        {
            // A link from before key ids: whichever enabled key made it.
            var ring = await GetKeyringAsync(unknownKeyId: null, cancellationToken);
            foreach (var signer in ring.ByKeyId.Values)
            {
                var verdict = signer.Verify(serial, version, expires, signature, now);
                if (verdict is not LinkCheck.BadSignature)
                {
                    return verdict;
                }
            }
        }

        return new LinkCheck.BadSignature();
    }

    private async Task<Keyring> GetKeyringAsync(string? unknownKeyId, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref keyring);
        if (current is not null && !NeedsReload(current, unknownKeyId))
        {
            return current;
        }

        // One load at a time; the load itself does not take a caller's token, so one caller giving up does not
        // fail the others. A failed refresh keeps the keys already loaded (tried again after the reload interval);
        // a failed first load fails the call and is tried again by the next one.
        await loading.WaitAsync(cancellationToken);
        try
        {
            current = Volatile.Read(ref keyring);
            if (current is not null && !NeedsReload(current, unknownKeyId))
            {
                return current;
            }

            var now = clock.GetCurrentInstant();
            Keyring fresh;
            try
            {
                fresh = await LoadAsync(now);
            }
            catch (Exception) when (current is not null)
            {
                fresh = current with { LoadedAt = now - RefreshInterval + UnknownKeyReloadInterval };
            }

            Volatile.Write(ref keyring, fresh);
            return fresh;
        }
        finally
        {
            loading.Release();
        }
    }

    private bool NeedsReload(Keyring ring, string? unknownKeyId)
    {
        var age = clock.GetCurrentInstant() - ring.LoadedAt;
        return age >= RefreshInterval
            || (unknownKeyId is not null && !ring.ByKeyId.ContainsKey(unknownKeyId) && age >= UnknownKeyReloadInterval);
    }

    private async Task<Keyring> LoadAsync(Instant now)
    {
        var newest = Parse(await secrets.GetOrCreateAsync(SecretName.LinkSigningKey, NewKey, CancellationToken.None));
        var byKeyId = new Dictionary<string, LinkSigner>(StringComparer.Ordinal) { [newest.KeyId] = newest };
        foreach (var encoded in await secrets.GetEnabledVersionsAsync(SecretName.LinkSigningKey, CancellationToken.None))
        {
            var signer = Parse(encoded);
            byKeyId.TryAdd(signer.KeyId, signer);
        }

        return new Keyring(newest, byKeyId, now);
    }

    private static LinkSigner Parse(string encoded)
    {
        var buffer = new byte[encoded.Length];
        try
        {
            if (!Convert.TryFromBase64String(encoded.Trim(), buffer, out var length) || length < LinkSigner.MinKeyLength)
            {
                throw new InvalidOperationException(
                    $"The secret '{SecretName.LinkSigningKey}' must hold base64 of at least {LinkSigner.MinKeyLength} bytes in every enabled version.");
            }

            return new LinkSigner(buffer.AsSpan(0, length));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    private static string NewKey()
    {
        var key = RandomNumberGenerator.GetBytes(NewKeyLength);
        try
        {
            return Convert.ToBase64String(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public void Dispose() => loading.Dispose();

    private sealed record Keyring(LinkSigner Newest, IReadOnlyDictionary<string, LinkSigner> ByKeyId, Instant LoadedAt);
}
