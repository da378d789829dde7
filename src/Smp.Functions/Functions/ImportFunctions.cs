using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Imports;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>
/// The CSV import of SPEC section 9: the staff routes that start an import and show its progress, and the timer that
/// advances the stored jobs in the background (a job left half-way by a crash is picked up by the next run).
/// </summary>
public sealed partial class ImportFunctions(ImportService imports, ILogger<ImportFunctions> logger)
{
    /// <summary>Every 20 seconds: imports start soon after they are posted.</summary>
    public const string ProcessSchedule = "*/20 * * * * *";

    public const string ProcessFunctionName = "ProcessImports";

    /// <summary>The most batches of rows one run advances, over all jobs; the next run goes on.</summary>
    public const int MaxBatchesPerRun = 500;

    [Function("StartImport")]
    public async Task<IActionResult> StartImport(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/imports")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var dryRunText = call.Query("dryRun");
        bool? dryRun = dryRunText switch { "true" => true, "false" => false, _ => null };
        if (dryRun is null)
        {
            call.Errors.Add("dryRun", "Give dryRun=true (report only) or dryRun=false (import).");
        }

        if (!ContentNegotiation.BodyIs(request, "text/csv"))
        {
            call.Errors.Add("Content-Type", "The body is a CSV file: send it as text/csv.");
        }

        if (call.HasErrors)
        {
            return call.Invalid();
        }

        var body = await call.BytesAsync(ImportFile.MaxBytes);
        if (body is null)
        {
            return Problems.PayloadTooLarge($"An import file is at most {ImportFile.MaxBytes / (1024 * 1024)} MiB; split it into several files.");
        }

        var start = await imports.StartAsync(body, dryRun!.Value, call.Audit, call.Cancellation);
        if (start.Job is not { } job)
        {
            foreach (var error in start.Errors)
            {
                call.Errors.Add(error.Column ?? "body", error.Message);
            }

            return call.Invalid();
        }

        return new AcceptedResult($"/api/imports/{job.Id}", ImportDocument.From(job));
    }

    [Function("GetImport")]
    public async Task<IActionResult> GetImport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/imports/{id}")] HttpRequest request,
        string id,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (id is not { Length: 32 } || !id.All(char.IsAsciiHexDigitLower))
        {
            call.Errors.Add("id", "An import id is the 32 lower-case hex digits of the Location the import answered with.");
            return call.Invalid();
        }

        var job = await imports.GetAsync(id, call.Cancellation);
        return job is null
            ? Problems.NotFound($"There is no import {id}.")
            : new OkObjectResult(ImportDocument.From(job));
    }

    [Function(ProcessFunctionName)]
    public async Task ProcessImports([TimerTrigger(ProcessSchedule)] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = await imports.ProcessPendingAsync(MaxBatchesPerRun, context.CancellationToken);
        if (rows > 0)
        {
            LogProcessed(logger, rows);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Import rows processed: {Rows}.")]
    private static partial void LogProcessed(ILogger logger, int rows);
}
