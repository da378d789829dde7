using System.Collections.Immutable;
using Smp.Core.Mail;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Mail;

public class OutgoingMailTests
{
    private static readonly EmailAddress From = EmailAddress.Parse("smp@vendor.example.com");
    private static readonly ImmutableArray<EmailAddress> To = [EmailAddress.Parse("ana@customer.example.org")];

    [Theory]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e")]
    [InlineData("0F8FAD5B-D9CB-469F-A165-70867728950E")]
    public void A_guid_in_its_36_character_form_is_a_mail_id(string id)
    {
        Assert.True(OutgoingMail.IsValidId(id));
        Assert.Equal(id, Create(id).Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0f8fad5bd9cb469fa16570867728950e")]
    [InlineData("{0f8fad5b-d9cb-469f-a165-70867728950e}")]
    [InlineData("../0f8fad5b-d9cb-469f-a165-70867728950")]
    [InlineData("not-a-guid")]
    public void Anything_else_is_refused_as_a_mail_id(string id)
    {
        Assert.False(OutgoingMail.IsValidId(id));
        Assert.Throws<ArgumentException>(() => Create(id));
        Assert.Throws<ArgumentException>(() => Create(Guid.NewGuid().ToString("D")) with { Id = id });
    }

    [Fact]
    public void A_mail_needs_a_recipient_and_a_sender()
    {
        Assert.Throws<ArgumentException>(() => Create(Guid.NewGuid().ToString("D")) with { To = [] });
        Assert.Throws<ArgumentException>(() => Create(Guid.NewGuid().ToString("D")) with { To = default });
        Assert.Throws<ArgumentException>(() => Create(Guid.NewGuid().ToString("D")) with { To = [default] });
        Assert.Throws<ArgumentException>(() => Create(Guid.NewGuid().ToString("D")) with { From = default });
    }

    [Theory]
    [InlineData("Renewal\r\nBcc: someone@example.com")]
    [InlineData("Two\nlines")]
    public void A_subject_is_one_line(string subject)
    {
        Assert.Throws<ArgumentException>(() => Create(Guid.NewGuid().ToString("D")) with { Subject = subject });
    }

    private static OutgoingMail Create(string id) => new(id, From, To, null, "Subject", "text", "<p>html</p>");
}
