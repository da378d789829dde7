using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Digest;
using Smp.Core.Mail.Templates;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Digest;

/// <summary>
/// SPEC section 11, worked examples. The digest is computed on Monday 7 December 2026 (ISO week 2026-W50): expiring means
/// an expiry date from 8 December 2026 to 7 March 2027, lapsed one from 7 November to 7 December 2026, quote requests
/// those of 24 November to 7 December 2026.
/// </summary>
public sealed class DigestRulesTests
{
    private static readonly LocalDate Today = Given.Date("2026-12-07");
    private static readonly Customer Beta = new("CUST-007", "Beta Bending");
    private static readonly Uri BaseUrl = new("https://smp.example.com/");

    /// <summary>One year from 1 January 2026: expires 1 January 2027, 25 days after today.</summary>
    private static License ExpiringSoon(string serial, Customer? customer = null) =>
        Of(Given.ActivatedOn("2025-12-10", onSiteTraining: true), serial, customer);

    private static License Of(License license, string serial, Customer? customer = null) =>
        license with
        {
            Serial = Serial.Parse(serial),
            Activation = license.Activation with { Customer = customer ?? Given.Acme },
        };

    private static License WithReminderSent(License license, int days, string sentOn) =>
        license with
        {
            Reminders = license.Reminders.Add(new ReminderRecord(new ReminderStage(days), license.ExpiresOn, ReminderOutcome.Sent, Given.NoonOn(Given.Date(sentOn)), "mail-" + days)),
        };

    private static LicenseEvent QuoteRequestedOn(string day) =>
        new(LicenseEventTypes.QuoteRequested, Given.NoonOn(Given.Date(day)), "ProcessCustomerRequests", "corr-q", ImmutableSortedDictionary<string, string>.Empty);

    private static DigestSource Source(License license, params LicenseEvent[] events) => new(license, events);

    private static RenewalsDigest Compute(IEnumerable<DigestSource> byExpiry, IEnumerable<DigestQuoteRequest>? quotes = null, int failed = 0) =>
        DigestRules.Compute(Today, byExpiry, quotes ?? [], failed, Given.BusinessZone);

    [Fact]
    public void Section11_the_week_is_the_iso_week_of_the_business_date()
    {
        Assert.Equal("2026-W50", IsoWeek.Of(Today).ToString());
        Assert.Equal("2026-W53", IsoWeek.Of(Given.Date("2027-01-01")).ToString()); // Friday of the last week of 2026
        Assert.Equal("2027-W01", IsoWeek.Of(Given.Date("2027-01-04")).ToString());
    }

    [Fact]
    public void Section11_expiring_lists_reminders_sent_and_the_quote_request_not_renewed_since()
    {
        var license = WithReminderSent(ExpiringSoon("VT-A"), 90, "2026-10-03");

        var digest = Compute([Source(license, QuoteRequestedOn("2026-11-20"))]);

        var customer = Assert.Single(digest.Expiring);
        Assert.Equal(Given.Acme, customer.Customer);
        var line = Assert.Single(customer.Licenses);
        Assert.Equal(Given.Date("2027-01-01"), line.ExpiresOn);
        Assert.Equal(new DigestReminder("90-day", Given.Date("2026-10-03")), Assert.Single(line.Reminders));
        Assert.Equal(Given.Date("2026-11-20"), line.QuoteRequestedOn);
        Assert.Null(line.RenewedOn);
        Assert.Empty(digest.Lapsed);
        Assert.False(digest.IsEmpty);
    }

    [Fact]
    public void Section11_a_renewal_recorded_after_the_quote_request_shows_as_renewed_since()
    {
        // Quote requested 25 November; renewed for one month on 2 December: expires 1 February 2027, still within 90 days.
        var license = ExpiringSoon("VT-G").RenewedOn("2026-12-02", months: 1);

        var digest = Compute(
            [Source(license, QuoteRequestedOn("2026-11-25"))],
            [new DigestQuoteRequest(Source(license, QuoteRequestedOn("2026-11-25")), Given.Date("2026-11-25"))]);

        var line = Assert.Single(Assert.Single(digest.Expiring).Licenses);
        Assert.Equal(Given.Date("2027-02-01"), line.ExpiresOn);
        Assert.Equal(Given.Date("2026-11-25"), line.QuoteRequestedOn);
        Assert.Equal(Given.Date("2026-12-02"), line.RenewedOn);
        Assert.Empty(digest.Quotes); // answered by the renewal
    }

    [Fact]
    public void Section11_without_a_quote_request_renewed_since_counts_from_the_last_reminder()
    {
        var reminded = WithReminderSent(ExpiringSoon("VT-R"), 90, "2026-10-03").RenewedOn("2026-10-20", months: 1);
        var renewedBefore = ExpiringSoon("VT-S").RenewedOn("2026-09-20", months: 1);
        renewedBefore = WithReminderSent(renewedBefore, 90, "2026-11-03");

        var digest = Compute([Source(reminded), Source(renewedBefore)]);

        var lines = Assert.Single(digest.Expiring).Licenses.ToDictionary(l => l.Serial.Value);
        Assert.Null(lines["VT-R"].QuoteRequestedOn);
        Assert.Equal(Given.Date("2026-10-20"), lines["VT-R"].RenewedOn);
        Assert.Null(lines["VT-S"].RenewedOn); // renewed before the reminder listed
    }

    [Fact]
    public void Section11_lapsed_in_the_last_30_days_without_renewal_and_not_earlier_lapses()
    {
        // Expired 1 December 2026 (6 days ago), 1 October 2026 (67 days ago), and one renewed after it lapsed.
        var lapsed = Of(Given.ActivatedOn("2025-11-10", onSiteTraining: true), "VT-B", Beta);
        var lapsedLongAgo = Of(Given.ActivatedOn("2025-09-10", onSiteTraining: true), "VT-C");
        var renewedAfterLapse = Of(Given.ActivatedOn("2025-11-10", onSiteTraining: true), "VT-D").RenewedOn("2026-12-03");

        var digest = Compute([Source(lapsedLongAgo), Source(lapsed), Source(renewedAfterLapse)]);

        var customer = Assert.Single(digest.Lapsed);
        Assert.Equal(Beta, customer.Customer);
        Assert.Equal("VT-B", Assert.Single(customer.Licenses).Serial.Value);
        Assert.Equal(Given.Date("2026-12-01"), customer.Licenses[0].ExpiresOn);
        Assert.Empty(digest.Expiring);
    }

    [Fact]
    public void Section11_a_license_expiring_today_has_lapsed_and_one_expiring_in_90_days_is_expiring()
    {
        // Activated 10 November 2025 with training: expires 1 December 2026; as of that day it has lapsed.
        var license = Of(Given.ActivatedOn("2025-11-10", onSiteTraining: true), "VT-E");
        var onItsExpiry = DigestRules.Compute(Given.Date("2026-12-01"), [Source(license)], [], 0, Given.BusinessZone);
        var ninetyDaysBefore = DigestRules.Compute(Given.Date("2026-09-02"), [Source(license)], [], 0, Given.BusinessZone);
        var ninetyOneDaysBefore = DigestRules.Compute(Given.Date("2026-09-01"), [Source(license)], [], 0, Given.BusinessZone);

        Assert.Single(onItsExpiry.Lapsed);
        Assert.Empty(onItsExpiry.Expiring);
        Assert.Single(ninetyDaysBefore.Expiring);
        Assert.True(ninetyOneDaysBefore.IsEmpty);
    }

    [Fact]
    public void Section11_a_replaced_license_is_never_listed_and_its_plan_appears_once_under_the_new_serial()
    {
        var old = ExpiringSoon("VT-OLD") with
        {
            Replacement = new Replacement(Serial.Parse("VT-NEW"), "broken", Given.NoonOn(Given.Date("2026-11-02")), "ReplaceDongle", "corr-r", Completed: true),
        };
        var replacement = ExpiringSoon("VT-NEW") with { ReplacementOf = Serial.Parse("VT-OLD") };

        var digest = Compute(
            [Source(old), Source(replacement), Source(replacement)],
            [new DigestQuoteRequest(Source(old, QuoteRequestedOn("2026-12-01")), Given.Date("2026-12-01"))]);

        Assert.Equal(["VT-NEW"], digest.Expiring.SelectMany(c => c.Licenses).Select(l => l.Serial.Value));
        Assert.Empty(digest.Lapsed);
        Assert.Empty(digest.Quotes);
    }

    [Fact]
    public void Section11_quote_requests_of_the_last_14_days_with_no_renewal_since_whatever_the_expiry()
    {
        // Expires 1 April 2027 (outside the 90 days): listed for its quote request of 1 December all the same.
        var later = Of(Given.ActivatedOn("2026-03-10", onSiteTraining: true), "VT-Q");
        var tooOld = Of(Given.ActivatedOn("2026-03-10", onSiteTraining: true), "VT-OLDQ");

        var digest = Compute(
            [],
            [
                new DigestQuoteRequest(Source(later, QuoteRequestedOn("2026-12-01")), Given.Date("2026-12-01")),
                new DigestQuoteRequest(Source(later, QuoteRequestedOn("2026-12-01")), Given.Date("2026-11-30")),
                new DigestQuoteRequest(Source(tooOld, QuoteRequestedOn("2026-11-23")), Given.Date("2026-11-23")),
            ]);

        var line = Assert.Single(Assert.Single(digest.Quotes).Licenses);
        Assert.Equal("VT-Q", line.Serial.Value);
        Assert.Equal(Given.Date("2026-12-01"), line.QuoteRequestedOn);
        Assert.Equal(Given.Date("2027-04-01"), line.ExpiresOn);
    }

    [Fact]
    public void Section11_lists_are_grouped_by_customer_in_name_order()
    {
        var digest = Compute([Source(ExpiringSoon("VT-2")), Source(ExpiringSoon("VT-3", Beta)), Source(ExpiringSoon("VT-1"))]);

        Assert.Equal(["Acme Tube Works", "Beta Bending"], digest.Expiring.Select(c => c.Customer.Name));
        Assert.Equal(["VT-1", "VT-2"], digest.Expiring[0].Licenses.Select(l => l.Serial.Value));
    }

    [Fact]
    public void Section11_an_empty_digest_says_so_in_one_line()
    {
        var digest = Compute([]);

        var mail = RenewalsDigestMail.Render(digest, BaseUrl);

        Assert.True(digest.IsEmpty);
        Assert.Equal("Renewals digest, week 2026-W50", mail.Subject);
        var nothing = Assert.Single(mail.PlainText.Split('\n'), l => l.StartsWith("Nothing to report", StringComparison.Ordinal));
        Assert.Contains("no plan expires in the next 90 days", nothing, StringComparison.Ordinal);
        Assert.DoesNotContain("Expiring in the next", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("Nothing to report this week", mail.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Section11_failed_mail_alone_makes_a_digest_that_is_not_empty()
    {
        var mail = RenewalsDigestMail.Render(Compute([], failed: 2), BaseUrl);

        Assert.DoesNotContain("Nothing to report", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("2 messages could not be delivered", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("https://smp.example.com/console/mail", mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void Section11_the_mail_groups_by_customer_writes_dates_out_links_each_serial_to_its_console_page_and_encodes_values()
    {
        var odd = new Customer("CUST-<9>", "Tubes & <b>Bends</b>");
        var license = WithReminderSent(ExpiringSoon("VT-A", odd), 90, "2026-10-03");

        var mail = RenewalsDigestMail.Render(Compute([Source(license, QuoteRequestedOn("2026-11-20"))]), BaseUrl);

        Assert.StartsWith("Renewals digest", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("Tubes & <b>Bends</b> (customer id CUST-<9>), 1 license:", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-A, VTube-LASER, expires on 1 January 2027. Reminders sent: 90-day on 3 October 2026. Quote requested on 20 November 2026. Not renewed since the quote request.", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("https://smp.example.com/console/licenses/VT-A", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://smp.example.com/console/licenses/VT-A\">Open VT-A in the console</a>", mail.Html, StringComparison.Ordinal);
        Assert.Contains("Tubes &amp; &lt;b&gt;Bends&lt;/b&gt;", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Bends", mail.Html, StringComparison.Ordinal);
        Assert.Contains("1 January 2027", mail.Html, StringComparison.Ordinal);
        Assert.Contains("No mail failed.", mail.PlainText, StringComparison.Ordinal);
    }
}
