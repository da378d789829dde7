using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>
/// Whose offsets (<c>Smp:Reminders</c>) the stored reminder index belongs to. Hosts that share storage may run with
/// different offsets for a while (a settings change rolling across instances, a staging slot): the index belongs to
/// the live configuration first seen most recently (see the store's rule), and a host of another configuration destroys
/// nothing of it.
/// </summary>
public interface IReminderIndexOwnership
{
    /// <summary>Null when the index is this host's to use (or to take over); otherwise the conflict, naming both offset lists.</summary>
    Task<ReminderOffsetsConflict?> CheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Records that this host still runs its configuration (refreshes its lease, at most every 10 minutes). The mail
    /// dispatcher calls it every run, so a live owner keeps the index even when its scan schedule pauses for days.
    /// </summary>
    Task KeepAliveAsync(CancellationToken cancellationToken);
}

/// <summary>This host runs with <paramref name="OwnOffsets"/>, the index belongs to <paramref name="IndexOffsets"/> ("90,30").</summary>
public sealed record ReminderOffsetsConflict(string OwnOffsets, string IndexOffsets)
{
    /// <summary>Whether the configuration the index belongs to has <paramref name="stage"/>.</summary>
    public bool IndexConfigures(ReminderStage stage)
    {
        return IndexOffsets.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Any(o => int.TryParse(o, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days) && days == stage.DaysBefore);
    }
}

/// <summary>A reminder scan refused because the reminder index belongs to another configuration of <c>Smp:Reminders</c>.</summary>
public sealed class ReminderOffsetsConflictException : Exception
{
    public ReminderOffsetsConflictException(ReminderOffsetsConflict conflict)
        : base($"The reminder index belongs to the offsets {conflict?.IndexOffsets}, started by a newer configuration than this host's {conflict?.OwnOffsets} (Smp:Reminders); this host neither scans nor removes index rows.") =>
        Conflict = conflict ?? throw new ArgumentNullException(nameof(conflict));

    public ReminderOffsetsConflict Conflict { get; }
}
