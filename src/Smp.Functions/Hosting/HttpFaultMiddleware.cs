using Azure;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Smp.Core.Licenses;
using Smp.Functions.Http;

namespace Smp.Functions.Hosting;

/// <summary>
/// Turns a fault escaping an HTTP function into a problem document: 503 (retry) when storage is
/// unavailable or a record stayed busy, 500 otherwise. On the customer routes the answer is a page for a caller that
/// prefers HTML (their headers are already set by <see cref="CustomerHeadersMiddleware"/>, which runs around this one). The log line names the function and the fault's
/// type only: request bodies, and so any secret in them, never reach it.
/// </summary>
public sealed partial class HttpFaultMiddleware(ILogger<HttpFaultMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (context.GetHttpContext() is { } http && !http.Response.HasStarted)
        {
            var fault = ex is AggregateException { InnerException: { } inner } ? inner : ex;
            var problem = fault switch
            {
                ConcurrencyExhaustedException => Problems.Busy("The license was changed by other requests at the same time; retry the request."),
                RequestFailedException or TimeoutException or HttpRequestException => Problems.Unavailable("Storage did not answer; nothing was changed that a retry would duplicate. Retry the request."),
                OperationCanceledException when context.CancellationToken.IsCancellationRequested => null,
                _ => new ObjectResult(new ProblemDetails
                {
                    Type = "urn:smp:problem:internal",
                    Title = "The request failed.",
                    Status = StatusCodes.Status500InternalServerError,
                    Detail = $"Quote correlation id {RequestAudit.CorrelationId(http.Request, context)} when reporting this.",
                })
                {
                    StatusCode = StatusCodes.Status500InternalServerError,
                    ContentTypes = { Problems.ContentType },
                },
            };

            LogFault(logger, context.FunctionDefinition.Name, fault.GetType().Name, fault is RequestFailedException rf ? rf.Status : 0);
            if (problem is null)
            {
                throw;
            }

            IActionResult answer = problem;
            if (CustomerResponses.CustomerFunctions.Contains(context.FunctionDefinition.Name))
            {
                // A customer route: a page for a browser (SPEC section 5).
                answer = CustomerResponses.ForCaller(http.Request, problem);
            }

            await answer.ExecuteResultAsync(new ActionContext { HttpContext = http });
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {Function} failed with {FaultType} (status {Status}).")]
    private static partial void LogFault(ILogger logger, string function, string faultType, int status);
}
