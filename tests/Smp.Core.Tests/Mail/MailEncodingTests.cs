using FsCheck.Xunit;
using Smp.Core.Mail.Templates;
using Smp.Core.Plans;
using static Smp.Core.Tests.Mail.MailFixtures;

namespace Smp.Core.Tests.Mail;

public class MailEncodingTests
{
    private const string Hostile = "<script>alert(1)</script> & \"Co\"";
    private const string EncodedHostile = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;";
    private const string Breakout = "Acme\" onmouseover=\"alert(1)\" x=\"</p><img src=x onerror=alert(1)>'";

    [Fact]
    public void Customer_name_with_markup_is_encoded_in_html_and_verbatim_in_text()
    {
        var mail = ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1)) with { CustomerName = Hostile });

        Assert.Contains(EncodedHostile, mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", mail.Html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Hostile, mail.PlainText, StringComparison.Ordinal);
        var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
        Assert.Contains(Hostile, HtmlChecks.VisibleText(doc), StringComparison.Ordinal);
    }

    public static TheoryData<string> HostileCases => [.. HostileMails.Keys];

    /// <summary>Every free-text value of every kind set to markup that tries to open elements or leave an attribute.</summary>
    private static readonly Dictionary<string, Func<MailContent>> HostileMails = new()
    {
        ["reminder"] = () => ReminderMail.Render(ReminderThreeSameDate(ReminderWording.Final) with { CustomerName = Breakout, Product = Hostile }),
        ["announcement"] = () => UpdateAnnouncementMail.Render(Announcement(("VT-1001", April1)) with { CustomerName = Breakout, Product = Hostile, Version = Breakout }),
        ["password-link"] = () => PasswordLinkMail.Render(PasswordLink() with { CustomerName = Breakout, Product = Hostile, Version = Breakout }),
        ["term"] = () =>
        {
            var model = TermCurrent();
            return PlanTermMail.Render(model with
            {
                CustomerName = Breakout,
                Product = Hostile,
                Terms = [.. model.Terms.Select(t => t with { OrderReference = Breakout })],
            });
        },
        ["quote-ack"] = () => QuoteAcknowledgementMail.Render(QuoteAcknowledgement(("VT-1001", April1)) with { CustomerName = Breakout, Product = Hostile }),
        ["quote-notification"] = () => QuoteNotificationMail.Render(QuoteNotification(Contacts, ("VT-1001", April1)) with
        {
            Customer = new Customer(Breakout, Breakout),
            Product = Hostile,
        }),
    };

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void No_value_can_add_markup_or_leave_an_attribute(string kind)
    {
        var mail = HostileMails[kind]();

        var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
        Assert.DoesNotContain("<script", mail.Html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", mail.Html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onmouseover=\"", mail.Html, StringComparison.Ordinal);
        Assert.Contains(Hostile, HtmlChecks.VisibleText(doc), StringComparison.Ordinal);
        Assert.Contains(Hostile, mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void A_line_break_in_a_value_cannot_add_a_header_or_a_line()
    {
        var mail = QuoteNotificationMail.Render(QuoteNotification(Contacts, ("VT-1001", April1)) with
        {
            Customer = new Customer("C-1", "Acme\r\nBcc: someone@example.com\n\nInjected paragraph"),
        });

        Assert.DoesNotContain('\r', mail.Subject);
        Assert.DoesNotContain('\n', mail.Subject);
        Assert.Equal("Quotation request: Acme Bcc: someone@example.com Injected paragraph, VTube-LASER VT-1001", mail.Subject);
        Assert.DoesNotContain("\nBcc:", mail.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain("\nInjected", mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void A_quote_in_a_url_cannot_leave_the_href_attribute()
    {
        var url = new Uri("https://smp.example.com/quote?x=\"><script>alert(1)</script>&y='1'");
        var mail = ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1)) with { QuoteRequestUrl = url });

        Assert.DoesNotContain("\"><script>", mail.Html, StringComparison.Ordinal);
        var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
        var href = (string?)doc.Descendants("a").Single().Attribute("href");
        Assert.Equal(url.AbsoluteUri, href);
        Assert.Contains("&amp;y=", mail.Html, StringComparison.Ordinal);
        Assert.Contains(url.AbsoluteUri, mail.PlainText, StringComparison.Ordinal);
    }

    /// <summary>Whatever string a customer name is, the HTML stays the renderer's own and shows the name as text.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay, MaxTest = 300)]
    public void Any_customer_name_renders_as_text(string? name)
    {
        var model = QuoteNotification(Contacts, ("VT-1001", April1)) with { Customer = new Customer("C-1", name!) };
        if (string.IsNullOrWhiteSpace(MailFormatProbe.Clean(name)))
        {
            Assert.ThrowsAny<ArgumentException>(() => QuoteNotificationMail.Render(model));
            return;
        }

        var mail = QuoteNotificationMail.Render(model);
        var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
        var shown = MailFormatProbe.Clean(name);
        Assert.Contains(shown, mail.Subject, StringComparison.Ordinal);
        Assert.Contains(shown, mail.PlainText, StringComparison.Ordinal);
        Assert.Contains(string.Join(' ', shown.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), HtmlChecks.VisibleText(doc), StringComparison.Ordinal);
    }
}

/// <summary>The renderer's own cleaning of values, to know what a value should look like in a mail.</summary>
internal static class MailFormatProbe
{
    public static string Clean(string? value) => MailFormat.Clean(value);
}
