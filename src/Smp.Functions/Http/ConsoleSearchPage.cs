using System.Text;
using Smp.Core.Search;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>The console's search page (SPEC section 8): the query form and the licenses the index rows found.</summary>
public static class ConsoleSearchPage
{
    public const string Path = "/console/search";

    public static string Body(string query, ValidationErrors? errors, SearchResult? result)
    {
        var html = new StringBuilder(ErrorSummary(errors));
        html.Append("<form method=\"get\" action=\"").Append(Path).Append("\" aria-label=\"Search licenses\">")
            .Append(Field("search-q", "q", "Search for (a serial or its start, a customer id, a word of the customer's name, a contact's email)", query, errors, "search", " maxlength=\"" + Number(SearchQuery.MaxLength) + "\""))
            .Append("<button type=\"submit\">Search</button></form>");
        if (result is null)
        {
            return html.ToString();
        }

        if (result.Matches.Count == 0)
        {
            return html.Append("<p id=\"no-matches\">No license matches.</p>").ToString();
        }

        html.Append("<table class=\"results\"><caption>Licenses found</caption><thead><tr><th scope=\"col\">Serial</th><th scope=\"col\">Customer</th><th scope=\"col\">Customer id</th>")
            .Append("<th scope=\"col\">Product</th><th scope=\"col\">Status</th><th scope=\"col\">Expires on</th></tr></thead><tbody>");
        foreach (var match in result.Matches)
        {
            var customer = "/console/customers/" + Uri.EscapeDataString(match.CustomerId);
            html.Append("<tr><td><a href=\"/console/licenses/").Append(H(Uri.EscapeDataString(match.Serial.Value))).Append("\">").Append(H(match.Serial.Value)).Append("</a></td>")
                .Append("<td><a href=\"").Append(H(customer)).Append("\">").Append(H(match.CustomerName)).Append("</a></td>")
                .Append("<td>").Append(H(match.CustomerId)).Append("</td><td>").Append(H(match.Product)).Append("</td><td>").Append(H(match.Status.ToString()))
                .Append("</td><td>").Append(Date(match.ExpiresOn)).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
        if (result.More)
        {
            html.Append("<p id=\"more-matches\">More licenses match than are listed here: add to the query to narrow it.</p>");
        }

        return html.ToString();
    }
}
