using System.Net;
using Microsoft.AspNetCore.Http;

namespace Smp.Functions.Http;

/// <summary>
/// The client of a request as the platform's front end saw it: the last <c>X-Forwarded-For</c> entry (the one the
/// front end appended; entries before it are whatever the caller wrote), or else the connection's remote address.
/// </summary>
public static class ClientAddress
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    /// <summary>The client's address without a port, in canonical form when it parses; "unknown" when there is none.</summary>
    public static string AddressOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var forwarded = request.Headers[ForwardedForHeader].ToString();
        var last = forwarded.Split(',').Select(e => e.Trim()).LastOrDefault(e => e.Length > 0);
        var address = last is not null ? Normalize(last) : request.HttpContext.Connection.RemoteIpAddress?.ToString();
        return string.IsNullOrEmpty(address) ? "unknown" : address;
    }

    /// <summary>
    /// What the anonymous limits count a client by: an IPv4 address (an IPv4-mapped IPv6 one as IPv4), and an IPv6
    /// address by its /64 prefix (<c>2001:db8:1:2::/64</c>): one subscriber usually holds a whole /64, so its 2^64
    /// addresses would otherwise each get their own allowance.
    /// </summary>
    public static string LimitKeyOf(HttpRequest request)
    {
        var address = AddressOf(request);
        if (!IPAddress.TryParse(address, out var parsed))
        {
            return address;
        }

        if (parsed.IsIPv4MappedToIPv6)
        {
            return parsed.MapToIPv4().ToString();
        }

        if (parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        var bytes = parsed.GetAddressBytes();
        bytes.AsSpan(8).Clear();
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>
    /// The IPv6 allocation of the client (its /48 prefix, <c>2001:db8:1::/48</c>: what one site is usually given),
    /// counted by <c>Smp:AnonymousLimits:PerNetworkPerDay</c>; null for an IPv4 client (an IPv4-mapped one included)
    /// or an address that does not parse.
    /// </summary>
    public static string? NetworkKeyOf(HttpRequest request)
    {
        if (!IPAddress.TryParse(AddressOf(request), out var parsed) || parsed.IsIPv4MappedToIPv6
            || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return null;
        }

        var bytes = parsed.GetAddressBytes();
        bytes.AsSpan(6).Clear();
        return new IPAddress(bytes) + "/48";
    }

    /// <summary>The address without a port (<c>203.0.113.7:5123</c>, <c>[2001:db8::1]:443</c>), in its canonical text form when it parses.</summary>
    private static string Normalize(string value)
    {
        if (IPAddress.TryParse(value, out var parsed))
        {
            return parsed.ToString();
        }

        if (value.StartsWith('[') && value.IndexOf(']', StringComparison.Ordinal) is > 1 and var end
            && IPAddress.TryParse(value.AsSpan(1, end - 1), out var bracketed))
        {
            return bracketed.ToString();
        }

        var colon = value.LastIndexOf(':');
        if (colon > 0 && value.IndexOf(':', StringComparison.Ordinal) == colon && IPAddress.TryParse(value.AsSpan(0, colon), out var withPort))
        {
            return withPort.ToString();
        }

        return value;
    }
}
