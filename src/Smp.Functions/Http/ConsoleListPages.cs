using System.Text;
using NodaTime;
using Smp.Core.Outbox;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>The console's list pages (SPEC section 8): a customer's licenses, and mail that failed or waits to go out.</summary>
public static class ConsoleListPages
{
    /// <summary>Pending mail shown: what is due within this horizon, at most <see cref="MaxPending"/> messages.</summary>
    public static readonly Duration PendingHorizon = Duration.FromDays(1);
    public const int MaxPending = 50;

    public static string Customer(IReadOnlyList<LicenseDocument> licenses)
    {
        var html = new StringBuilder("<table><caption>Licenses of this customer</caption><thead><tr><th scope=\"col\">Serial</th><th scope=\"col\">Product</th><th scope=\"col\">Status</th><th scope=\"col\">Expires on</th></tr></thead><tbody>");
        foreach (var license in licenses.OrderBy(l => l.Serial, StringComparer.Ordinal))
        {
            html.Append("<tr><td><a href=\"/console/licenses/").Append(H(Uri.EscapeDataString(license.Serial))).Append("\">").Append(H(license.Serial)).Append("</a></td><td>")
                .Append(H(license.Product)).Append("</td><td>").Append(H(license.Status.ToString())).Append("</td><td>").Append(Date(license.ExpiresOn)).Append("</td></tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>Failed mail with a retry button each (when <paramref name="token"/> is given: the person may retry), then pending mail.</summary>
    public static string Mail(IReadOnlyList<OutboxMessage> failed, IReadOnlyList<OutboxMessage> pending, string? token, DateTimeZone zone)
    {
        var html = new StringBuilder("<h2>Failed</h2>");
        html.Append(Table("Mail that could not be delivered", failed, token, zone, showError: true));
        html.Append("<h2>Pending</h2>");
        html.Append(Table("Mail waiting to be sent", pending, null, zone, showError: false));
        return html.ToString();
    }

    private static string Table(string caption, IReadOnlyList<OutboxMessage> mail, string? token, DateTimeZone zone, bool showError)
    {
        if (mail.Count == 0)
        {
            return "<p>None.</p>";
        }

        var html = new StringBuilder("<table class=\"mail\"><caption>").Append(H(caption)).Append("</caption><thead><tr><th scope=\"col\">Created</th><th scope=\"col\">Kind</th><th scope=\"col\">Subject</th><th scope=\"col\">To</th><th scope=\"col\">Attempts</th>");
        if (showError)
        {
            html.Append("<th scope=\"col\">Last error</th>");
        }

        if (token is not null)
        {
            html.Append("<th scope=\"col\">Action</th>");
        }

        html.Append("</tr></thead><tbody>");
        foreach (var m in mail)
        {
            html.Append("<tr><td>").Append(H(ConsolePages.Instant(m.CreatedAt, zone))).Append("</td><td>").Append(H(m.Kind)).Append("</td><td>").Append(H(m.Mail.Subject))
                .Append("</td><td>").Append(H(string.Join(", ", m.Mail.To.Select(a => a.Value)))).Append("</td><td>").Append(Number(m.Attempts)).Append("</td>");
            if (showError)
            {
                html.Append("<td>").Append(H(m.LastError ?? string.Empty)).Append("</td>");
            }

            if (token is not null)
            {
                html.Append("<td>").Append(Form($"/console/mail/{m.Id}/retry", token, string.Empty, "Retry", $"Retry mail {m.Mail.Subject}")).Append("</td>");
            }

            html.Append("</tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }
}
