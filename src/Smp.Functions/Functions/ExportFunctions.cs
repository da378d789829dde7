using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Licenses;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>The export of SPEC section 9: every license as CSV, streamed.</summary>
public sealed partial class ExportFunctions(LicenseService licenses, BusinessCalendar calendar, SmpMetrics metrics, ILogger<ExportFunctions> logger)
{
    [Function("ExportLicenses")]
    public IActionResult ExportLicenses(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/exports/licenses.csv")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return new LicenseCsvResult(licenses, calendar.Today, Unreadable, call.Cancellation);
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
