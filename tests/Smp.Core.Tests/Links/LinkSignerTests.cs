using System.Text;
using NodaTime;
using Smp.Core.Links;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Links;

public class LinkSignerTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly Serial Serial = Serial.Parse("VT-12345");
    private static readonly Serial OtherSerial = Serial.Parse("VT-12346");
    private static readonly UpdateVersion Version = UpdateVersion.Parse("1.96");
    private static readonly Instant Expires = Instant.FromUtc(2027, 4, 1, 12, 0, 0);
    private static readonly Instant Before = Expires - Duration.FromDays(3);

    private readonly LinkSigner signer = new(Key);

    [Fact]
    public void A_genuine_link_before_its_expiry_is_valid()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.Equal(new LinkCheck.Valid(Serial, Version, Expires), signer.Verify(Serial, Version, Expires, sig, Before));
    }

    [Fact]
    public void The_signature_is_43_characters_of_base64url_without_padding()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.Equal(LinkSigner.SignatureLength, sig.Length);
        Assert.All(sig, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
    }

    [Fact]
    public void Signing_is_deterministic_and_depends_on_the_key()
    {
        var other = new LinkSigner(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());

        Assert.Equal(signer.Sign(Serial, Version, Expires), new LinkSigner(Key).Sign(Serial, Version, Expires));
        Assert.NotEqual(signer.Sign(Serial, Version, Expires), other.Sign(Serial, Version, Expires));
        Assert.IsType<LinkCheck.BadSignature>(other.Verify(Serial, Version, Expires, signer.Sign(Serial, Version, Expires), Before));
    }

    [Fact]
    public void A_changed_serial_is_a_bad_signature()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial.Parse("VT-1234"), Version, Expires, sig, Before));
    }

    [Fact]
    public void A_link_for_one_serial_used_for_another_is_a_bad_signature()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(OtherSerial, Version, Expires, sig, Before));
    }

    [Fact]
    public void A_changed_version_is_a_bad_signature()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, UpdateVersion.Parse("1.97"), Expires, sig, Before));
        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, UpdateVersion.Parse("1.9.6"), Expires, sig, Before));
    }

    [Fact]
    public void A_changed_expiry_is_a_bad_signature()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires + Duration.FromSeconds(1), sig, Before));
        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires + Duration.FromDays(365), sig, Before));
    }

    [Fact]
    public void A_changed_signature_is_a_bad_signature()
    {
        var sig = signer.Sign(Serial, Version, Expires);
        var changed = (sig[0] == 'A' ? "B" : "A") + sig[1..];

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires, changed, Before));
    }

    [Fact]
    public void Fields_cannot_be_shifted_between_each_other()
    {
        // "VT-1" + "2.5" and "VT-12" + ".5" would read alike in a plain concatenation.
        var sig = signer.Sign(Serial.Parse("VT-1"), UpdateVersion.Parse("2.5"), Expires);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial.Parse("VT-12"), UpdateVersion.Parse(".5"), Expires, sig, Before));
    }

    [Fact]
    public void A_genuine_link_after_its_expiry_is_expired()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.Equal(new LinkCheck.Expired(Serial, Version, Expires), signer.Verify(Serial, Version, Expires, sig, Expires + Duration.FromDays(30)));
    }

    [Fact]
    public void A_link_is_valid_up_to_the_instant_before_its_expiry_and_expired_from_that_instant()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.IsType<LinkCheck.Valid>(signer.Verify(Serial, Version, Expires, sig, Expires - Duration.Epsilon));
        Assert.IsType<LinkCheck.Expired>(signer.Verify(Serial, Version, Expires, sig, Expires));
        Assert.IsType<LinkCheck.Expired>(signer.Verify(Serial, Version, Expires, sig, Expires + Duration.Epsilon));
    }

    [Fact]
    public void A_tampered_expired_link_is_a_bad_signature_not_expired()
    {
        var sig = signer.Sign(Serial, Version, Expires);
        var later = Expires + Duration.FromDays(30);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(OtherSerial, Version, Expires, sig, later));
        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires - Duration.FromDays(1), sig, later));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("not base64url at all, but exactly 43 chars!")]
    [InlineData("++++++++++++++++++++++++++++++++++++++++++/")]
    [InlineData("ééééééééééééééééééééééééééééééééééééééééééé")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void A_malformed_signature_is_a_bad_signature_without_throwing(string? sig) =>
        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires, sig, Before));

    [Fact]
    public void The_signature_with_padding_or_in_standard_base64_is_refused()
    {
        var sig = signer.Sign(Serial, Version, Expires);
        var padded = sig + "=";
        var standard = sig.Replace('-', '+').Replace('_', '/');

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires, padded, Before));
        if (standard != sig)
        {
            Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires, standard, Before));
        }
    }

    [Fact]
    public void A_non_canonical_spelling_of_the_right_mac_is_refused()
    {
        // 43 base64url characters carry 258 bits for a 256-bit MAC: the last character's low 2 bits are
        // padding, and a lenient decoder would accept four spellings of one MAC.
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var sig = signer.Sign(Serial, Version, Expires);
        var last = Alphabet.IndexOf(sig[^1], StringComparison.Ordinal);
        var sibling = sig[..^1] + Alphabet[last ^ 1];

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires, sibling, Before));
    }

    [Fact]
    public void A_default_serial_or_version_is_a_bad_signature()
    {
        var sig = signer.Sign(Serial, Version, Expires);

        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(default, Version, Expires, sig, Before));
        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, default, Expires, sig, Before));
    }

    [Fact]
    public void Links_expire_on_whole_seconds()
    {
        Assert.Throws<ArgumentException>(() => signer.Sign(Serial, Version, Expires + Duration.FromMilliseconds(1)));

        var sig = signer.Sign(Serial, Version, Expires);
        Assert.IsType<LinkCheck.BadSignature>(signer.Verify(Serial, Version, Expires + Duration.FromMilliseconds(1), sig, Before));
    }

    [Fact]
    public void A_short_key_is_refused() =>
        Assert.Throws<ArgumentException>(() => new LinkSigner(new byte[31]));

    [Theory]
    [InlineData("1806580800", true)]
    [InlineData("0", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("-1", false)]
    [InlineData("+1", false)]
    [InlineData(" 1", false)]
    [InlineData("1e9", false)]
    [InlineData("１２", false)]
    [InlineData("999999999999", false)]
    [InlineData("9999999999999999999999", false)]
    public void The_expires_field_is_unix_seconds_in_ascii_digits(string? raw, bool valid) =>
        Assert.Equal(valid, LinkSigner.TryParseExpires(raw, out _));

    [Fact]
    public void The_expires_field_round_trips()
    {
        Assert.True(LinkSigner.TryParseExpires(LinkSigner.FormatExpires(Expires), out var parsed));
        Assert.Equal(Expires, parsed);
    }

    [Fact]
    public void Verdicts_never_print_the_signature_or_the_key()
    {
        var sig = signer.Sign(Serial, Version, Expires);
        var keyTexts = new[] { Convert.ToBase64String(Key), Convert.ToHexString(Key), Encoding.Latin1.GetString(Key) };
        var verdicts = new LinkCheck[]
        {
            signer.Verify(Serial, Version, Expires, sig, Before),
            signer.Verify(Serial, Version, Expires, sig, Expires),
            signer.Verify(OtherSerial, Version, Expires, sig, Before),
        };

        Assert.Collection(verdicts, v => Assert.IsType<LinkCheck.Valid>(v), v => Assert.IsType<LinkCheck.Expired>(v), v => Assert.IsType<LinkCheck.BadSignature>(v));
        foreach (var text in verdicts.Select(v => v.ToString()).Append(signer.ToString()))
        {
            Assert.DoesNotContain(sig, text, StringComparison.Ordinal);
            Assert.All(keyTexts, k => Assert.DoesNotContain(k, text, StringComparison.OrdinalIgnoreCase));
        }
    }
}
