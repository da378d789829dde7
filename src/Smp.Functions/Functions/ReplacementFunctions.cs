using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>SPEC section 10: a broken or lost dongle replaced by a new one; the plan moves to the new serial.</summary>
public sealed class ReplacementFunctions(LicenseService licenses, LicenseResults results)
{
    /// <summary>
    /// 201 with the new serial's license; the same replacement again 200 with the same document; an already replaced
    /// serial onto another serial, or onto a serial that exists, 409; onto the same serial 400 naming <c>newSerial</c>.
    /// </summary>
    [Function("ReplaceDongle")]
    public async Task<IActionResult> ReplaceDongle(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/licenses/{serial}/replacement")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var parsed = RequestReaders.Serial(serial, call.Errors);
        using var body = await call.JsonAsync();
        var command = body is null ? null : RequestReaders.Replacement(body, parsed, call.Errors);
        if (parsed is null || command is not { } replacement)
        {
            return call.Invalid();
        }

        var result = await licenses.ReplaceAsync(parsed.Value, replacement.NewSerial, replacement.Reason, call.Audit, call.Cancellation);
        return results.For(result);
    }
}
