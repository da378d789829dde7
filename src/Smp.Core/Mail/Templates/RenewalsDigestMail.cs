using System.Collections.Immutable;
using System.Globalization;
using Smp.Core.Digest;
using Smp.Core.Plans;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// The renewals desk's weekly digest (SPEC section 11): the four lists, each grouped by customer, every serial linking
/// to its console page. A digest with nothing in it says so in one line.
/// </summary>
public static class RenewalsDigestMail
{
    /// <summary>Every digest's subject starts with this (the desk files it by that).</summary>
    public const string SubjectPrefix = "Renewals digest";

    /// <exception cref="ArgumentException"><paramref name="publicBaseUrl"/> is not an absolute https URL.</exception>
    public static MailContent Render(RenewalsDigest digest, Uri publicBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(publicBaseUrl);
        var week = digest.Week.ToString();
        var subject = Plain($"{SubjectPrefix}, week {week}");
        var doc = new MailLayout()
            .Heading($"{SubjectPrefix}, week {week}")
            .Paragraph($"The plans that need the renewals desk, as of {Strong(digest.Today)}.");

        if (digest.IsEmpty && digest.Unreadable.IsEmpty)
        {
            doc.Paragraph($"Nothing to report this week: no plan expires in the next {DigestRules.ExpiringDays} days, none lapsed in the last {DigestRules.LapsedDays} days, no quote request of the last {DigestRules.QuoteDays} days waits for a renewal, and no mail failed.");
            return doc.Render(subject);
        }

        Section(doc, $"Expiring in the next {DigestRules.ExpiringDays} days (expiry date after {MailDates.Format(digest.Today)}, until {MailDates.Format(digest.Today.PlusDays(DigestRules.ExpiringDays))})", digest.Expiring, publicBaseUrl, l => $"expires on {MailDates.Format(l.ExpiresOn)}");
        Section(doc, $"Lapsed in the last {DigestRules.LapsedDays} days without renewal (expiry date from {MailDates.Format(digest.Today.PlusDays(-DigestRules.LapsedDays))})", digest.Lapsed, publicBaseUrl, l => $"lapsed on {MailDates.Format(l.ExpiresOn)}");
        Section(doc, $"Quote requests of the last {DigestRules.QuoteDays} days with no renewal since (from {MailDates.Format(DigestRules.QuotesFrom(digest.Today))})", digest.Quotes, publicBaseUrl, l => $"expires on {MailDates.Format(l.ExpiresOn)}");

        var failed = digest.FailedMail;
        doc.Paragraph($"{Strong("Failed mail")}");
        if (failed == 0)
        {
            doc.Paragraph($"No mail failed.");
        }
        else
        {
            doc.Paragraph(
                $"{Count(failed, "message", "messages")} could not be delivered and {(failed == 1 ? "waits" : "wait")} for staff to retry {(failed == 1 ? "it" : "them")}.",
                MailLink.To(new Uri(publicBaseUrl, "console/mail"), $"See the failed mail in the console"));
        }

        foreach (var sentence in UnreadableSentences(digest))
        {
            doc.Paragraph($"{sentence}");
        }

        doc.Paragraph($"Dates are business dates; an expiry date is the first day a plan no longer covers. A renewal counts as \"since\" when it was recorded after the quote request, or, without one, on or after the latest reminder listed.");
        return doc.Render(subject);
    }

    private static void Section(MailLayout doc, string title, ImmutableArray<DigestCustomer> customers, Uri publicBaseUrl, Func<DigestLicense, string> expiry)
    {
        doc.Paragraph($"{Strong(title)}");
        if (customers.IsEmpty)
        {
            doc.Paragraph($"None.");
            return;
        }

        foreach (var customer in customers)
        {
            var name = Clean(customer.Customer.Name) is { Length: > 0 } clean ? clean : "(no name)";
            doc.Paragraph($"{Strong(name)} (customer id {customer.Customer.Id}), {Count(customer.Licenses.Length, "license", "licenses")}:")
                .List(customer.Licenses.Select(l => MailLayout.Item(
                    $"{Strong(l.Serial)}, {l.Product}, {expiry(l)}. {Details(l)}",
                    MailLink.To(RenewalsDigestService.ConsolePage(publicBaseUrl, l.Serial), $"Open {l.Serial} in the console"))));
        }
    }

    /// <summary>
    /// What could not be read, in words (the console's renewals page says the same): the licenses left out of the lists,
    /// and the replaced dongles whose history could not be read though their plan is listed under its current serial.
    /// </summary>
    public static IEnumerable<string> UnreadableSentences(RenewalsDigest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var listedUnder = new[] { digest.Expiring, digest.Lapsed, digest.Quotes }
            .SelectMany(list => list.SelectMany(c => c.Licenses))
            .Where(l => l.HistoryUnreadableFrom is not null)
            .GroupBy(l => l.HistoryUnreadableFrom!.Value)
            .ToDictionary(g => g.Key, g => g.First().Serial);
        var leftOut = digest.Unreadable.Where(s => !listedUnder.ContainsKey(s)).ToList();
        if (leftOut.Count > 0)
        {
            yield return $"These licenses could not be read and are left out of the lists: {string.Join(", ", leftOut.Select(s => s.Value))}.";
        }

        var history = digest.Unreadable.Where(listedUnder.ContainsKey).ToList();
        if (history.Count > 0)
        {
            yield return "The history of these replaced dongles could not be read in full, so a quote request recorded there may be missing: "
                + string.Join(", ", history.Select(s => $"{s} (its plan is listed under {listedUnder[s]})")) + ".";
        }
    }

    /// <summary>Reminders sent, the quote request and a renewal since, in words (the console's renewals page says the same).</summary>
    public static string Details(DigestLicense license)
    {
        var reminders = license.Reminders.IsEmpty
            ? "No reminder sent."
            : "Reminders sent: " + string.Join(", ", license.Reminders.Select(r => $"{r.Stage} on {MailDates.Format(r.SentOn)}")) + ".";
        var quote = (license.QuoteRequestedOn, license.HistoryUnreadableFrom) switch
        {
            ({ } quotedOn, null) => $"Quote requested on {MailDates.Format(quotedOn)}.",
            ({ } quotedOn, { } from) => $"Quote requested on {MailDates.Format(quotedOn)}. Its history from {from} back could not be read.",
            (null, { } from) => $"No quote request found, but its history from {from} back could not be read.",
            _ => "No quote requested.",
        };
        var since = license.QuoteRequestedOn is not null ? "the quote request" : license.Reminders.IsEmpty ? null : "the last reminder";
        var renewed = (license.RenewedOn, since) switch
        {
            ({ } renewedOn, { } what) => $"Renewed on {MailDates.Format(renewedOn)}, since {what}.",
            (null, { } what) => $"Not renewed since {what}.",
            _ => string.Empty,
        };
        return string.Join(' ', new[] { reminders, quote, renewed }.Where(s => s.Length > 0));
    }
}
