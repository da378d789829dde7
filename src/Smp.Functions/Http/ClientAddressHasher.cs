using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Smp.Core.Secrets;

namespace Smp.Functions.Http;

/// <summary>
/// Names the client of a request in the audit trail and the anonymous limits without keeping its address: a keyed
/// HMAC-SHA256 of <see cref="ClientAddress.LimitKeyOf"/>, truncated to 64 bits. The key is the secret
/// <c>smp-client-address-key</c> (32 random bytes, created on first use), so nobody without the secret store can
/// find an address again from its hash by trying every address.
/// </summary>
public sealed class ClientAddressHasher(ISecretStore secrets)
{
    /// <summary>Hex digits kept of the HMAC (64 bits).</summary>
    public const int HashLength = 16;

    public static SecretName KeyName { get; } = SecretName.Parse("smp-client-address-key");

    private const int KeyLength = 32;
    private Task<byte[]>? loading;

    /// <summary>The hash of the client address of <paramref name="call"/>'s request.</summary>
    public Task<string> HashOfAsync(HttpCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return HashOfAsync(call.Request, call.Cancellation);
    }

    public async Task<string> HashOfAsync(HttpRequest request, CancellationToken cancellationToken) =>
        await HashAsync(ClientAddress.LimitKeyOf(request), cancellationToken);

    /// <summary>The hash of the IPv6 allocation (/48) of <paramref name="call"/>'s client; null for an IPv4 client.</summary>
    public async Task<string?> NetworkHashOfAsync(HttpCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return ClientAddress.NetworkKeyOf(call.Request) is { } network ? await HashAsync(network, call.Cancellation) : null;
    }

    public async Task<string> HashAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var secret = await KeyAsync().WaitAsync(cancellationToken);
        return Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(address)))[..HashLength];
    }

    /// <summary>Loads (or creates) the key once; a failed load is tried again by the next call.</summary>
    private Task<byte[]> KeyAsync()
    {
        var current = Volatile.Read(ref loading);
        if (current is null || current.IsFaulted || current.IsCanceled)
        {
            var fresh = LoadAsync();
            var previous = Interlocked.CompareExchange(ref loading, fresh, current);
            current = ReferenceEquals(previous, current) ? fresh : previous!;
        }

        return current;
    }

    private async Task<byte[]> LoadAsync()
    {
        var encoded = (await secrets.GetOrCreateAsync(KeyName, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyLength)), CancellationToken.None)).Trim();
        var buffer = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, buffer, out var length) || length < KeyLength)
        {
            throw new InvalidOperationException($"The secret '{KeyName}' must hold base64 of at least {KeyLength} bytes.");
        }

        return buffer[..length];
    }
}
