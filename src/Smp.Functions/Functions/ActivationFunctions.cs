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
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "activations")] HttpRequest request,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        using var body = await JsonBody.ReadObjectAsync(request, errors, context.CancellationToken);
        var command = body is null ? null : RequestReaders.Activation(body, errors, calendar.Now);
        if (command is null)
        {
            return Problems.Validation(errors);
        }

        var result = await licenses.ActivateAsync(command, RequestAudit.For(request, context), context.CancellationToken);
        return results.For(result);
    }
}
