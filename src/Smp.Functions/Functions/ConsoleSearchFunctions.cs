using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Search;
using Smp.Functions.Http;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Functions;

/// <summary>The console's search (SPEC section 8): the same use case as <c>GET /api/search</c>, answered from index rows.</summary>
public sealed class ConsoleSearchFunctions(ConsoleGate gate, LicenseSearch search)
{
    [Function("ConsoleSearch")]
    public async Task<IActionResult> Search(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/search")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        var text = call.Query("q");
        if (text.Trim().Length == 0)
        {
            return Page(session.Person, StatusCodes.Status200OK, "Search", ConsoleSearchPage.Body(string.Empty, null, null));
        }

        if (request.Query["q"].Count != 1 || SearchQuery.TryParse(text) is not { } query)
        {
            call.Errors.Add("q", $"Type 1-{SearchQuery.MaxLength} characters with at least one letter or digit.");
            return Page(session.Person, StatusCodes.Status400BadRequest, "Search", ConsoleSearchPage.Body(text, call.Errors, null));
        }

        var result = await search.SearchAsync(query, LicenseSearch.DefaultLimit, call.Cancellation);
        return Page(session.Person, StatusCodes.Status200OK, "Search", ConsoleSearchPage.Body(query.Text, null, result));
    }
}
