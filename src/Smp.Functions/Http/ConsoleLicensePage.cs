using System.Text;
using NodaTime;
using Smp.Core.Plans;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>What a refused form gave, to show again with its errors (SPEC section 8).</summary>
public sealed record ConsoleFormState(string Form, IReadOnlyDictionary<string, string> Values, ValidationErrors Errors)
{
    public string Value(string name, string fallback = "") => Values.TryGetValue(name, out var v) ? v : fallback;
}

/// <summary>
/// The console's license page (SPEC section 8): status, a timeline of the terms with today marked, reminders planned
/// and sent, the updates it is entitled to, every event with its actor, and the forms for the actions on it.
/// </summary>
public static class ConsoleLicensePage
{
    public static string Body(LicenseDocument license, LocalDate today, DateTimeZone zone, StaffPerson person, string token, ConsoleFormState? refused)
    {
        ArgumentNullException.ThrowIfNull(license);
        ArgumentNullException.ThrowIfNull(person);
        var serial = license.Serial;
        var html = new StringBuilder();
        html.Append("<dl class=\"facts\">")
            .Append("<dt>Status</dt><dd class=\"status\">").Append(H(license.Status.ToString())).Append("</dd>")
            .Append("<dt>Expires on</dt><dd id=\"expires-on\">").Append(Date(license.ExpiresOn)).Append("</dd>")
            .Append("<dt>Product</dt><dd>").Append(H(license.Product)).Append("</dd>")
            .Append("<dt>Customer</dt><dd><a href=\"/console/customers/").Append(H(Uri.EscapeDataString(license.Customer.Id))).Append("\">")
            .Append(H(license.Customer.Name)).Append("</a> (").Append(H(license.Customer.Id)).Append(")</dd>")
            .Append("<dt>Contacts</dt><dd>").Append(H(string.Join(", ", license.Contacts))).Append("</dd>")
            .Append("<dt>On-site training</dt><dd>").Append(license.OnSiteTraining ? "yes" : "no").Append("</dd>")
            .Append("<dt>Activated</dt><dd>").Append(Date(license.ActivatedOn)).Append("</dd>");
        if (license.ReplacedBy is { } replacedBy)
        {
            html.Append("<dt>Replaced by</dt><dd id=\"replaced-by\">").Append(LicenseLink(replacedBy)).Append("</dd>");
        }

        if (license.ReplacementOf is { } replacementOf)
        {
            html.Append("<dt>Replacement of</dt><dd id=\"replacement-of\">").Append(LicenseLink(replacementOf)).Append("</dd>");
        }

        html.Append("</dl>");

        html.Append("<h2>Terms</h2>").Append(Timeline(license.Terms, today));
        html.Append("<table><caption>Terms of the plan</caption><thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Start</th><th scope=\"col\">End</th><th scope=\"col\">Length</th><th scope=\"col\">Source</th><th scope=\"col\">Order</th></tr></thead><tbody>");
        foreach (var term in license.Terms)
        {
            html.Append("<tr><td>").Append(H(term.Kind.ToString())).Append("</td><td>").Append(Date(term.Start)).Append("</td><td>").Append(Date(term.End))
                .Append("</td><td>").Append(term.Months is { } m ? Number(m) + " months" : Number(term.Days ?? 0) + " days")
                .Append("</td><td>").Append(H(term.Source.ToString())).Append("</td><td>").Append(H(term.OrderReference ?? string.Empty)).Append("</td></tr>");
        }

        html.Append("</tbody></table>");

        html.Append("<h2>Reminders</h2><table><caption>Reminders planned and sent</caption><thead><tr><th scope=\"col\">Stage</th><th scope=\"col\">Due on</th><th scope=\"col\">For expiry</th><th scope=\"col\">State</th><th scope=\"col\">Sent</th></tr></thead><tbody>");
        foreach (var reminder in license.Reminders)
        {
            html.Append("<tr><td>").Append(H(reminder.Stage)).Append("</td><td>").Append(reminder.DueOn is { } due ? Date(due) : string.Empty)
                .Append("</td><td>").Append(Date(reminder.ExpiresOn)).Append("</td><td>").Append(H(reminder.Status))
                .Append("</td><td>").Append(reminder.SentAt is { } sent ? H(ConsolePages.Instant(sent, zone)) : string.Empty).Append("</td></tr>");
        }

        html.Append("</tbody></table>");

        html.Append("<h2>Updates</h2><ul class=\"updates\">");
        foreach (var update in license.Updates ?? [])
        {
            html.Append("<li>").Append(H(update.Version)).Append(" (released ").Append(Date(update.ReleasedOn)).Append("): ")
                .Append(update.Entitled ? "entitled" : "not entitled").Append("</li>");
        }

        if (license.Updates is null or { Count: 0 })
        {
            html.Append("<li>No update has been published.</li>");
        }

        html.Append("</ul>");

        if (license.ReplacedBy is not null)
        {
            html.Append("<p>This dongle was replaced: its plan goes on under the new serial, where every action is.</p>");
        }
        else if (person.Has(StaffRoles.Staff))
        {
            html.Append("<h2>Actions</h2><div class=\"actions\">");
            var renewal = refused?.Form == "renewal" ? refused : null;
            html.Append("<section aria-labelledby=\"renewal-heading\"><h3 id=\"renewal-heading\">Record a renewal</h3>")
                .Append(ErrorSummary(renewal?.Errors))
                .Append(Form(
                    $"/console/licenses/{Uri.EscapeDataString(serial)}/renewals",
                    token,
                    Field("orderReference", "orderReference", "Order reference", renewal?.Value("orderReference") ?? string.Empty, renewal?.Errors, extra: " required maxlength=\"64\"")
                    + Field("months", "months", "Months", renewal?.Value("months", Number(PlanRules.DefaultRenewalMonths)) ?? Number(PlanRules.DefaultRenewalMonths), renewal?.Errors, "number", $" min=\"{PlanRules.MinRenewalMonths}\" max=\"{PlanRules.MaxRenewalMonths}\""),
                    "Record renewal"))
                .Append("</section>");

            if (!license.OnSiteTraining)
            {
                html.Append("<section aria-labelledby=\"training-heading\"><h3 id=\"training-heading\">On-site training</h3>")
                    .Append(Form($"/console/licenses/{Uri.EscapeDataString(serial)}/training", token, string.Empty, "Record on-site training"))
                    .Append("</section>");
            }

            var contacts = refused?.Form == "contacts" ? refused : null;
            var contactsValue = contacts?.Value("contacts") ?? string.Join("\n", license.Contacts);
            var contactsError = ErrorFor(contacts?.Errors, "contacts");
            html.Append("<section aria-labelledby=\"contacts-heading\"><h3 id=\"contacts-heading\">Contacts</h3>")
                .Append(ErrorSummary(contacts?.Errors))
                .Append(Form(
                    $"/console/licenses/{Uri.EscapeDataString(serial)}/contacts",
                    token,
                    "<p class=\"field\"><label for=\"contacts\">Contact email addresses, one per line</label><textarea id=\"contacts\" name=\"contacts\" rows=\"4\""
                    + (contactsError is null ? string.Empty : " aria-invalid=\"true\" aria-describedby=\"contacts-error\"") + ">" + H(contactsValue) + "</textarea>"
                    + (contactsError is null ? string.Empty : "<span class=\"error\" id=\"contacts-error\">Contacts: " + H(contactsError) + "</span>") + "</p>",
                    "Save contacts"))
                .Append("</section>");

            html.Append("<section aria-labelledby=\"term-mail-heading\"><h3 id=\"term-mail-heading\">Term mail</h3>")
                .Append("<p>Mails the plan term (status, dates, terms) to the registered contacts, as a customer's request does.</p>")
                .Append(Form($"/console/licenses/{Uri.EscapeDataString(serial)}/term-mail", token, string.Empty, "Send the term mail"))
                .Append("</section>");

            var released = license.Updates ?? [];
            if (released.Count > 0)
            {
                var link = refused?.Form == "password-link" ? refused : null;
                var chosen = link?.Value("version") ?? released.FirstOrDefault(u => u.Entitled)?.Version ?? released[0].Version;
                var versionError = ErrorFor(link?.Errors, "version");
                var options = new StringBuilder();
                foreach (var update in released)
                {
                    options.Append("<option value=\"").Append(H(update.Version)).Append('"').Append(update.Version == chosen ? " selected" : string.Empty).Append('>')
                        .Append(H(update.Version)).Append(update.Entitled ? " (entitled)" : " (not entitled)").Append("</option>");
                }

                html.Append("<section aria-labelledby=\"password-link-heading\"><h3 id=\"password-link-heading\">Password link</h3>")
                    .Append(ErrorSummary(link?.Errors))
                    .Append(Form(
                        $"/console/licenses/{Uri.EscapeDataString(serial)}/password-link",
                        token,
                        "<p class=\"field\"><label for=\"version\">Update</label><select id=\"version\" name=\"version\""
                        + (versionError is null ? string.Empty : " aria-invalid=\"true\" aria-describedby=\"version-error\"") + ">" + options + "</select>"
                        + (versionError is null ? string.Empty : "<span class=\"error\" id=\"version-error\">Update: " + H(versionError) + "</span>") + "</p>",
                        "Send a password link"))
                    .Append("</section>");
            }

            if (person.Has(StaffRoles.Admin))
            {
                var replacement = refused?.Form == "replacement" ? refused : null;
                html.Append("<section aria-labelledby=\"replacement-heading\"><h3 id=\"replacement-heading\">Replace the dongle</h3>")
                    .Append("<p>Moves the plan, its history and the reminders sent to the new dongle's serial; this license becomes replaced.</p>")
                    .Append(ErrorSummary(replacement?.Errors))
                    .Append(Form(
                        $"/console/licenses/{Uri.EscapeDataString(serial)}/replacement",
                        token,
                        Field("newSerial", "newSerial", "New serial", replacement?.Value("newSerial") ?? string.Empty, replacement?.Errors, extra: " required maxlength=\"32\"")
                        + Field("reason", "reason", "Reason (optional)", replacement?.Value("reason") ?? string.Empty, replacement?.Errors, extra: " maxlength=\"500\""),
                        "Replace the dongle"))
                    .Append("</section>");
            }

            html.Append("</div>");
        }

        html.Append("<h2>Events</h2><table class=\"events\"><caption>Every change, oldest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Event</th><th scope=\"col\">By</th><th scope=\"col\">Details</th></tr></thead><tbody>");
        foreach (var e in license.Events ?? [])
        {
            html.Append("<tr><td>").Append(H(ConsolePages.Instant(e.At, zone))).Append("</td><td>").Append(H(e.Type)).Append("</td><td>").Append(H(e.Actor));
            if (e.ActorId is { } id)
            {
                html.Append(" <span class=\"actor-id\">(").Append(H(id)).Append(")</span>");
            }

            html.Append("</td><td>").Append(H(string.Join(", ", (e.Details ?? []).Select(d => d.Key + ": " + d.Value)))).Append("</td></tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    private static string LicenseLink(string serial) =>
        "<a href=\"/console/licenses/" + H(Uri.EscapeDataString(serial)) + "\">" + H(serial) + "</a>";

    /// <summary>The terms as bars on one line of time, with today marked; the table beside it holds the same dates.</summary>
    private static string Timeline(IReadOnlyList<TermDocument> terms, LocalDate today)
    {
        if (terms.Count == 0)
        {
            return string.Empty;
        }

        var first = terms.Min(t => t.Start);
        var last = terms.Max(t => t.End);
        first = today < first ? today : first;
        last = today > last ? today : last;
        var span = Math.Max(1, Period.DaysBetween(first, last));
        const int Width = 600;
        double X(LocalDate d) => 10 + (Width - 20) * (double)Period.DaysBetween(first, d) / span;
        var svg = new StringBuilder($"<svg class=\"timeline\" viewBox=\"0 0 {Width} 70\" role=\"img\" aria-labelledby=\"timeline-title\"><title id=\"timeline-title\">")
            .Append(H($"Terms from {Date(first)} to {Date(last)}; today is {Date(today)}")).Append("</title>");
        var row = 0;
        foreach (var term in terms)
        {
            var x = X(term.Start);
            var w = Math.Max(2, X(term.End) - x);
            svg.Append(FormattableString.Invariant($"<rect class=\"term term-{term.Kind.ToString().ToLowerInvariant()}\" x=\"{x:0.#}\" y=\"{10 + (row % 2) * 18}\" width=\"{w:0.#}\" height=\"14\"><title>"))
                .Append(H($"{term.Kind}: {Date(term.Start)} to {Date(term.End)}")).Append("</title></rect>");
            row++;
        }

        var t = X(today);
        svg.Append(FormattableString.Invariant($"<line class=\"today\" x1=\"{t:0.#}\" x2=\"{t:0.#}\" y1=\"4\" y2=\"50\"></line><text class=\"today-label\" x=\"{Math.Clamp(t, 20, Width - 20):0.#}\" y=\"64\" text-anchor=\"middle\">today</text>"));
        return svg.Append("</svg>").ToString();
    }
}
