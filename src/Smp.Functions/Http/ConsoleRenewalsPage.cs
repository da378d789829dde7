using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using NodaTime;
using Smp.Core.Digest;
using Smp.Core.Mail.Templates;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>
/// The console's renewals page (SPEC sections 8 and 11): the expiring report for a chosen range, a page at a time,
/// with the same range as a CSV download, and the weekly digest's lists.
/// </summary>
public static class ConsoleRenewalsPage
{
    public const string Path = "/console/renewals";
    public const string CsvPath = "/console/renewals.csv";

    /// <summary>The range shown when none is chosen: today and the next 90 days.</summary>
    public static readonly Period DefaultRange = Period.FromDays(90);

    /// <summary>Licenses listed per page.</summary>
    public const int PageSize = 50;

    /// <summary>The address of a range (and of a page of it, after <paramref name="continuationToken"/>).</summary>
    public static string Link(string path, LocalDate from, LocalDate to, string? continuationToken = null)
    {
        var query = new Dictionary<string, string?> { ["from"] = Date(from), ["to"] = Date(to) };
        if (continuationToken is not null)
        {
            query["continuationToken"] = continuationToken;
        }

        return QueryHelpers.AddQueryString(path, query);
    }

    /// <summary>The range form, showing the values given back and each bad field named.</summary>
    public static string RangeForm(string from, string to, ValidationErrors? errors) =>
        ErrorSummary(errors)
        + "<form method=\"get\" action=\"" + Path + "\" aria-label=\"Choose the range\" class=\"range\">"
        + Field("range-from", "from", "Expiring from (yyyy-MM-dd)", from, errors, "date")
        + Field("range-to", "to", "Expiring to (yyyy-MM-dd)", to, errors, "date")
        + "<button type=\"submit\">Show</button></form>";

    public static string Body(LocalDate from, LocalDate to, IReadOnlyList<LicenseDocument> licenses, string? next, bool later, IReadOnlyList<string> unreadable)
    {
        var html = new StringBuilder(RangeForm(Date(from), Date(to), null));
        html.Append("<p><a id=\"renewals-csv\" href=\"").Append(H(Link(CsvPath, from, to))).Append("\" download>Download this range as CSV</a></p>");
        if (licenses.Count == 0)
        {
            html.Append("<p id=\"no-expiries\">No license expires in this range").Append(later ? " after the previous page" : string.Empty).Append(".</p>");
        }
        else
        {
            html.Append("<table class=\"renewals\"><caption>Licenses expiring from ").Append(Date(from)).Append(" to ").Append(Date(to)).Append("</caption><thead><tr>")
                .Append("<th scope=\"col\">Expires on</th><th scope=\"col\">Serial</th><th scope=\"col\">Customer</th><th scope=\"col\">Product</th><th scope=\"col\">Status</th><th scope=\"col\">Contacts</th></tr></thead><tbody>");
            foreach (var license in licenses)
            {
                html.Append("<tr><td>").Append(Date(license.ExpiresOn)).Append("</td><td><a href=\"/console/licenses/").Append(H(Uri.EscapeDataString(license.Serial))).Append("\">")
                    .Append(H(license.Serial)).Append("</a></td><td><a href=\"/console/customers/").Append(H(Uri.EscapeDataString(license.Customer.Id))).Append("\">")
                    .Append(H(license.Customer.Name)).Append("</a></td><td>").Append(H(license.Product)).Append("</td><td>").Append(H(license.Status.ToString()))
                    .Append("</td><td>").Append(H(string.Join(", ", license.Contacts))).Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        if (unreadable.Count > 0)
        {
            html.Append("<p class=\"errors\" role=\"alert\">These licenses could not be read and are left out: ").Append(H(string.Join(", ", unreadable))).Append(". Open the page again to retry.</p>");
        }

        html.Append("<nav aria-label=\"Pages of the report\"><p>");
        if (later)
        {
            html.Append("<a href=\"").Append(H(Link(Path, from, to))).Append("\">First page</a> ");
        }

        if (next is not null)
        {
            html.Append("<a id=\"next-page\" href=\"").Append(H(Link(Path, from, to, next))).Append("\">Next page</a>");
        }

        html.Append("</p></nav>");
        return html.ToString();
    }

    /// <summary>
    /// The weekly digest's four lists (SPEC section 11) as the digest computes them: each grouped by customer, every
    /// serial linking to its license page, dates written out.
    /// </summary>
    public static string Digest(RenewalsDigest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var html = new StringBuilder("<section id=\"digest\" aria-labelledby=\"digest-title\"><h2 id=\"digest-title\">The weekly digest's lists (week ")
            .Append(H(digest.Week.ToString())).Append(", as of ").Append(H(MailDates.Format(digest.Today))).Append(")</h2>");
        if (digest.IsEmpty && digest.Unreadable.IsEmpty)
        {
            return html.Append("<p id=\"digest-empty\">Nothing to report: no plan expires in the next ").Append(Number(DigestRules.ExpiringDays))
                .Append(" days, none lapsed in the last ").Append(Number(DigestRules.LapsedDays)).Append(" days, no quote request of the last ")
                .Append(Number(DigestRules.QuoteDays)).Append(" days waits for a renewal, and no mail failed.</p></section>").ToString();
        }

        DigestList(html, "digest-expiring", $"Expiring in the next {DigestRules.ExpiringDays} days", digest.Expiring, l => "expires on " + MailDates.Format(l.ExpiresOn));
        DigestList(html, "digest-lapsed", $"Lapsed in the last {DigestRules.LapsedDays} days without renewal", digest.Lapsed, l => "lapsed on " + MailDates.Format(l.ExpiresOn));
        DigestList(html, "digest-quotes", $"Quote requests of the last {DigestRules.QuoteDays} days with no renewal since", digest.Quotes, l => "expires on " + MailDates.Format(l.ExpiresOn));
        html.Append("<h3>Failed mail</h3><p id=\"digest-failed-mail\">");
        if (digest.FailedMail == 0)
        {
            html.Append("No mail failed.");
        }
        else
        {
            html.Append("<a href=\"/console/mail\">").Append(Number(digest.FailedMail)).Append(digest.FailedMail == 1 ? " message" : " messages").Append(" could not be delivered</a>.");
        }

        html.Append("</p>");
        foreach (var sentence in RenewalsDigestMail.UnreadableSentences(digest))
        {
            html.Append("<p class=\"errors\" role=\"alert\">").Append(H(sentence)).Append("</p>");
        }

        return html.Append("</section>").ToString();
    }

    private static void DigestList(StringBuilder html, string id, string title, ImmutableArray<DigestCustomer> customers, Func<DigestLicense, string> expiry)
    {
        html.Append("<h3 id=\"").Append(id).Append("\">").Append(H(title)).Append("</h3>");
        if (customers.IsEmpty)
        {
            html.Append("<p>None.</p>");
            return;
        }

        foreach (var customer in customers)
        {
            html.Append("<h4><a href=\"/console/customers/").Append(H(Uri.EscapeDataString(customer.Customer.Id))).Append("\">")
                .Append(H(customer.Customer.Name.Length > 0 ? customer.Customer.Name : "(no name)")).Append("</a> (customer id ").Append(H(customer.Customer.Id)).Append(")</h4><ul aria-labelledby=\"").Append(id).Append("\">");
            foreach (var license in customer.Licenses)
            {
                html.Append("<li><a href=\"/console/licenses/").Append(H(Uri.EscapeDataString(license.Serial.Value))).Append("\">").Append(H(license.Serial.Value)).Append("</a>, ")
                    .Append(H(license.Product)).Append(", ").Append(H(expiry(license))).Append(". ").Append(H(RenewalsDigestMail.Details(license))).Append("</li>");
            }

            html.Append("</ul>");
        }
    }
}
