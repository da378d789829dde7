using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Links;

/// <summary>
/// Signs and verifies customer links (SPEC section 5) with HMAC-SHA256 under one key. Pure: the key and
/// the current instant are inputs.
/// </summary>
/// <remarks>
/// The signed message is <c>smp-password-link/v1 LF serial LF version LF expires</c>, where expires is
/// in Unix seconds. No field can contain a line feed (a serial is <c>A-Z 0-9 -</c>, a version
/// <c>0-9 A-Z .</c>, expires <c>-0-9</c>), so each message has exactly one reading, and the leading
/// label keeps these signatures apart from anything else the key might ever sign. The signature is the
/// 32-byte MAC in base64url without padding (43 characters).
/// </remarks>
public sealed class LinkSigner
{
    /// <summary>The shortest key accepted: as long as the HMAC-SHA256 output.</summary>
    public const int MinKeyLength = 32;

    /// <summary>The length of a signature as it appears in a link.</summary>
    public const int SignatureLength = 43;

    private const string Label = "smp-password-link/v1";

    private readonly byte[] key;

    public LinkSigner(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"A link-signing key has at least {MinKeyLength} bytes.", nameof(key));
        }

        this.key = key.ToArray();
        KeyId = ComputeKeyId(key);
    }

    /// <summary>
    /// The key's public id (<see cref="KeyIdLength"/> base64url characters of a labelled SHA-256 of the key): links
    /// carry it so that a verifier picks the key that signed them. It reveals nothing about the key.
    /// </summary>
    public string KeyId { get; }

    /// <summary>The length of a key id.</summary>
    public const int KeyIdLength = 8;

    /// <summary>The signature of a link; <paramref name="expires"/> must be a whole second, as links carry Unix seconds.</summary>
    public string Sign(Serial serial, UpdateVersion version, Instant expires) =>
        Encoding.ASCII.GetString(Mac(serial, version, WholeSeconds(expires)));

    /// <summary>
    /// Checks the signature first and the expiry second, so only a genuine link can be reported as
    /// expired: a tampered or malformed link is <see cref="LinkCheck.BadSignature"/> whatever its date.
    /// A link is valid while <paramref name="now"/> is before <paramref name="expires"/>.
    /// </summary>
    public LinkCheck Verify(Serial serial, UpdateVersion version, Instant expires, string? signature, Instant now)
    {
        if (serial.Value is null || version.Value is null || signature is null || signature.Length != SignatureLength)
        {
            return new LinkCheck.BadSignature();
        }

        var seconds = expires.ToUnixTimeSeconds();
        if (Instant.FromUnixTimeSeconds(seconds) != expires)
        {
            return new LinkCheck.BadSignature(); // Links carry whole seconds; anything finer was not signed by us.
        }

        Span<byte> given = stackalloc byte[SignatureLength];
        for (var i = 0; i < SignatureLength; i++)
        {
            // A non-ASCII character can never match; mapping it to 0 keeps the loop free of early exits.
            var c = signature[i];
            given[i] = c < 128 ? (byte)c : (byte)0;
        }

        // Comparing the canonical text form also refuses non-canonical base64url spellings of the right MAC.
        if (!CryptographicOperations.FixedTimeEquals(Mac(serial, version, seconds), given))
        {
            return new LinkCheck.BadSignature();
        }

        return now < expires
            ? new LinkCheck.Valid(serial, version, expires)
            : new LinkCheck.Expired(serial, version, expires);
    }

    /// <summary>Parses the <c>expires</c> field of a link: Unix seconds, ASCII digits only, in NodaTime's range.</summary>
    public static bool TryParseExpires(string? raw, out Instant expires)
    {
        expires = default;
        if (string.IsNullOrEmpty(raw) || raw.Length > 12 || !raw.All(char.IsAsciiDigit))
        {
            return false;
        }

        var seconds = long.Parse(raw, NumberStyles.None, CultureInfo.InvariantCulture);
        if (seconds > Instant.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        expires = Instant.FromUnixTimeSeconds(seconds);
        return true;
    }

    /// <summary>The <c>expires</c> field of a link.</summary>
    public static string FormatExpires(Instant expires) =>
        WholeSeconds(expires).ToString(CultureInfo.InvariantCulture);

    private static long WholeSeconds(Instant expires)
    {
        var seconds = expires.ToUnixTimeSeconds();
        if (Instant.FromUnixTimeSeconds(seconds) != expires)
        {
            throw new ArgumentException("A link expires on a whole second.", nameof(expires));
        }

        return seconds;
    }

    private static string ComputeKeyId(ReadOnlySpan<byte> key)
    {
        var label = Encoding.ASCII.GetBytes("smp-link-key-id/v1\n");
        var input = new byte[label.Length + key.Length];
        label.CopyTo(input, 0);
        key.CopyTo(input.AsSpan(label.Length));
        try
        {
            return Base64Url.EncodeToString(SHA256.HashData(input))[..KeyIdLength];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    private byte[] Mac(Serial serial, UpdateVersion version, long expiresSeconds)
    {
        var message = Encoding.ASCII.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"{Label}\n{serial.Value}\n{version.Value}\n{expiresSeconds}"));
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, message, mac);
        return Base64Url.EncodeToUtf8(mac);
    }
}
