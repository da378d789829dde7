using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using NodaTime;
using Smp.Core.Digest;
using Smp.Core.Licenses;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.Functions.Http;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Functions;

/// <summary>
/// The console's renewals page (SPEC section 8): the expiring report of <c>GET /api/reports/expiring</c> for a chosen
/// range, a page at a time, and the same range as CSV, written by the export's writer; below the report, the weekly
/// digest's lists (section 11).
/// </summary>
public sealed partial class ConsoleRenewalsFunctions(
    ConsoleGate gate,
    LicenseService licenses,
    LicenseResults results,
    BusinessCalendar calendar,
    SmpMetrics metrics,
    ILogger<ConsoleRenewalsFunctions> logger,
    RenewalsDigestService digests)
{
    [Function("ConsoleRenewals")]
    public async Task<IActionResult> Renewals(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/renewals")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        var range = Range(call);
        var after = ReportFunctions.ContinuationToken(request, call.Errors);
        if (range is not var (from, to) || call.HasErrors)
        {
            return Page(session.Person, StatusCodes.Status400BadRequest, "Renewals", ConsoleRenewalsPage.RangeForm(call.Query("from"), call.Query("to"), call.Errors));
        }

        var page = await licenses.ListExpiringPageAsync(from, to, after, ConsoleRenewalsPage.PageSize, call.Cancellation);
        var unreadable = (page.Unreadable ?? []).Select(f => f.Serial?.Value).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        foreach (var failure in page.Unreadable ?? [])
        {
            LogUnreadable(logger, failure.Serial?.Value ?? "(unknown)", failure.Error.GetType().Name);
        }

        var next = page.Next is { } position ? ReportFunctions.FormatToken(position) : null;
        var body = ConsoleRenewalsPage.Body(from, to, [.. page.Licenses.Select(l => results.Document(l))], next, after is not null, unreadable);

        // SPEC section 11: the weekly digest's lists, computed by the digest's own use case as of today (on the first
        // page of the report only: the later pages are the report's).
        if (after is null)
        {
            body += ConsoleRenewalsPage.Digest(await digests.ComputeAsync(calendar.Today, call.Cancellation));
        }

        return Page(session.Person, StatusCodes.Status200OK, "Renewals", body);
    }

    [Function("ConsoleRenewalsCsv")]
    public async Task<IActionResult> RenewalsCsv(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/renewals.csv")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        if (Range(call) is not var (from, to) || call.HasErrors)
        {
            return Page(session.Person, StatusCodes.Status400BadRequest, "Renewals", ConsoleRenewalsPage.RangeForm(call.Query("from"), call.Query("to"), call.Errors));
        }

        return new LicenseCsvResult(licenses, calendar.Today, Unreadable, call.Cancellation, range: (from, to), fileName: $"renewals-{Date(from)}-{Date(to)}.csv");
    }

    /// <summary>The chosen range (today and the next 90 days when none is given), read as the API's report reads it.</summary>
    private (LocalDate From, LocalDate To)? Range(HttpCall call)
    {
        var request = call.Request;
        var today = calendar.Today;
        var from = request.Query.ContainsKey("from") ? ReportFunctions.Date(request, "from", call.Errors) : today;
        var to = request.Query.ContainsKey("to") ? ReportFunctions.Date(request, "to", call.Errors) : today.Plus(ConsoleRenewalsPage.DefaultRange);
        if (from is { } f && to is { } t && t < f)
        {
            call.Errors.Add("to", "'to' must not be before 'from'.");
        }

        return from is { } start && to is { } end && !call.HasErrors ? (start, end) : null;
    }

    private void Unreadable(LicenseReadFailure failure)
    {
        LogUnreadable(logger, failure.Serial?.Value ?? "(unknown)", failure.Error.GetType().Name);
        metrics.ExportUnreadable();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "License {Serial} could not be read ({Reason}); left out of the renewals list.")]
    private static partial void LogUnreadable(ILogger logger, string serial, string reason);
}
