using System.Text;
using Smp.Azure.Mail;

namespace Smp.Azure.Tests.Mail;

/// <summary>
/// Fixed vectors. The expected values were computed outside .NET, with OpenSSL, from the documented
/// algorithm: base64(SHA-256(body)) and base64(HMAC-SHA256(key, "VERB\npath?query\ndate;host;hash")).
/// </summary>
public class AcsHmacSignerTests
{
    // Bytes 0x00..0x1f.
    private const string Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    private static readonly DateTimeOffset Date = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Signs_a_send_request_as_computed_by_hand()
    {
        var signer = AcsHmacSigner.FromBase64Key(Key);

        var signature = signer.Sign(
            "POST",
            new Uri("https://contoso.communication.azure.com/emails:send?api-version=2025-09-01"),
            Date,
            Encoding.UTF8.GetBytes("""{"senderAddress":"a@b.c"}"""));

        Assert.Equal("Tue, 01 Dec 2026 10:00:00 GMT", signature.Date);
        Assert.Equal("JppGVhXOsxjTDFEjYrQyeJE/eLwcSbSYvYuKFodVIO0=", signature.ContentHash);
        Assert.Equal(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=1/+swvj3sgB0knd8t9oUXCfDICPcirtHgp00OSavclU=",
            signature.Authorization);
    }

    [Fact]
    public void Signs_a_get_with_the_hash_of_an_empty_body_and_the_port_in_the_host()
    {
        var signer = AcsHmacSigner.FromBase64Key(Key);

        var signature = signer.Sign(
            "GET",
            new Uri("https://127.0.0.1:8443/emails/operations/0f8fad5b-d9cb-469f-a165-70867728950e?api-version=2025-09-01"),
            Date.ToOffset(TimeSpan.FromHours(-7)),
            []);

        Assert.Equal("Tue, 01 Dec 2026 10:00:00 GMT", signature.Date);
        Assert.Equal("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", signature.ContentHash);
        Assert.Equal(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=zwNMCXxgdJekKE9KIn68DCcryoOxQpzS/RJj3lVQGEA=",
            signature.Authorization);
    }

    [Fact]
    public void Never_shows_the_key()
    {
        var signer = AcsHmacSigner.FromBase64Key(Key);

        Assert.DoesNotContain(Key, signer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_that_is_not_base64_is_refused_without_repeating_it()
    {
        const string notAKey = "secret-but-not-base64!";

        var error = Assert.Throws<FormatException>(() => AcsHmacSigner.FromBase64Key(notAKey));

        Assert.DoesNotContain(notAKey, error.ToString(), StringComparison.Ordinal);
    }
}
