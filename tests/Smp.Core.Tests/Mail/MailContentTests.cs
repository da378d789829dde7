using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Mail.Templates;
using Smp.Core.Plans;
using static Smp.Core.Tests.Mail.MailFixtures;

namespace Smp.Core.Tests.Mail;

public class MailContentTests
{
    private static readonly string[] ThreeSerials = ["VT-1001", "VT-1002", "VT-1003"];

    [Fact]
    public void Every_serial_of_a_three_license_reminder_appears_in_both_bodies_with_its_date()
    {
        var mail = ReminderMail.Render(ReminderThreeSameDate(ReminderWording.Early));

        foreach (var serial in ThreeSerials)
        {
            Assert.Contains($"- {serial}: expires on 1 April 2027\n", mail.PlainText, StringComparison.Ordinal);
            Assert.Contains($"<li><strong>{serial}</strong>: expires on 1 April 2027</li>", mail.Html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Licenses_are_listed_by_expiry_date_then_serial_whatever_the_callers_order()
    {
        var mail = ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1003", April1), ("VT-1002", April1), ("VT-0999", March1)));

        var positions = new[] { "VT-0999", "VT-1002", "VT-1003" }.Select(s => mail.PlainText.IndexOf(s, StringComparison.Ordinal)).ToArray();
        Assert.All(positions, p => Assert.True(p >= 0));
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public void The_90_day_and_30_day_reminders_differ_in_wording()
    {
        var early = ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1)));
        var last = ReminderMail.Render(Reminder(ReminderWording.Final, ("VT-1001", April1)));

        Assert.NotEqual(early.Subject, last.Subject);
        Assert.NotEqual(early.PlainText, last.PlainText);
        Assert.NotEqual(early.Html, last.Html);
        Assert.StartsWith("Final reminder: ", last.Subject, StringComparison.Ordinal);
        Assert.Contains("early reminder", early.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain("last reminder", early.PlainText, StringComparison.Ordinal);
        Assert.Contains("last reminder", last.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain("early reminder", last.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void Reminder_subjects_name_the_product_and_the_serial_or_the_count()
    {
        Assert.Equal(
            "VTube-LASER maintenance plan VT-1001 expires on 1 April 2027",
            ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1))).Subject);
        Assert.Equal(
            "3 VTube-LASER maintenance plans expire on 1 April 2027",
            ReminderMail.Render(ReminderThreeSameDate(ReminderWording.Early)).Subject);
        Assert.Equal(
            "2 VTube-LASER maintenance plans expire soon",
            ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1), ("VT-1002", March1))).Subject);
    }

    [Fact]
    public void A_reminder_says_how_to_ask_for_a_quotation_both_ways()
    {
        var mail = ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1)));

        Assert.Contains("reply to this email", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains(Desk.Value, mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("\n" + QuoteUrl.AbsoluteUri + "\n", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains(">Request a renewal quotation</a>", mail.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void An_announcement_carries_one_personal_link_per_license()
    {
        var mail = UpdateAnnouncementMail.Render(Announcement(("VT-1001", April1), ("VT-1002", March1)));

        var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
        Assert.Equal(
            [PasswordUrl("VT-1002").AbsoluteUri, PasswordUrl("VT-1001").AbsoluteUri],
            doc.Descendants("a").Select(a => (string?)a.Attribute("href")));
        Assert.Contains("  " + PasswordUrl("VT-1001").AbsoluteUri + "\n", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("29 January 2027", mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void The_quote_notification_lists_each_serial_with_its_expiry_and_next_term()
    {
        var mail = QuoteNotificationMail.Render(QuoteNotification(Contacts, ("VT-1001", April1), ("VT-2001", March1)));

        var doc = HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
        var rows = doc.Descendants("tbody").Single().Elements("tr")
            .Select(tr => string.Join(" | ", tr.Elements().Select(cell => cell.Value)))
            .ToArray();
        Assert.Equal(
            [
                "VT-2001 | 1 March 2027 | 1 April 2027 | 1 April 2028 | 12",
                "VT-1001 | 1 April 2027 | 1 April 2027 | 1 April 2028 | 12",
            ],
            rows);
        Assert.Contains("VT-1001  1 April 2027  1 April 2027     1 April 2028   12\n", mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void A_quote_line_is_taken_from_the_proposed_renewal_term()
    {
        var term = PlanRules.RenewalTerm(April1, new LocalDate(2027, 5, 20), 24, null);

        var line = QuoteLine.For(S("VT-1001"), April1, term);

        Assert.Equal(new QuoteLine(S("VT-1001"), April1, new LocalDate(2027, 6, 1), new LocalDate(2029, 6, 1), 24), line);
    }

    [Fact]
    public void A_quote_line_refuses_a_term_counted_in_days()
    {
        var trial = new Term(TermKind.Initial, April1, April1.PlusDays(30), null, 30, TermSource.Activation, null, April1);

        Assert.Throws<ArgumentException>(() => QuoteLine.For(S("VT-1001"), April1, trial));
    }

    [Fact]
    public void An_incomplete_model_is_refused_rather_than_rendered_with_a_hole()
    {
        var reminder = Reminder(ReminderWording.Early, ("VT-1001", April1));

        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { Licenses = [] }));
        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { Licenses = default }));
        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { Licenses = [new PlanExpiry(S("VT-1001"), April1), new PlanExpiry(S("vt-1001"), March1)] }));
        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { Licenses = [new PlanExpiry(default, April1)] }));
        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { CustomerName = " \r\n " }));
        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { Product = "" }));
        Assert.ThrowsAny<ArgumentException>(() => ReminderMail.Render(reminder with { RenewalsDesk = default }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReminderMail.Render(reminder with { Wording = (ReminderWording)7 }));
        Assert.ThrowsAny<ArgumentException>(() => PasswordLinkMail.Render(PasswordLink() with { Serial = default }));
        Assert.ThrowsAny<ArgumentException>(() => PasswordLinkMail.Render(PasswordLink() with { Version = "" }));
        Assert.ThrowsAny<ArgumentException>(() => PlanTermMail.Render(TermCurrent() with { Terms = ImmutableArray<Term>.Empty }));
        Assert.ThrowsAny<ArgumentException>(() => QuoteAcknowledgementMail.Render(QuoteAcknowledgement() with { }));
        Assert.Throws<ArgumentNullException>(() => ReminderMail.Render(null!));
    }

    [Fact]
    public void No_mail_text_has_trailing_spaces_or_carriage_returns()
    {
        foreach (var (name, render) in Cases)
        {
            var mail = render();
            foreach (var body in new[] { mail.PlainText, mail.Html })
            {
                Assert.DoesNotContain('\r', body);
                Assert.DoesNotContain(" \n", body, StringComparison.Ordinal);
                Assert.EndsWith("\n", body, StringComparison.Ordinal);
            }

            HtmlChecks.AssertOnlyRendererMarkup(mail.Html, mail.Subject);
            Assert.Contains(Product, mail.Subject, StringComparison.Ordinal);
            Assert.True(mail.Html.Contains(Product, StringComparison.Ordinal), name);
        }
    }
}
