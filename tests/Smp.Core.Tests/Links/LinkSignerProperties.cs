using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Links;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Links;

/// <summary>A genuine link as it travels (four text fields), one character of which is then changed.</summary>
public sealed record TamperedLink(byte[] Key, string Serial, string Version, string Expires, string Signature, int Field, int Position, char Replacement, long NowOffsetSeconds)
{
    public override string ToString() =>
        $"field {Field} position {Position} -> '{Replacement}' of serial={Serial} version={Version} expires={Expires} now offset={NowOffsetSeconds}s";
}

public static class LinkArbitraries
{
    private const string SerialChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
    private const string VersionChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.";

    // Anything a tamperer might type, including characters the parsers refuse.
    private const string Replacements =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+/= %&?#\n\t\0éЖ漢";

    public static Arbitrary<TamperedLink> TamperedLinks() =>
        (from key in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 32)
         from serialLength in Gen.Choose(1, SpecLimits.SerialMaxLength)
         from serial in Gen.ArrayOf(Gen.Elements(SerialChars.ToCharArray()), serialLength)
         from versionLength in Gen.Choose(1, SpecLimits.VersionMaxLength)
         from version in Gen.ArrayOf(Gen.Elements(VersionChars.ToCharArray()), versionLength)
         from expires in Gen.Choose(1_700_000_000, 2_100_000_000)
         from field in Gen.Choose(0, 3)
         from position in Gen.Choose(0, 63)
         from replacement in Gen.Elements(Replacements.ToCharArray())
         from nowOffset in Gen.Choose(-100_000, 100_000)
         let link = Sign(key, new string(serial), new string(version), expires)
         select link with { Field = field, Position = position, Replacement = replacement, NowOffsetSeconds = nowOffset })
        .ToArbitrary();

    private static TamperedLink Sign(byte[] key, string serial, string version, long expires)
    {
        var instant = Instant.FromUnixTimeSeconds(expires);
        var sig = new LinkSigner(key).Sign(Serial.Parse(serial), UpdateVersion.Parse(version), instant);
        return new TamperedLink(key, serial, version, LinkSigner.FormatExpires(instant), sig, 0, 0, ' ', 0);
    }
}

public class LinkSignerProperties
{
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay, Arbitrary = [typeof(LinkArbitraries)], MaxTest = 500)]
    public bool Any_single_character_change_to_any_field_invalidates_the_link(TamperedLink link)
    {
        var fields = new[] { link.Serial, link.Version, link.Expires, link.Signature };
        var field = fields[link.Field];
        var position = link.Position % field.Length;
        var original = field[position];

        // Serials and versions are case-insensitive: 'a' for 'A' names the same license or update,
        // so it is no change at all. Every other replacement is a real change.
        var caseInsensitive = link.Field is 0 or 1;
        if (link.Replacement == original || (caseInsensitive && char.ToUpperInvariant(link.Replacement) == original))
        {
            return true;
        }

        fields[link.Field] = string.Concat(field.AsSpan(0, position), link.Replacement.ToString(), field.AsSpan(position + 1));

        // A field that no longer parses never reaches the signer: the link is refused all the same.
        if (!Serial.TryParse(fields[0], out var serial)
            || !UpdateVersion.TryParse(fields[1], out var version)
            || !LinkSigner.TryParseExpires(fields[2], out var expires))
        {
            return true;
        }

        var now = Instant.FromUnixTimeSeconds(long.Parse(link.Expires, System.Globalization.CultureInfo.InvariantCulture) + link.NowOffsetSeconds);
        return new LinkSigner(link.Key).Verify(serial, version, expires, fields[3], now) is LinkCheck.BadSignature;
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay, Arbitrary = [typeof(LinkArbitraries)], MaxTest = 200)]
    public bool An_untouched_link_is_valid_before_its_expiry_and_expired_from_it(TamperedLink link)
    {
        var serial = Serial.Parse(link.Serial);
        var version = UpdateVersion.Parse(link.Version);
        Assert.True(LinkSigner.TryParseExpires(link.Expires, out var expires));
        var now = expires + Duration.FromSeconds(link.NowOffsetSeconds);

        var verdict = new LinkSigner(link.Key).Verify(serial, version, expires, link.Signature, now);
        return link.NowOffsetSeconds < 0 ? verdict is LinkCheck.Valid : verdict is LinkCheck.Expired;
    }
}
