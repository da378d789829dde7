using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Smp.Azure.Secrets;
using Smp.Functions.Http;

namespace Smp.Functions.Tests;

/// <summary>SPEC section 5: the client address is the one the platform's front end saw, kept only as a keyed hash.</summary>
public sealed class ClientAddressTests : IDisposable
{
    private readonly string _secrets = Directory.CreateTempSubdirectory("smp-secrets-").FullName;

    public void Dispose() => Directory.Delete(_secrets, recursive: true);

    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("203.0.113.7:50432")]
    [InlineData(" 10.0.0.4 , 203.0.113.7")]
    [InlineData("198.51.100.1, 192.0.2.9, 203.0.113.7:443")]
    [InlineData("forged-by-the-caller,203.0.113.7, ")]
    public void Section5_the_client_address_is_the_last_forwarded_entry_the_front_end_appended_never_one_the_caller_wrote(string forwardedFor) =>
        Assert.Equal("203.0.113.7", ClientAddress.AddressOf(Request(forwardedFor, remote: "10.1.1.1")));

    [Theory]
    [InlineData("[2001:db8::1]:443")]
    [InlineData("2001:DB8:0::1")]
    public void An_IPv6_address_is_taken_in_its_canonical_form(string forwardedFor) =>
        Assert.Equal("2001:db8::1", ClientAddress.AddressOf(Request(forwardedFor, remote: null)));

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("[2001:db8:1:2:ffff:ffff:ffff:ffff]:443", "2001:db8:1:2::/64")]
    [InlineData("2001:DB8:1:2:a:b:c:d", "2001:db8:1:2::/64")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("[::ffff:203.0.113.7]:443", "203.0.113.7")]
    [InlineData("203.0.113.7:50432", "203.0.113.7")]
    [InlineData("not-an-address", "not-an-address")]
    public void Section5_the_limits_key_IPv6_clients_on_their_64_bit_prefix_and_mapped_IPv4_as_IPv4(string forwardedFor, string expected) =>
        Assert.Equal(expected, ClientAddress.LimitKeyOf(Request(forwardedFor, remote: null)));

    [Fact]
    public void Section5_the_limits_key_an_IPv6_connection_address_on_its_prefix() =>
        Assert.Equal("2001:db8:9:9::/64", ClientAddress.LimitKeyOf(Request(null, remote: "2001:db8:9:9:1:2:3:4")));

    [Fact]
    public async Task Section5_every_address_of_one_IPv6_64_bit_prefix_hashes_alike_for_the_limits()
    {
        var hasher = new ClientAddressHasher(new LocalFolderSecretStore(_secrets, NullLogger<LocalFolderSecretStore>.Instance));

        var one = await hasher.HashOfAsync(Request("2001:db8:1:2::1", remote: null), CancellationToken.None);
        var other = await hasher.HashOfAsync(Request("2001:db8:1:2:dead:beef:0:7", remote: null), CancellationToken.None);
        var nextPrefix = await hasher.HashOfAsync(Request("2001:db8:1:3::1", remote: null), CancellationToken.None);

        Assert.Equal(one, other);
        Assert.NotEqual(one, nextPrefix);
    }

    [Fact]
    public void Without_the_header_the_connection_address_is_used() =>
        Assert.Equal("192.0.2.44", ClientAddress.AddressOf(Request(null, remote: "192.0.2.44")));

    [Fact]
    public async Task Section5_the_address_is_kept_as_an_HMAC_keyed_by_a_secret_of_the_secret_store_not_a_public_hash()
    {
        var store = new LocalFolderSecretStore(_secrets, NullLogger<LocalFolderSecretStore>.Instance);
        var hasher = new ClientAddressHasher(store);

        var hash = await hasher.HashOfAsync(Request("198.51.100.1, 192.0.2.44", remote: "10.1.1.1"), CancellationToken.None);

        var key = Convert.FromBase64String((await store.GetAsync(ClientAddressHasher.KeyName, CancellationToken.None))!);
        Assert.True(key.Length >= 32);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("192.0.2.44")))[..ClientAddressHasher.HashLength];
        Assert.Equal(expected, hash);
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("smp-client-address/v1\n192.0.2.44")))[..16], hash);
        Assert.True(hash.All(char.IsAsciiHexDigitLower));

        // The key stays: a second hasher on the same store gives the same hash; another address another hash.
        var again = new ClientAddressHasher(store);
        Assert.Equal(hash, await again.HashAsync("192.0.2.44", CancellationToken.None));
        Assert.NotEqual(hash, await again.HashAsync("192.0.2.45", CancellationToken.None));
    }

    private static HttpRequest Request(string? forwardedFor, string? remote)
    {
        var context = new DefaultHttpContext();
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        if (remote is not null)
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        }

        return context.Request;
    }
}
