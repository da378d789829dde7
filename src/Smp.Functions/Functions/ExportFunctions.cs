using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>The export of SPEC section 9: every license as CSV, streamed.</summary>
public sealed class ExportFunctions(LicenseService licenses, BusinessCalendar calendar)
{
    [Function("ExportLicenses")]
    public IActionResult ExportLicenses(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/exports/licenses.csv")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return new LicenseCsvResult(licenses, calendar.Today, call.Cancellation);
    }
}
