using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Search;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Staff search (section 8): a serial or its start, a customer id, a word of the customer's name, a contact's email.</summary>
public sealed class SearchFunctions(LicenseSearch search)
{
    [Function("SearchLicenses")]
    public async Task<IActionResult> SearchLicenses(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/search")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var query = Query(request, call.Errors);
        var limit = Limit(request, call.Errors);
        if (call.HasErrors)
        {
            return call.Invalid();
        }

        var result = await search.SearchAsync(query!, limit, call.Cancellation);
        return new OkObjectResult(new SearchDocument(query!.Text, [.. result.Matches.Select(SearchMatchDocument.From)], result.More));
    }

    private static SearchQuery? Query(HttpRequest request, ValidationErrors errors)
    {
        var values = request.Query["q"];
        if (values.Count == 1 && SearchQuery.TryParse(values[0]) is { } query)
        {
            return query;
        }

        errors.Add("q", $"Expected the text to search for, once: 1-{SearchQuery.MaxLength} characters with at least one letter or digit.");
        return null;
    }

    private static int Limit(HttpRequest request, ValidationErrors errors)
    {
        var values = request.Query["limit"];
        if (values.Count == 0)
        {
            return LicenseSearch.DefaultLimit;
        }

        if (values.Count == 1 && values[0] is { Length: > 0 and <= 3 } text && text.All(char.IsAsciiDigit)
            && int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) is >= 1 and <= LicenseSearch.MaxLimit and var limit)
        {
            return limit;
        }

        errors.Add("limit", $"Expected a whole number from 1 to {LicenseSearch.MaxLimit}, once.");
        return LicenseSearch.DefaultLimit;
    }
}

/// <summary>The answer of <c>GET /api/search</c>: the matches, in the order of the look-ups that found them; <c>more</c> when the limit cut the list.</summary>
public sealed record SearchDocument(string Query, IReadOnlyList<SearchMatchDocument> Matches, bool More);

public sealed record SearchMatchDocument(string Serial, CustomerDocument Customer, string Product, LocalDate ExpiresOn, PlanStatus Status)
{
    public static SearchMatchDocument From(SearchMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        return new SearchMatchDocument(match.Serial.Value, new CustomerDocument(match.CustomerId, match.CustomerName), match.Product, match.ExpiresOn, match.Status);
    }
}
