using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Functions.Http;

/// <summary>
/// The answers of the customer routes; <see cref="Smp.Functions.Hosting.CustomerHeadersMiddleware"/> marks every one
/// not to be stored, sniffed, framed or referred, since a password page and the links that lead to it are credentials.
/// </summary>
public static class CustomerResponses
{
    private static readonly LocalDatePattern IsoDate = LocalDatePattern.Iso;

    private const string WayBack = "If the problem persists, reply to any of our emails to reach the renewals desk.";

    /// <summary>
    /// The functions of the customer routes (the password link, the new-link, term and quotation pages and their
    /// posts): every answer they give, errors that escape them included, carries the customer headers and is a page
    /// for a browser.
    /// </summary>
    public static readonly IReadOnlySet<string> CustomerFunctions = new HashSet<string>(StringComparer.Ordinal)
    {
        "GetUpdatePassword", "RequestPasswordLink", "PasswordRequestPage", "TermRequestPage", "RequestTerm", "QuoteRequestPage", "RequestQuote",
    };

    /// <summary>
    /// The 403 of a link that was not made by us. The body is one fixed document: it is the same for every serial,
    /// version and date, so it tells nothing about what exists.
    /// </summary>
    public static ObjectResult BadLink() => Problem(
        "urn:smp:problem:bad-link",
        "This link is not valid.",
        StatusCodes.Status403Forbidden,
        "The link is incomplete or was changed. Open the link exactly as it appears in the email, or ask for a new one on the page /api/password-requests?serial=SERIAL&version=VERSION (the license's registered contacts receive it), or reply to the announcement email.");

    /// <summary>The 410 of a genuine link past its expiry, telling how to get a new one.</summary>
    public static ObjectResult LinkExpired(Serial serial, UpdateVersion version, Instant expiredAt) => Problem(
        "urn:smp:problem:link-expired",
        "This link has expired.",
        StatusCodes.Status410Gone,
        $"The link to the password of update {version.Value} for license {serial.Value} expired at {InstantPattern.ExtendedIso.Format(expiredAt)}. "
        + $"Ask for a new one on the page /api/password-requests?serial={serial.Value}&version={version.Value}, or reply to the announcement email. "
        + "The new link goes to the license's registered contacts.");

    /// <summary>The 403 of a genuine link for a license the policy does not entitle to the update (reached only with a valid signature).</summary>
    public static ObjectResult NotEntitled(Serial serial, UpdateVersion version, PlanStatus status, LocalDate expiresOn)
    {
        var result = Problem(
            "urn:smp:problem:not-entitled",
            "The maintenance plan does not include this update.",
            StatusCodes.Status403Forbidden,
            status switch
            {
                PlanStatus.Current => $"The Software Maintenance Plan of license {serial.Value} (current, expires on {IsoDate.Format(expiresOn)}) did not cover the day update {version.Value} was released, so it does not include it. For questions, reply to any of our emails to reach the renewals desk.",
                PlanStatus.Replaced => $"{ReplacedText(serial, version)} Ask for a link with the new dongle's serial: POST /api/password-requests with {{\"serial\":\"<new serial>\",\"version\":\"{version.Value}\"}}, or reply to any of our emails to reach the renewals desk.",
                _ => $"The Software Maintenance Plan of license {serial.Value} expired on {IsoDate.Format(expiresOn)}, so it does not include update {version.Value}. To renew it, ask for a quotation: POST /api/quote-requests with {{\"serial\":\"{serial.Value}\"}}, or reply to any of our emails to reach the renewals desk.",
            });
        ((ProblemDetails)result.Value!).Extensions["expiresOn"] = IsoDate.Format(expiresOn);
        return result;
    }

    /// <summary>
    /// <paramref name="problem"/> as it is, or, for a caller that prefers HTML (a browser, SPEC section 5), as a small
    /// page with the same status: the problem's title, <paramref name="paragraphs"/> (the problem's detail and, for
    /// a validation problem, each field's error when none are given) and the way forward as a form or a link.
    /// </summary>
    public static IActionResult ForCaller(HttpRequest request, ObjectResult problem, IReadOnlyList<string>? paragraphs = null, FormSpec? form = null, PageLink? link = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(problem);
        if (!ContentNegotiation.PrefersHtml(request) || problem.Value is not ProblemDetails details)
        {
            return problem;
        }

        var text = paragraphs?.ToList() ?? DefaultParagraphs(details);
        return CustomerPages.Page(problem.StatusCode ?? details.Status ?? StatusCodes.Status400BadRequest, details.Title ?? "Error", text, form, link);
    }

    /// <summary>The 403 of a link that was not made by us, as a problem or a page (with a link to ask for a new one).</summary>
    public static IActionResult BadLink(HttpRequest request, Serial serial, UpdateVersion version) => ForCaller(
        request,
        BadLink(),
        ["The link is incomplete or was changed. Open the link exactly as it appears in the email, or ask for a new one: it goes to the license's registered contacts.", WayBack],
        link: new PageLink(PasswordRequestPath(serial, version), "Ask for a new link"));

    /// <summary>The 410 of a genuine link past its expiry, as a problem or a page with the form that asks for a new link.</summary>
    public static IActionResult LinkExpired(HttpRequest request, Serial serial, UpdateVersion version, Instant expiredAt) => ForCaller(
        request,
        LinkExpired(serial, version, expiredAt),
        [
            $"The link to the password of update {version.Value} for license {serial.Value} expired at {InstantPattern.ExtendedIso.Format(expiredAt)}.",
            "Ask for a new link with the button below: it goes to the license's registered contacts by email.",
        ],
        new FormSpec("/api/password-requests", "Email me a new link", [("serial", serial.Value), ("version", version.Value)]));

    /// <summary>The 403 of a license not entitled to the update, as a problem or a page (lapsed plans get the quotation form).</summary>
    public static IActionResult NotEntitled(HttpRequest request, Serial serial, UpdateVersion version, PlanStatus status, LocalDate expiresOn)
    {
        var problem = NotEntitled(serial, version, status, expiresOn);
        return status switch
        {
            PlanStatus.Current => ForCaller(request, problem),
            PlanStatus.Replaced => ForCaller(
                request,
                problem,
                [$"{ReplacedText(serial, version)} Ask for a link with the new dongle's serial on the page that asks for a new link.", WayBack],
                link: new PageLink(PasswordRequestPath(serial, version), "Ask for a new link")),
            _ => ForCaller(
                request,
                problem,
                [$"The Software Maintenance Plan of license {serial.Value} expired on {IsoDate.Format(expiresOn)}, so it does not include update {version.Value}. To renew it, ask our renewals desk for a quotation.", WayBack],
                new FormSpec("/api/quote-requests", "Request a quotation", [("serial", serial.Value), ("scope", "license")])),
        };
    }

    /// <summary>
    /// SPEC section 10: the link of a dongle that was replaced answers like a license not entitled, with a text true of
    /// it (its plan did not expire: it moved), and never names the new serial to whoever holds the link.
    /// </summary>
    private static string ReplacedText(Serial serial, UpdateVersion version) =>
        $"License {serial.Value} no longer carries a Software Maintenance Plan, so this link does not give the password of update {version.Value}. "
        + "If its dongle was replaced, the plan moved to the new dongle, with the same dates.";

    /// <summary>
    /// The 429 of a genuine link opened more often today than the reveals per link allow (SPEC section 5), as a problem
    /// or a page with a link to ask for a new one.
    /// </summary>
    public static IActionResult TooManyReveals(HttpRequest request, Serial serial, UpdateVersion version) => ForCaller(
        request,
        Problems.TooManyRequests("This link has been opened too often today. Open it again tomorrow, or ask for a new link."),
        ["This link has been opened too often today. Open it again tomorrow, or ask for a new link: it goes to the license's registered contacts.", WayBack],
        link: new PageLink(PasswordRequestPath(serial, version), "Ask for a new link"));

    /// <summary>
    /// The 202 of a customer request: a page with <paramref name="title"/> and <paramref name="detail"/> for the page's
    /// own form post (unless the caller ranks JSON above HTML), else <paramref name="document"/> as JSON.
    /// </summary>
    public static IActionResult Accepted(HttpRequest request, string title, string detail, object document) =>
        CustomerPages.IsForm(request) && !ContentNegotiation.PrefersJson(request)
            ? CustomerPages.Page(StatusCodes.Status202Accepted, title, [detail])
            : new ObjectResult(document) { StatusCode = StatusCodes.Status202Accepted };

    /// <summary>The 404 of a genuine link whose update is unknown, not released yet, or has no stored password.</summary>
    public static ObjectResult NotFound(string detail) => Problems.NotFound(detail);

    /// <summary>The password page: small, accessible, without scripts or outside resources; every value HTML-encoded.</summary>
    public static ContentResult PasswordPage(string product, Serial serial, UpdateVersion version, string password)
    {
        var p = CustomerPages.Html(product);
        var s = CustomerPages.Html(serial.Value);
        var v = CustomerPages.Html(version.Value);
        var secret = CustomerPages.Html(password);
        var html = $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex, nofollow">
            <title>{{p}} {{v}} password for license {{s}}</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1b1b1b; background: #fff; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
            code { display: inline-block; font-size: 1.4rem; padding: .3rem .6rem; border: 2px solid #4a4a4a; border-radius: 4px; background: #f4f4f4; word-break: break-all; user-select: all; }
            </style>
            </head>
            <body>
            <main>
            <h1>{{p}} {{v}} password</h1>
            <p>The password that unlocks {{p}} {{v}} for license <strong>{{s}}</strong> is:</p>
            <p><code id="password">{{secret}}</code></p>
            <p>Enter it when the update asks for it. It is issued for your license: please keep it private and do not forward the link that led here.</p>
            </main>
            </body>
            </html>

            """;
        return new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = "text/html; charset=utf-8", Content = html };
    }

    private static string PasswordRequestPath(Serial serial, UpdateVersion version) =>
        $"/api/password-requests?serial={Uri.EscapeDataString(serial.Value)}&version={Uri.EscapeDataString(version.Value)}";

    private static List<string> DefaultParagraphs(ProblemDetails details)
    {
        var text = new List<string>();
        if (details is ValidationProblemDetails validation && validation.Errors.Count > 0)
        {
            text.Add("Please check the address or the form:");
            text.AddRange(validation.Errors.SelectMany(e => e.Value.Select(message => $"{e.Key}: {message}")));
        }
        else if (!string.IsNullOrEmpty(details.Detail))
        {
            text.Add(details.Detail);
        }

        text.Add(WayBack);
        return text;
    }

    private static ObjectResult Problem(string type, string title, int status, string detail)
    {
        var result = new ObjectResult(new ProblemDetails { Type = type, Title = title, Status = status, Detail = detail }) { StatusCode = status };
        result.ContentTypes.Add(Problems.ContentType);
        return result;
    }
}
