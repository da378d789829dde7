using System.Text;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Plans;

/// <summary>Contacts are plain mailbox addresses (local@domain), compared case-insensitively.</summary>
public class EmailAddressTests
{
    [Theory]
    [InlineData("dawne.baker@advancedtubular.com")]
    [InlineData("a@b.co")]
    [InlineData("first.last+smp@mail.example.co.uk")]
    [InlineData("o'neil@example.com")]
    [InlineData("user-1_x@sub-domain.example.org")]
    [InlineData("Buyer@Acme.Example")]
    public void Valid_addresses_are_accepted_and_kept_as_given(string raw)
    {
        Assert.True(EmailAddress.TryParse(raw, out var address));
        Assert.Equal(raw, address.Value);
        Assert.Equal(raw, address.ToString());
    }

    [Fact]
    public void Surrounding_white_space_is_trimmed()
    {
        Assert.True(EmailAddress.TryParse("  buyer@acme.example\t", out var address));
        Assert.Equal("buyer@acme.example", address.Value);
    }

    [Theory]
    [InlineData("Jane Buyer <buyer@acme.example>")]
    [InlineData("<buyer@acme.example>")]
    [InlineData("\"Jane Buyer\" <buyer@acme.example>")]
    [InlineData("\"Jane Buyer\"buyer@acme.example")]
    [InlineData("buyer@acme.example (Jane Buyer)")]
    [InlineData("(Jane)buyer@acme.example")]
    [InlineData("buyer@acme.example, cad@acme.example")]
    [InlineData("buyer@acme.example;cad@acme.example")]
    public void Display_name_comment_and_list_forms_are_rejected(string raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out _));
    }

    [Theory]
    [InlineData("buyer@localhost")]
    [InlineData("buyer@acme")]
    [InlineData("buyer@acme.")]
    [InlineData("buyer@.example")]
    [InlineData("buyer@acme..example")]
    [InlineData("buyer@-acme.example")]
    [InlineData("buyer@acme-.example")]
    public void A_domain_without_a_dot_or_with_an_empty_or_hyphen_edged_label_is_rejected(string raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out _));
    }

    [Theory]
    [InlineData("jane buyer@acme.example")]
    [InlineData("buyer@acme .example")]
    [InlineData("buyer @acme.example")]
    [InlineData("buyer\t@acme.example")]
    [InlineData("buyer@acme\u00A0.example")]
    public void White_space_inside_is_rejected(string raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out _));
    }

    [Theory]
    [InlineData("buyer\u0000@acme.example")]
    [InlineData("buyer@acme.example\u0000")]
    [InlineData("buyer@acme.example\r\nBcc: x@evil.example")]
    [InlineData("bu\u0007yer@acme.example")]
    [InlineData("buyer@acme.exam\u007Fple")]
    public void Control_characters_are_rejected(string raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("buyer")]
    [InlineData("@acme.example")]
    [InlineData("buyer@")]
    [InlineData("buyer@@acme.example")]
    [InlineData("buyer@acme@example.com")]
    public void Missing_parts_are_rejected(string? raw)
    {
        Assert.False(EmailAddress.TryParse(raw, out var address));
        Assert.Equal(default, address);
    }

    [Fact]
    public void Two_hundred_fifty_four_characters_is_the_longest_address()
    {
        var raw = MailboxOfLength(254);

        Assert.True(EmailAddress.TryParse(raw, out var address));
        Assert.Equal(254, address.Value.Length);
    }

    [Fact]
    public void Two_hundred_fifty_five_characters_is_rejected()
    {
        var raw = MailboxOfLength(255);

        Assert.Equal(255, raw.Length);
        Assert.False(EmailAddress.TryParse(raw, out _));
    }

    [Fact]
    public void Equality_ignores_case()
    {
        var lower = EmailAddress.Parse("buyer@acme.example");
        var mixed = EmailAddress.Parse("Buyer@ACME.Example");

        Assert.Equal(lower, mixed);
        Assert.True(lower == mixed);
        Assert.Equal(lower.GetHashCode(), mixed.GetHashCode());
        Assert.Single(new HashSet<EmailAddress> { lower, mixed });
        Assert.Equal("Buyer@ACME.Example", mixed.Value);
    }

    [Fact]
    public void Different_addresses_are_not_equal()
    {
        Assert.NotEqual(EmailAddress.Parse("buyer@acme.example"), EmailAddress.Parse("buyer2@acme.example"));
        Assert.NotEqual(EmailAddress.Parse("buyer@acme.example"), EmailAddress.Parse("buyer@acme.example.com"));
    }

    [Fact]
    public void Parse_throws_a_format_exception_for_an_invalid_address()
    {
        Assert.Throws<FormatException>(() => EmailAddress.Parse("Jane <buyer@acme.example>"));
    }

    /// <summary>A valid mailbox of exactly <paramref name="length"/> characters: a 64-character local part and labels of at most 63.</summary>
    private static string MailboxOfLength(int length)
    {
        var domainLength = length - 64 - 1;
        var domain = new StringBuilder();
        while (domainLength - domain.Length > 63)
        {
            domain.Append('d', 63).Append('.');
        }

        domain.Append('d', domainLength - domain.Length);
        return new string('l', 64) + "@" + domain;
    }
}
