using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Licenses;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Functions.Functions;

/// <summary>
/// The daily reminder scan (R8-R10). The schedule is <c>Smp:ReminderSchedule</c> (NCRONTAB, in UTC on Linux
/// plans); the business date is computed in code. After downtime the host runs it once, late: the scan's
/// catch-up rules (R9) then send what is still worth sending. The same daily run prunes the dashboard's latest
/// events older than their retention (SPEC section 8), whether or not anybody reads the dashboard.
/// </summary>
public sealed partial class ReminderFunctions(ReminderScan scan, LatestEventsRetention latestEvents, SmpMetrics metrics, ILogger<ReminderFunctions> logger)
{
    [Function("RunReminderScan")]
    public async Task RunReminderScan([TimerTrigger("%Smp:ReminderSchedule%")] TimerInfo timer, FunctionContext context)
    {
        try
        {
            await ScanAsync(timer, context);
        }
        finally
        {
            await PruneLatestEventsAsync(context.CancellationToken);
        }
    }

    /// <summary>Tidying only: a storage error here never hides the scan's outcome; the next run prunes what is left.</summary>
    private async Task PruneLatestEventsAsync(CancellationToken cancellationToken)
    {
        try
        {
            LogPruned(logger, await latestEvents.PruneAsync(cancellationToken));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogPruneFailed(logger, e.GetType().Name);
        }
    }

    private async Task ScanAsync(TimerInfo timer, FunctionContext context)
    {
        var started = Stopwatch.GetTimestamp();
        ScanReport report;
        try
        {
            report = await scan.RunAsync(new CommandContext(context.FunctionDefinition.Name, context.InvocationId), context.CancellationToken);
        }
        catch (ReminderOffsetsConflictException refused)
        {
            // Another host, of a newer configuration of Smp:Reminders, owns the reminder index: this one destroys nothing.
            metrics.ReminderOffsetsConflict(refused.Conflict.OwnOffsets, refused.Conflict.IndexOffsets);
            LogRefused(logger, refused.Conflict.OwnOffsets, refused.Conflict.IndexOffsets);
            return;
        }

        metrics.ScanCompleted(report.LicensesExamined, report.RemindersDue, report.MailsEnqueued, report.RemindersMissed, Stopwatch.GetElapsedTime(started));
        metrics.ScanFailed(report.RemindersFailed);
        foreach (var failure in report.Failures.IsDefault ? [] : report.Failures)
        {
            LogFailure(logger, failure.Error, string.Join(' ', failure.Serials), failure.Stage ?? "-");
        }

        LogScan(logger, timer.IsPastDue, report.LicensesExamined, report.RemindersDue, report.MailsEnqueued, report.RemindersRepaired, report.RemindersMissed);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Latest events pruned: {Pruned} places older than their retention removed.")]
    private static partial void LogPruned(ILogger logger, int pruned);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Latest events not pruned ({Reason}); the next daily run prunes them.")]
    private static partial void LogPruneFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reminder scan refused: this host's offsets (Smp:Reminders) are {OwnOffsets}, the reminder index belongs to {IndexOffsets}, set by a newer configuration. Give every host sharing this storage the same offsets.")]
    private static partial void LogRefused(ILogger logger, string ownOffsets, string indexOffsets);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reminder scan could not handle serials {Serials} (stage {Stage}); the next scan tries again.")]
    private static partial void LogFailure(ILogger logger, Exception error, string serials, string stage);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reminder scan (late: {PastDue}): {Examined} licenses examined, {Due} reminders due, {Mails} mails enqueued, {Repaired} repaired, {Missed} missed.")]
    private static partial void LogScan(ILogger logger, bool pastDue, int examined, int due, int mails, int repaired, int missed);
}
