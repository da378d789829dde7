using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Functions.Http;

/// <summary>
/// The answers of the customer routes: every one is marked not to be stored, sniffed, framed or referred, since
/// a password page and the links that lead to it are credentials.
/// </summary>
public static class CustomerResponses
{
    private static readonly LocalDatePattern IsoDate = LocalDatePattern.Iso;

    /// <summary>Wraps <paramref name="inner"/> so that its response carries the customer routes' security headers.</summary>
    public static IActionResult Secure(IActionResult inner) => new SecureHeadersResult(inner);

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
            status == PlanStatus.Current
                ? $"The Software Maintenance Plan of license {serial.Value} (current, expires on {IsoDate.Format(expiresOn)}) did not cover the day update {version.Value} was released, so it does not include it. For questions, reply to any of our emails to reach the renewals desk."
                : $"The Software Maintenance Plan of license {serial.Value} expired on {IsoDate.Format(expiresOn)}, so it does not include update {version.Value}. To renew it, ask for a quotation: POST /api/quote-requests with {{\"serial\":\"{serial.Value}\"}}, or reply to any of our emails to reach the renewals desk.");
        ((ProblemDetails)result.Value!).Extensions["expiresOn"] = IsoDate.Format(expiresOn);
        return result;
    }

    /// <summary>The 404 of a genuine link whose update is unknown, not released yet, or has no stored password.</summary>
    public static ObjectResult NotFound(string detail) => Problems.NotFound(detail);

    /// <summary>True when the client asked for JSON rather than a page: <c>application/json</c> ranked above any <c>text/html</c>.</summary>
    public static bool WantsJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        IList<MediaTypeHeaderValue> accept;
        try
        {
            accept = request.GetTypedHeaders().Accept;
        }
        catch (FormatException)
        {
            return false;
        }

        double json = 0, html = 0;
        foreach (var media in accept)
        {
            var quality = media.Quality ?? 1;
            if (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
            else if (media.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase))
            {
                html = Math.Max(html, quality);
            }
        }

        return json > 0 && json > html;
    }

    /// <summary>The password page: small, accessible, without scripts or outside resources; every value HTML-encoded.</summary>
    public static ContentResult PasswordPage(string product, Serial serial, UpdateVersion version, string password)
    {
        var p = Html(product);
        var s = Html(serial.Value);
        var v = Html(version.Value);
        var secret = Html(password);
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

    /// <summary>
    /// Encodes the five characters that are markup in text and in quoted attributes; everything else stays as it
    /// is, so a password with letters beyond ASCII reads (and copies) as itself in the UTF-8 page.
    /// </summary>
    public static string Html(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    private static ObjectResult Problem(string type, string title, int status, string detail)
    {
        var result = new ObjectResult(new ProblemDetails { Type = type, Title = title, Status = status, Detail = detail }) { StatusCode = status };
        result.ContentTypes.Add(Problems.ContentType);
        return result;
    }

    private sealed class SecureHeadersResult(IActionResult inner) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            CustomerPages.SecureHeaders(context.HttpContext.Response);
            return inner.ExecuteResultAsync(context);
        }
    }
}
