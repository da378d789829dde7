using Microsoft.Extensions.Logging;
using Smp.Core.Observability;
using Smp.Core.Reminders;

namespace Smp.Functions.Hosting;

/// <summary>
/// The reminder index's ownership as the dispatcher asks it: a conflict (the index belongs to other offsets than this
/// host's) is logged as an error and counted, naming both offset lists, each time it keeps this host from withdrawing
/// a reminder.
/// </summary>
internal sealed partial class ReportedReminderIndexOwnership(IReminderIndexOwnership inner, SmpMetrics metrics, ILogger<ReportedReminderIndexOwnership> logger) : IReminderIndexOwnership
{
    public async Task<ReminderOffsetsConflict?> CheckAsync(CancellationToken cancellationToken)
    {
        var conflict = await inner.CheckAsync(cancellationToken);
        if (conflict is not null)
        {
            metrics.ReminderOffsetsConflict(conflict.OwnOffsets, conflict.IndexOffsets);
            LogConflict(logger, conflict.OwnOffsets, conflict.IndexOffsets);
        }

        return conflict;
    }

    public Task KeepAliveAsync(CancellationToken cancellationToken) => inner.KeepAliveAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "A reminder for a stage this host does not configure is judged by the reminder index's offsets {IndexOffsets}, set by a newer configuration, not by this host's {OwnOffsets} (Smp:Reminders). Give every host sharing this storage the same offsets.")]
    private static partial void LogConflict(ILogger logger, string ownOffsets, string indexOffsets);
}
