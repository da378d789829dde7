using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Reminders;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Mail delivery from the outbox (every minute) and the staff routes for mail that could not be delivered or was superseded.</summary>
public sealed partial class MailFunctions(MailDispatcher dispatcher, IMailOutbox outbox, IReminderIndexOwnership ownership, ILogger<MailFunctions> logger)
{
    /// <summary>Every minute: the dispatcher sends at most the per-minute cap (<c>Smp:Email:MaxPerMinute</c>).</summary>
    public const string DispatchSchedule = "0 */1 * * * *";

    /// <summary>The dispatcher's function name: the actor of the events it records (R15).</summary>
    public const string DispatchFunctionName = "DispatchMail";

    [Function(DispatchFunctionName)]
    public async Task DispatchMail([TimerTrigger(DispatchSchedule)] TimerInfo timer, FunctionContext context)
    {
        // Every minute, so that this host's reminder configuration stays alive between scans days apart (R9).
        await ownership.KeepAliveAsync(context.CancellationToken);
        var report = await dispatcher.RunAsync(context.CancellationToken);
        LogDispatch(logger, report.Sent, report.Retried, report.Failed, report.Reconciled, report.Throttled, report.Purged);
    }

    [Function("ListMail")]
    public async Task<IActionResult> ListMail(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/mail")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var status = request.Query["status"];
        var listed = status.Count != 1 ? null : status[0] switch
        {
            "failed" => outbox.ListFailedAsync(call.Cancellation),
            "superseded" => outbox.ListSupersededAsync(call.Cancellation),
            _ => null,
        };
        if (listed is null)
        {
            call.Errors.Add("status", "Only status=failed (mail that could not be delivered) or status=superseded (reminders overtaken by a renewal, or by a change of their stage, before they went out) is listed.");
            return call.Invalid();
        }

        var mail = await listed;
        return new OkObjectResult(new { mail = mail.Select(m => MailDocument.From(m.Message)).ToList() });
    }

    [Function("RetryMail")]
    public async Task<IActionResult> RetryMail(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/mail/{id}/retry")] HttpRequest request,
        string id,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (!Smp.Core.Mail.OutgoingMail.IsValidId(id))
        {
            call.Errors.Add("id", "A mail id is a GUID such as 3f2b8c1e-6a4d-4c1b-9a51-0c6f1f0f7a11.");
            return call.Invalid();
        }

        // A GUID's letter case carries no meaning, but the outbox keys messages by the lower-case form it issues.
        var canonical = Guid.ParseExact(id, "D").ToString("D");
        return await dispatcher.RetryAsync(canonical, call.Cancellation) switch
        {
            RetryOutcome.Requeued => new AcceptedResult(),
            RetryOutcome.NotFound => Problems.NotFound("No mail has this id."),
            _ => Problems.Conflict("Only failed mail can be retried; this mail is pending or already sent."),
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail dispatch: {Sent} sent, {Retried} to retry, {Failed} failed, {Reconciled} reconciled, throttled: {Throttled}, {Purged} sent bodies cleared.")]
    private static partial void LogDispatch(ILogger logger, int sent, int retried, int failed, int reconciled, bool throttled, int purged);
}

/// <summary>What staff see of a message: addresses, subject and delivery state, not the bodies.</summary>
public sealed record MailDocument(string Id, string Kind, string Status, string Subject, IReadOnlyList<string> To, int Attempts, Instant CreatedAt, string? LastError, Instant? SentAt)
{
    /// <summary>What was dropped from the mail before it went out, or why it never did (R9).</summary>
    public string? Note { get; init; }

    public static MailDocument From(OutboxMessage message) => new(
        message.Id,
        message.Kind,
        message.Status.ToString().ToLowerInvariant(),
        message.Mail.Subject,
        [.. message.Mail.To.Select(a => a.Value)],
        message.Attempts,
        message.CreatedAt,
        message.LastError,
        message.SentAt)
    {
        Note = message.Note,
    };
}
