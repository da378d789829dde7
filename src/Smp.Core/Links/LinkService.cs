using System.Security.Cryptography;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;

namespace Smp.Core.Links;

/// <summary>
/// Makes and checks the customer links that fetch an update password (SPEC sections 3 and 5). The
/// signing key comes from the secret store (<see cref="SecretName.LinkSigningKey"/>, base64 of 32
/// random bytes), is created there on first use, and is then kept in memory for the life of the
/// service. Register it as a singleton.
/// </summary>
public sealed class LinkService(ISecretStore secrets, IClock clock, LinkOptions options)
{
    private const int NewKeyLength = 32;

    private Lazy<Task<LinkSigner>>? signer;

    /// <summary>
    /// <c>{Smp:PublicBaseUrl}/api/updates/{version}/password?serial=..&amp;expires=..&amp;sig=..</c>, valid
    /// for <see cref="LinkOptions.ValidityDays"/> days from now (to the whole second).
    /// </summary>
    public async Task<CustomerLink> CreatePasswordLinkAsync(Serial serial, UpdateVersion version, CancellationToken cancellationToken)
    {
        if (serial.Value is null || version.Value is null)
        {
            throw new ArgumentException("The serial and the version must be set.");
        }

        var linkSigner = await GetSignerAsync(cancellationToken);
        var now = clock.GetCurrentInstant();
        var expires = Instant.FromUnixTimeSeconds(now.Plus(Duration.FromDays(options.ValidityDays)).ToUnixTimeSeconds());
        var signature = linkSigner.Sign(serial, version, expires);

        var baseUrl = options.PublicBaseUrl.AbsoluteUri.TrimEnd('/');
        var url = new Uri(
            $"{baseUrl}/api/updates/{Uri.EscapeDataString(version.Value)}/password" +
            $"?serial={Uri.EscapeDataString(serial.Value)}&expires={LinkSigner.FormatExpires(expires)}&sig={signature}",
            UriKind.Absolute);
        return new CustomerLink(url, expires);
    }

    /// <summary>Checks a link's fields against its signature at the current instant.</summary>
    public async Task<LinkCheck> VerifyPasswordLinkAsync(Serial serial, UpdateVersion version, Instant expires, string? signature, CancellationToken cancellationToken)
    {
        var linkSigner = await GetSignerAsync(cancellationToken);
        return linkSigner.Verify(serial, version, expires, signature, clock.GetCurrentInstant());
    }

    private Task<LinkSigner> GetSignerAsync(CancellationToken cancellationToken)
    {
        // One load for all callers; a failed load is tried again by the next caller. The load does not take
        // a caller's token, so one caller giving up does not fail the others.
        var current = Volatile.Read(ref signer);
        if (current is null || current.Value.IsFaulted || current.Value.IsCanceled)
        {
            var fresh = new Lazy<Task<LinkSigner>>(LoadSignerAsync);
            var previous = Interlocked.CompareExchange(ref signer, fresh, current);
            current = ReferenceEquals(previous, current) ? fresh : previous!;
        }

        var loading = current.Value;
        return loading.IsCompletedSuccessfully ? loading : loading.WaitAsync(cancellationToken);
    }

    private async Task<LinkSigner> LoadSignerAsync()
    {
        var encoded = await secrets.GetOrCreateAsync(SecretName.LinkSigningKey, NewKey, CancellationToken.None);
        var buffer = new byte[encoded.Length];
        try
        {
            if (!Convert.TryFromBase64String(encoded.Trim(), buffer, out var length) || length < LinkSigner.MinKeyLength)
            {
                throw new InvalidOperationException(
                    $"The secret '{SecretName.LinkSigningKey}' must hold base64 of at least {LinkSigner.MinKeyLength} bytes.");
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
}
