using System.Net;
using Microsoft.AspNetCore.Http;
using Smp.Functions.Http;

namespace Smp.Functions.Tests;

public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.7")]
    [InlineData("203.0.113.7:50432")]
    [InlineData(" 203.0.113.7 , 10.0.0.4")]
    [InlineData("203.0.113.7:443, 198.51.100.1")]
    public void The_first_forwarded_address_is_hashed_without_its_port(string forwardedFor) =>
        Assert.Equal(ClientAddress.Hash("203.0.113.7"), ClientAddress.HashOf(Request(forwardedFor, remote: "10.1.1.1")));

    [Theory]
    [InlineData("[2001:db8::1]:443")]
    [InlineData("2001:DB8:0::1")]
    public void An_IPv6_address_is_hashed_in_its_canonical_form(string forwardedFor) =>
        Assert.Equal(ClientAddress.Hash("2001:db8::1"), ClientAddress.HashOf(Request(forwardedFor, remote: null)));

    [Fact]
    public void Without_the_header_the_connection_address_is_used()
    {
        var hash = ClientAddress.HashOf(Request(null, remote: "192.0.2.44"));

        Assert.Equal(ClientAddress.Hash("192.0.2.44"), hash);
        Assert.Equal(ClientAddress.HashLength, hash.Length);
        Assert.True(hash.All(char.IsAsciiHexDigitLower));
        Assert.DoesNotContain("192", hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Different_addresses_give_different_hashes() =>
        Assert.NotEqual(ClientAddress.Hash("192.0.2.44"), ClientAddress.Hash("192.0.2.45"));

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
