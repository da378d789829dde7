using Smp.Core.Plans;

namespace Smp.Core.Tests.Plans;

/// <summary>R1: a dongle serial is 1-32 characters of A-Z a-z 0-9 '-', trimmed and upper-cased.</summary>
public class SerialTests
{
    [Theory]
    [InlineData("VT-10042", "VT-10042")]
    [InlineData("vt-10042", "VT-10042")]
    [InlineData("Vt-10042-a", "VT-10042-A")]
    [InlineData("0", "0")]
    [InlineData("z", "Z")]
    [InlineData("-", "-")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")]
    [InlineData("0123456789", "0123456789")]
    public void R1_allowed_characters_are_accepted_and_upper_cased(string raw, string expected)
    {
        Assert.True(Serial.TryParse(raw, out var serial));
        Assert.Equal(expected, serial.Value);
        Assert.Equal(expected, serial.ToString());
    }

    [Theory]
    [InlineData("  vt-10042", "VT-10042")]
    [InlineData("vt-10042  ", "VT-10042")]
    [InlineData("\tvt-10042\r\n", "VT-10042")]
    public void R1_surrounding_white_space_is_trimmed(string raw, string expected)
    {
        Assert.True(Serial.TryParse(raw, out var serial));
        Assert.Equal(expected, serial.Value);
    }

    [Fact]
    public void R1_thirty_two_characters_is_the_longest_serial()
    {
        var raw = new string('a', 31) + "9";

        Assert.True(Serial.TryParse(raw, out var serial));
        Assert.Equal(new string('A', 31) + "9", serial.Value);
    }

    [Fact]
    public void R1_thirty_two_characters_with_white_space_around_them_is_accepted()
    {
        Assert.True(Serial.TryParse("  " + new string('7', 32) + " ", out var serial));
        Assert.Equal(new string('7', 32), serial.Value);
    }

    [Fact]
    public void R1_thirty_three_characters_is_rejected()
    {
        Assert.False(Serial.TryParse(new string('A', 33), out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t\r\n")]
    public void R1_missing_or_empty_serial_is_rejected(string? raw)
    {
        Assert.False(Serial.TryParse(raw, out var serial));
        Assert.Equal(default, serial);
    }

    [Theory]
    [InlineData("VT/10042")]
    [InlineData("VT\\10042")]
    [InlineData("VT#10042")]
    [InlineData("VT?10042")]
    [InlineData("VT_10042")]
    [InlineData("VT.10042")]
    [InlineData("VT+10042")]
    [InlineData("VT%2F10042")]
    public void R1_characters_outside_the_allowed_set_are_rejected(string raw)
    {
        Assert.False(Serial.TryParse(raw, out _));
    }

    [Theory]
    [InlineData("VT 10042")]
    [InlineData("VT\t10042")]
    [InlineData("VT\u00A010042")]
    public void R1_white_space_inside_is_rejected(string raw)
    {
        Assert.False(Serial.TryParse(raw, out _));
    }

    [Theory]
    [InlineData("VT\u000010042")]
    [InlineData("VT-10042\u0000")]
    [InlineData("\u0007VT-10042")]
    [InlineData("VT\u001B10042")]
    [InlineData("VT\u007F10042")]
    [InlineData("VT\u008510042")]
    public void R1_control_characters_are_rejected(string raw)
    {
        Assert.False(Serial.TryParse(raw, out _));
    }

    [Theory]
    [InlineData("VT-1004é")]
    [InlineData("VT-1004\u00C9")]
    [InlineData("VT-ß")]
    [InlineData("VT-\u0130")] // Turkish dotted capital I
    [InlineData("VT-\u0131")] // Turkish dotless small i
    [InlineData("VT-\u212A")] // Kelvin sign, which upper-cases like K in some cultures
    [InlineData("VT-\uFF11\uFF10")] // full-width digits 1 and 0
    [InlineData("VT-\u0661")] // Arabic-Indic digit one
    [InlineData("VT-\uFF21")] // full-width capital A
    [InlineData("VT\u201310042")] // en dash, not a hyphen-minus
    [InlineData("VT-10042\u200B")] // zero-width space, which trimming does not remove
    public void R1_non_ascii_letters_digits_and_dashes_are_rejected(string raw)
    {
        Assert.False(Serial.TryParse(raw, out _));
    }

    [Fact]
    public void R1_parse_throws_a_format_exception_for_an_invalid_serial()
    {
        Assert.Throws<FormatException>(() => Serial.Parse("VT/10042"));
    }

    [Fact]
    public void R1_one_license_per_serial_the_normalized_form_is_the_identity()
    {
        Assert.Equal(Serial.Parse("  vt-10042 "), Serial.Parse("VT-10042"));
        Assert.NotEqual(Serial.Parse("VT-10042"), Serial.Parse("VT-10043"));
    }
}
