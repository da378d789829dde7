using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;
using Smp.Functions.Staff;

namespace Smp.Functions.Http;

/// <summary>
/// The staff console's HTML frame (SPEC section 8): a title, a heading, the navigation bar, the signed-in person's name
/// with the sign-out link, and the one stylesheet; no inline style or script, so the console's CSP needs neither
/// <c>unsafe-inline</c> nor <c>unsafe-eval</c>. Every text goes through the layer's one encoder (<see cref="CustomerPages.Html"/>).
/// </summary>
public static class ConsolePages
{
    public const string StylesheetPath = "/console/console.css";

    /// <summary>The confirmations a post-redirect-get may show, by the key the redirect carries (nothing else is echoed).</summary>
    public static readonly IReadOnlyDictionary<string, string> Confirmations = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["renewed"] = "The renewal was recorded.",
        ["renewal-repeated"] = "This order was already recorded; nothing changed.",
        ["training"] = "The on-site training was recorded.",
        ["contacts"] = "The contacts were saved.",
        ["retried"] = "The mail was queued to be sent again.",
        ["term-queued"] = "The term mail was queued: the background work mails it to the license's registered contacts within a few minutes.",
        ["term-already"] = "A term mail for this license was already asked for today; it goes out once, so no second copy is sent.",
        ["password-link-queued"] = "The password link was queued: the background work mails it to the license's registered contacts within a few minutes, if the plan includes this update.",
        ["password-link-already"] = "A password link for this update was already asked for today; it goes out once, so no second copy is sent.",
        ["replaced"] = "The dongle was replaced: the plan, its history and the reminders sent moved to the new serial.",
        ["activated"] = "The activation was recorded.",
        ["activation-repeated"] = "This activation was already recorded with the same data; nothing changed.",
    };

    public static string H(string text) => CustomerPages.Html(text);

    public static string Date(LocalDate date) => LocalDatePattern.Iso.Format(date);

    public static string Instant(Instant instant, DateTimeZone zone) =>
        ZonedDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm", null).Format(instant.InZone(zone));

    /// <summary>A whole console page.</summary>
    public static ContentResult Page(StaffPerson? person, int status, string title, string body, string? confirmation = null, PageLink? confirmationLink = null)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(H(title)).Append(" - SMP console</title>")
            .Append("<link rel=\"stylesheet\" href=\"").Append(StylesheetPath).Append("\"></head><body>")
            .Append("<header class=\"bar\"><nav aria-label=\"Console\"><ul>")
            .Append("<li><a href=\"/console\">Dashboard</a></li>")
            .Append("<li><a href=\"/console/search\">Search</a></li>")
            .Append("<li><a href=\"/console/renewals\">Renewals</a></li>")
            .Append("<li><a href=\"/console/updates\">Updates</a></li>")
            .Append("<li><a href=\"/console/mail\">Mail</a></li>")
            .Append("<li><a href=\"/console/imports\">Imports</a></li>")
            .Append("</ul></nav>")
            .Append("<form class=\"find\" method=\"get\" action=\"/console/search\" role=\"search\"><label for=\"nav-search\">Find</label>")
            .Append("<input id=\"nav-search\" name=\"q\" type=\"search\" required maxlength=\"100\"><button type=\"submit\">Find</button></form>")
            .Append("<form class=\"find\" method=\"get\" action=\"/console/licenses\"><label for=\"find-serial\">Serial</label>")
            .Append("<input id=\"find-serial\" name=\"serial\" required maxlength=\"32\"><button type=\"submit\">Open</button></form>");
        if (person is not null)
        {
            html.Append("<p class=\"who\"><span>").Append(H(person.Name)).Append("</span> <a href=\"").Append(ConsoleGate.LogoutPath).Append("\">Sign out</a></p>");
        }

        html.Append("</header><main><h1>").Append(H(title)).Append("</h1>");
        if (confirmation is not null)
        {
            html.Append("<p class=\"done\" role=\"status\">").Append(H(confirmation));
            if (confirmationLink is not null)
            {
                html.Append(" <a href=\"").Append(H(confirmationLink.Href)).Append("\">").Append(H(confirmationLink.Text)).Append("</a>");
            }

            html.Append("</p>");
        }

        html.Append(body).Append("</main></body></html>");
        return new ContentResult { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = html.ToString() };
    }

    /// <summary>A page with one message and an optional link (401, 403, 404).</summary>
    public static ContentResult Message(StaffPerson? person, int status, string title, string text, PageLink? link = null)
    {
        var body = "<p>" + H(text) + "</p>" + (link is null ? string.Empty : "<p><a href=\"" + H(link.Href) + "\">" + H(link.Text) + "</a></p>");
        return Page(person, status, title, body);
    }

    /// <summary>A form that posts to the console with the person's anti-forgery token.</summary>
    public static string Form(string action, string token, string inner, string button, string? label = null) =>
        "<form method=\"post\" action=\"" + H(action) + "\"" + (label is null ? string.Empty : " aria-label=\"" + H(label) + "\"") + ">"
        + "<input type=\"hidden\" name=\"" + FormTokens.FieldName + "\" value=\"" + H(token) + "\">"
        + inner + "<button type=\"submit\">" + H(button) + "</button></form>";

    /// <summary>A labelled input, showing the value given back and the field's error (named) when there is one.</summary>
    public static string Field(string id, string name, string label, string value, ValidationErrors? errors, string type = "text", string extra = "")
    {
        var error = ErrorFor(errors, name);
        var html = new StringBuilder("<p class=\"field\"><label for=\"").Append(H(id)).Append("\">").Append(H(label)).Append("</label>");
        html.Append("<input id=\"").Append(H(id)).Append("\" name=\"").Append(H(name)).Append("\" type=\"").Append(type).Append("\" value=\"").Append(H(value)).Append('"');
        if (error is not null)
        {
            html.Append(" aria-invalid=\"true\" aria-describedby=\"").Append(H(id)).Append("-error\"");
        }

        html.Append(extra).Append('>');
        if (error is not null)
        {
            html.Append("<span class=\"error\" id=\"").Append(H(id)).Append("-error\">").Append(H(label)).Append(": ").Append(H(error)).Append("</span>");
        }

        return html.Append("</p>").ToString();
    }

    /// <summary>The errors of a refused form, each naming its field, as a list at the top of the form.</summary>
    public static string ErrorSummary(ValidationErrors? errors)
    {
        if (errors is null || !errors.Any)
        {
            return string.Empty;
        }

        var html = new StringBuilder("<div class=\"errors\" role=\"alert\"><p>The form was not saved:</p><ul>");
        foreach (var (field, messages) in errors.ToDictionary())
        {
            foreach (var message in messages)
            {
                html.Append("<li>").Append(H(field)).Append(": ").Append(H(message)).Append("</li>");
            }
        }

        return html.Append("</ul></div>").ToString();
    }

    /// <summary>The messages of a field and of its items (<c>contacts[1]</c>), or null.</summary>
    public static string? ErrorFor(ValidationErrors? errors, string name)
    {
        var messages = errors is null ? [] : errors.ToDictionary()
            .Where(e => e.Key == name || e.Key.StartsWith(name + "[", StringComparison.Ordinal))
            .SelectMany(e => e.Key == name ? e.Value : e.Value.Select(m => e.Key + ": " + m))
            .ToArray();
        return messages.Length == 0 ? null : string.Join(" ", messages);
    }

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
