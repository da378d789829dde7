using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Smp.Functions.Http;

/// <summary>
/// The few small HTML pages customers open from links in mail: self-contained, no scripts, no third-party
/// resources; <see cref="Smp.Functions.Hosting.CustomerHeadersMiddleware"/> marks them never cached and framed by nobody.
/// </summary>
public static class CustomerPages
{
    /// <summary>
    /// A page with a heading, paragraphs (plain text: they are HTML-encoded here), an optional form and an optional
    /// link (the way forward).
    /// </summary>
    public static ContentResult Page(int status, string title, IEnumerable<string> paragraphs, FormSpec? form = null, PageLink? link = null)
    {
        var html = new System.Text.StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(Html(title)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}</style>")
            .Append("</head><body><main><h1>").Append(Html(title)).Append("</h1>");
        foreach (var paragraph in paragraphs)
        {
            html.Append("<p>").Append(Html(paragraph)).Append("</p>");
        }

        if (form is not null)
        {
            html.Append("<form method=\"post\" action=\"").Append(Html(form.Action)).Append("\">");
            foreach (var (name, value) in form.Hidden)
            {
                html.Append("<input type=\"hidden\" name=\"").Append(Html(name)).Append("\" value=\"").Append(Html(value)).Append("\">");
            }

            html.Append("<button type=\"submit\">").Append(Html(form.Button)).Append("</button></form>");
        }

        if (link is not null)
        {
            html.Append("<p><a href=\"").Append(Html(link.Href)).Append("\">").Append(Html(link.Text)).Append("</a></p>");
        }

        html.Append("</main></body></html>");
        return new ContentResult { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = html.ToString() };
    }

    /// <summary>True when the caller posted an HTML form rather than JSON.</summary>
    public static bool IsForm(HttpRequest request) => request.HasFormContentType;

    /// <summary>
    /// The one HTML encoder of the customer pages (the password page's included): encodes the five characters that are
    /// markup in text and in quoted attributes; everything else stays as it is, so a password or a name with letters
    /// beyond ASCII reads (and copies) as itself in the UTF-8 page.
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
}

/// <summary>A one-button form that posts hidden fields.</summary>
public sealed record FormSpec(string Action, string Button, IReadOnlyList<(string Name, string Value)> Hidden);

/// <summary>A link on a page: an app-relative address and its text.</summary>
public sealed record PageLink(string Href, string Text);
