using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Smp.Functions.Http;

/// <summary>
/// Identifies the client of a request in the audit trail without keeping its address: a truncated SHA-256 of the
/// address, from the first <c>X-Forwarded-For</c> entry (the front end's view of the client) or else the
/// connection's remote address.
/// </summary>
/// <remarks>
/// The hash lets staff see that two releases came from the same address. It is not anonymous: an IPv4 address
/// can be found again from its hash by trying every address. <c>X-Forwarded-For</c> is what the platform's front
/// end forwards; a client can prepend entries of its own, so the value attributes, it does not authenticate.
/// </remarks>
public static class ClientAddress
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    /// <summary>Hex digits kept of the hash (64 bits).</summary>
    public const int HashLength = 16;

    private const string Label = "smp-client-address/v1\n";

    public static string HashOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var forwarded = request.Headers[ForwardedForHeader].ToString();
        var first = forwarded.Split(',', 2)[0].Trim();
        var address = first.Length > 0 ? Normalize(first) : request.HttpContext.Connection.RemoteIpAddress?.ToString();
        return Hash(address ?? "unknown");
    }

    public static string Hash(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(Label + address));
        return Convert.ToHexStringLower(digest)[..HashLength];
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
