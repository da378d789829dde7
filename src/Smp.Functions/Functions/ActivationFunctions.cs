using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>The vendor's activation mail flow reports each activation email it sends.</summary>
public sealed class ActivationFunctions(LicenseService licenses, BusinessCalendar calendar, LicenseResults results)
{
    [Function("RecordActivation")]
    public async Task<IActionResult> RecordActivation(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/activations")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        using var body = await call.JsonAsync();
        var command = body is null ? null : RequestReaders.Activation(body, call.Errors, calendar.Now);
        if (command is null)
        {
            return call.Invalid();
        }

        var result = await licenses.ActivateAsync(command, call.Audit, call.Cancellation);
        return results.For(result);
    }
}
