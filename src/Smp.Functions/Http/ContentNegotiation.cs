using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Smp.Functions.Http;

/// <summary>
/// Which of a page (<c>text/html</c>) and a JSON document the caller prefers, by the q-values of its
/// <c>Accept</c> header (RFC 9110, section 12.5.1): each of the two gets the quality of the most specific range
/// that matches it (<c>text/html</c> before <c>text/*</c> before <c>*/*</c>), 0 when none matches. JSON counts
/// as <c>application/json</c> or <c>application/problem+json</c>, whichever ranks higher. No header, or one that
/// does not parse, accepts both equally.
/// </summary>
public static class ContentNegotiation
{
    /// <summary>True when HTML ranks strictly above JSON: the caller is a browser (error answers become pages).</summary>
    public static bool PrefersHtml(HttpRequest request)
    {
        var (html, json) = Qualities(request);
        return html > 0 && html > json;
    }

    /// <summary>True when JSON ranks strictly above HTML: the caller is an API client (success answers become JSON).</summary>
    public static bool PrefersJson(HttpRequest request)
    {
        var (html, json) = Qualities(request);
        return json > 0 && json > html;
    }

    /// <summary>True when the request's body is declared as <paramref name="mediaType"/> (<c>Content-Type</c>, parameters such as <c>charset</c> allowed).</summary>
    public static bool BodyIs(HttpRequest request, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(request);
        return MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase);
    }

    private static (double Html, double Json) Qualities(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Accept;
        if (header.Count == 0 || !MediaTypeHeaderValue.TryParseList(header, out var ranges) || ranges.Count == 0)
        {
            return (1, 1);
        }

        var html = QualityOf(ranges, "text", "html");
        var json = Math.Max(QualityOf(ranges, "application", "json"), QualityOf(ranges, "application", "problem+json"));
        return (html, json);
    }

    private static double QualityOf(IList<MediaTypeHeaderValue> ranges, string type, string subtype)
    {
        // Specificity: 2 for type/subtype, 1 for type/*, 0 for */*; the most specific match decides.
        var best = -1;
        double quality = 0;
        foreach (var range in ranges)
        {
            var rangeType = range.Type.Value;
            var rangeSubtype = range.SubType.Value;
            int specificity;
            if (rangeType == "*" && rangeSubtype == "*")
            {
                specificity = 0;
            }
            else if (string.Equals(rangeType, type, StringComparison.OrdinalIgnoreCase) && rangeSubtype == "*")
            {
                specificity = 1;
            }
            else if (string.Equals(rangeType, type, StringComparison.OrdinalIgnoreCase) && string.Equals(rangeSubtype, subtype, StringComparison.OrdinalIgnoreCase))
            {
                specificity = 2;
            }
            else
            {
                continue;
            }

            var q = range.Quality ?? 1;
            if (specificity > best || (specificity == best && q > quality))
            {
                best = specificity;
                quality = q;
            }
        }

        return quality;
    }
}
