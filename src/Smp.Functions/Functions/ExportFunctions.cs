using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Licenses;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.Functions.Http;
using Smp.Functions.Staff;

namespace Smp.Functions.Functions;

/// <summary>
/// The export of SPEC section 9: every license as CSV, streamed; for machines with a function key at
/// <c>/api/exports/licenses.csv</c>, for a signed-in Smp.Reader (section 7) at <see cref="ConsolePath"/>, both written by
/// the one <see cref="LicenseCsvResult"/>.
/// </summary>
public sealed partial class ExportFunctions(LicenseService licenses, BusinessCalendar calendar, SmpMetrics metrics, ILogger<ExportFunctions> logger, ConsoleGate gate)
{
    public const string ConsolePath = "/console/exports/licenses.csv";

    [Function("ExportLicenses")]
    public IActionResult ExportLicenses(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/exports/licenses.csv")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return new LicenseCsvResult(licenses, calendar.Today, Unreadable, call.Cancellation);
    }

    [Function("ConsoleExportLicenses")]
    public async Task<IActionResult> ConsoleExportLicenses(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/exports/licenses.csv")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        return session.Refusal ?? new LicenseCsvResult(licenses, calendar.Today, Unreadable, call.Cancellation);
    }

    /// <summary>
    /// A license the export could not read is missing from a file already answered with 200: no problem document can
    /// follow, so it is logged (serial and kind of error only) and counted, never a silent gap.
    /// </summary>
    private void Unreadable(LicenseReadFailure failure)
    {
        LogUnreadable(logger, failure.Serial?.Value ?? "(unknown)", failure.Error.GetType().Name);
        metrics.ExportUnreadable();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "License {Serial} could not be read ({Reason}); left out of the export.")]
    private static partial void LogUnreadable(ILogger logger, string serial, string reason);
}
