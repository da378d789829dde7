using Smp.Core.Mail.Templates;
using static Smp.Core.Tests.Mail.MailFixtures;

namespace Smp.Core.Tests.Mail;

public class MailUrlTests
{
    public static TheoryData<string> RefusedAbsoluteUrls =>
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "http://smp.example.com/quote",
        "ftp://smp.example.com/quote",
        "file:///etc/passwd",
        "mailto:renewals@example.com",
        "https://user:secret@smp.example.com/quote",
    ];

    public static TheoryData<string> RefusedRelativeUrls => ["/api/quote-requests", "quote?serial=VT-1001", "//evil.example.com/x"];

    /// <summary>Each kind that carries a link, with that link replaced.</summary>
    private static readonly Func<Uri, MailContent>[] Renderers =
    [
        url => ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1)) with { QuoteRequestUrl = url }),
        url => UpdateAnnouncementMail.Render(Announcement(("VT-1001", April1)) with { Licenses = [new LicensePasswordLink(S("VT-1001"), April1, url)] }),
        url => PasswordLinkMail.Render(PasswordLink() with { PasswordUrl = url }),
        url => PlanTermMail.Render(TermCurrent() with { QuoteRequestUrl = url }),
    ];

    [Theory]
    [MemberData(nameof(RefusedAbsoluteUrls))]
    public void An_absolute_url_that_is_not_https_is_refused(string url)
    {
        foreach (var render in Renderers)
        {
            Assert.Throws<ArgumentException>(() => render(new Uri(url, UriKind.Absolute)));
        }
    }

    [Theory]
    [MemberData(nameof(RefusedRelativeUrls))]
    public void A_relative_url_is_refused(string url)
    {
        foreach (var render in Renderers)
        {
            Assert.Throws<ArgumentException>(() => render(new Uri(url, UriKind.Relative)));
        }
    }

    [Fact]
    public void A_missing_url_is_refused()
    {
        foreach (var render in Renderers)
        {
            Assert.ThrowsAny<ArgumentException>(() => render(null!));
        }
    }

    [Theory]
    [InlineData("http://localhost:7071/api/quote-requests?serial=VT-1001")]
    [InlineData("http://127.0.0.1:7071/api/quote-requests")]
    [InlineData("https://smp.example.com/api/quote-requests?serial=VT-1001&sig=a%2Bb")]
    public void Https_and_local_http_urls_are_written_as_links(string url)
    {
        foreach (var render in Renderers)
        {
            var mail = render(new Uri(url));
            var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
            Assert.Contains(doc.Descendants("a"), a => (string?)a.Attribute("href") == new Uri(url).AbsoluteUri);
            Assert.Contains(new Uri(url).AbsoluteUri, mail.PlainText, StringComparison.Ordinal);
        }
    }
}
