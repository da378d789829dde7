using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Staff look-ups across licenses: a customer's licenses, and plans expiring in a date range.</summary>
public sealed partial class ReportFunctions(LicenseService licenses, LicenseResults results, ILogger<ReportFunctions> logger)
{
    /// <summary>
    /// The most licenses one page of the expiring report lists (and the default of <c>limit</c>). Any range is
    /// answered, a page at a time, so one request never holds more than this many licenses in memory.
    /// </summary>
    public const int MaxPageSize = 100;

    private const char TokenSeparator = '_';

    [Function("ListCustomerLicenses")]
    public async Task<IActionResult> ListCustomerLicenses(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/customers/{customerId}/licenses")] HttpRequest request,
        string customerId,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (RequestReaders.CustomerId(customerId, call.Errors) is not { } id)
        {
            return call.Invalid();
        }

        var listed = await licenses.ListCustomerAsync(id, call.Cancellation);
        var unreadable = Unreadable(listed.Unreadable);
        var found = listed.Licenses;
        if (found.Count == 0)
        {
            return unreadable is null
                ? Problems.NotFound("No license belongs to this customer.")
                : Problems.Unavailable("The licenses of this customer could not be read; retry the request.");
        }

        var customer = found[0].License.Customer;
        return new OkObjectResult(new CustomerLicensesDocument(
            new CustomerDocument(customer.Id, customer.Name),
            [.. found.Select(l => results.Document(l))],
            unreadable));
    }

    [Function("ExpiringReport")]
    public async Task<IActionResult> ExpiringReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/reports/expiring")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var from = Date(request, "from", call.Errors);
        var to = Date(request, "to", call.Errors);
        if (from is { } f && to is { } t && t < f)
        {
            call.Errors.Add("to", "'to' must not be before 'from'.");
        }

        var limit = Limit(request, call.Errors);
        var after = ContinuationToken(request, call.Errors);
        if (call.HasErrors)
        {
            return call.Invalid();
        }

        var page = await licenses.ListExpiringPageAsync(from!.Value, to!.Value, after, limit, call.Cancellation);
        var token = page.Next is { } next ? FormatToken(next) : null;
        var nextLink = token is null ? null : QueryHelpers.AddQueryString(
            (request.PathBase + request.Path).ToString(),
            new Dictionary<string, string?>
            {
                ["from"] = LocalDatePattern.Iso.Format(from.Value),
                ["to"] = LocalDatePattern.Iso.Format(to.Value),
                ["limit"] = limit.ToString(CultureInfo.InvariantCulture),
                ["continuationToken"] = token,
            });
        return new OkObjectResult(new ExpiringReportDocument(from.Value, to.Value, [.. page.Licenses.Select(l => results.Document(l))], token, nextLink, Unreadable(page.Unreadable ?? [])));
    }

    /// <summary>The serials of the licenses a listing could not read, each logged (serial and kind of error only); null when none.</summary>
    private List<string>? Unreadable(IReadOnlyList<LicenseReadFailure> failures)
    {
        if (failures.Count == 0)
        {
            return null;
        }

        foreach (var failure in failures)
        {
            LogUnreadable(logger, failure.Serial?.Value ?? "(unknown)", failure.Error.GetType().Name);
        }

        return [.. failures.Select(f => f.Serial?.Value).OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "License {Serial} could not be read ({Reason}); left out of the listing.")]
    private static partial void LogUnreadable(ILogger logger, string serial, string reason);

    private static int Limit(HttpRequest request, ValidationErrors errors)
    {
        var values = request.Query["limit"];
        if (values.Count == 0)
        {
            return MaxPageSize;
        }

        if (values.Count == 1 && values[0] is { Length: > 0 and <= 3 } text && text.All(char.IsAsciiDigit)
            && int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) is >= 1 and <= MaxPageSize and var limit)
        {
            return limit;
        }

        errors.Add("limit", $"Expected a whole number from 1 to {MaxPageSize}, once.");
        return MaxPageSize;
    }

    /// <summary>The token of a page that has more after it: <c>yyyy-MM-dd_SERIAL</c> of the last license listed.</summary>
    internal static string FormatToken(ExpiryPosition position) =>
        LocalDatePattern.Iso.Format(position.ExpiresOn) + TokenSeparator + position.Serial.Value;

    internal static ExpiryPosition? ContinuationToken(HttpRequest request, ValidationErrors errors)
    {
        var values = request.Query["continuationToken"];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count == 1 && values[0] is { } token && token.Split(TokenSeparator) is [var date, var serial]
            && JsonFields.TryParseDate(date, out var expiresOn) && Serial.TryParse(serial, out var parsed) && parsed.Value == serial)
        {
            return new ExpiryPosition(expiresOn, parsed);
        }

        errors.Add("continuationToken", "Expected the continuationToken of the previous page, once.");
        return null;
    }

    internal static LocalDate? Date(HttpRequest request, string name, ValidationErrors errors)
    {
        var values = request.Query[name];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            errors.Add(name, "A date (yyyy-MM-dd) is required, once.");
            return null;
        }

        if (!JsonFields.TryParseDate(values[0]!, out var date))
        {
            errors.Add(name, "Expected a date as yyyy-MM-dd.");
            return null;
        }

        return date;
    }
}
