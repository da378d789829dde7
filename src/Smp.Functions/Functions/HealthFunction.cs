using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Liveness for monitors: 200 when Table Storage answers, else 503.</summary>
public sealed class HealthFunction(ILicenseStore store)
{
    [Function("Health")]
    public async Task<IActionResult> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/health")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(call.Cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        bool healthy;
        try
        {
            healthy = await store.PingAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!call.Cancellation.IsCancellationRequested)
        {
            healthy = false;
        }

        return healthy
            ? new OkObjectResult(new { status = "healthy" })
            : Problems.Unavailable("Table Storage does not answer.");
    }
}
