using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Smp.Azure.Mail;

/// <summary>The three headers that authenticate one request with an ACS access key.</summary>
/// <param name="Date">The <c>x-ms-date</c> value (RFC 1123, UTC).</param>
/// <param name="ContentHash">The <c>x-ms-content-sha256</c> value: base64 SHA-256 of the body.</param>
/// <param name="Authorization">The <c>Authorization</c> value, valid for this request only.</param>
public sealed record AcsRequestSignature(string Date, string ContentHash, string Authorization);

/// <summary>
/// Signs requests to Azure Communication Services with an access key (HMAC-SHA256): the string to
/// sign is <c>VERB\n&lt;path and query&gt;\n&lt;x-ms-date&gt;;&lt;host&gt;;&lt;x-ms-content-sha256&gt;</c>, keyed by
/// the base64-decoded access key. Pure: the same inputs always give the same headers. The key is
/// kept private and never printed.
/// </summary>
public sealed class AcsHmacSigner
{
    public const string SignedHeaders = "x-ms-date;host;x-ms-content-sha256";

    private readonly byte[] key;

    public AcsHmacSigner(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            throw new ArgumentException("The access key is empty.", nameof(key));
        }

        this.key = key.ToArray();
    }

    /// <summary>A signer for the access key as the Azure portal shows it (base64).</summary>
    /// <exception cref="FormatException">The key is not base64; the message does not repeat it.</exception>
    public static AcsHmacSigner FromBase64Key(string accessKey)
    {
        ArgumentNullException.ThrowIfNull(accessKey);
        var buffer = new byte[accessKey.Length];
        if (!Convert.TryFromBase64String(accessKey.Trim(), buffer, out var written) || written == 0)
        {
            throw new FormatException("The access key is not a non-empty base64 string.");
        }

        return new AcsHmacSigner(buffer.AsSpan(0, written));
    }

    /// <summary>The <c>x-ms-content-sha256</c> value for a body (an empty body for GET).</summary>
    public static string ContentHash(ReadOnlySpan<byte> body) => Convert.ToBase64String(SHA256.HashData(body));

    /// <summary>The <c>x-ms-date</c> value: RFC 1123 in UTC, for example <c>Tue, 01 Dec 2026 10:00:00 GMT</c>.</summary>
    public static string FormatDate(DateTimeOffset date) => date.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture);

    /// <summary>
    /// The headers for a request. <paramref name="uri"/> must be the absolute URI the request goes to:
    /// its escaped path and query and its authority (host, and port when not the scheme's default,
    /// as in the <c>Host</c> header) are signed.
    /// </summary>
    public AcsRequestSignature Sign(string method, Uri uri, DateTimeOffset date, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException("The request URI must be absolute.", nameof(uri));
        }

        var xmsDate = FormatDate(date);
        var contentHash = ContentHash(body);
        var stringToSign = string.Create(
            CultureInfo.InvariantCulture,
            $"{method.ToUpperInvariant()}\n{uri.PathAndQuery}\n{xmsDate};{uri.Authority};{contentHash}");
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return new AcsRequestSignature(xmsDate, contentHash, $"HMAC-SHA256 SignedHeaders={SignedHeaders}&Signature={signature}");
    }

    public override string ToString() => "AcsHmacSigner (access key not shown)";
}
