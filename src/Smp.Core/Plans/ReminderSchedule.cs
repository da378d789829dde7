using System.Collections.Immutable;
using NodaTime;

namespace Smp.Core.Plans;

/// <summary>A reminder stage: how many days before expiry it is due ("90-day", "30-day").</summary>
public readonly record struct ReminderStage(int DaysBefore)
{
    public string Name => $"{DaysBefore}-day";

    public override string ToString() => Name;
}

/// <summary>A reminder the plan calls for: of <see cref="Stage"/>, due on <see cref="DueOn"/>, about the plan expiring on <see cref="ExpiresOn"/>.</summary>
public sealed record PlannedReminder(ReminderStage Stage, LocalDate DueOn, LocalDate ExpiresOn);

/// <summary>
/// R8 and R9 as pure functions. The stages come from configuration (<c>Smp:Reminders</c>, default 90 and 30
/// days). The last stage (fewest days) applies to every term; earlier stages apply only to terms of twelve
/// months or more, which is the page's rule ("90 days ... if your SMP period is one year") generalised to any
/// configured offsets.
/// </summary>
public sealed class ReminderSchedule
{
    public static readonly ImmutableArray<int> DefaultOffsets = [90, 30];

    public ReminderSchedule(IEnumerable<int> offsets)
    {
        var sorted = offsets.Distinct().OrderDescending().ToImmutableArray();
        if (sorted.IsEmpty || sorted.Any(d => d is < 1 or > 366))
        {
            throw new ArgumentException("Reminder offsets are 1-366 days, at least one.", nameof(offsets));
        }

        Stages = [.. sorted.Select(d => new ReminderStage(d))];
    }

    public static ReminderSchedule Default { get; } = new(DefaultOffsets);

    /// <summary>The stages, earliest first (most days before expiry first).</summary>
    public ImmutableArray<ReminderStage> Stages { get; }

    /// <summary>The largest offset: no reminder can be due earlier than this many days before an expiry.</summary>
    public int MaxDaysBefore => Stages[0].DaysBefore;

    /// <summary>
    /// R8: the reminders for the term that ends at the license's <c>expiresOn</c>, each due exactly on
    /// <c>expiresOn</c> minus its offset, for every term. The one floor is the license's activation (R4: its first
    /// covered day): a reminder is never due before it. R9 still sends it only while <c>expiresOn</c> is after the day.
    /// </summary>
    public ImmutableArray<PlannedReminder> Planned(License license)
    {
        if (license.Replacement is not null)
        {
            // SPEC section 10: from the intent on, the plan's reminders belong to the new serial.
            return [];
        }

        var term = license.Terms[^1];
        var builder = ImmutableArray.CreateBuilder<PlannedReminder>(Stages.Length);
        for (var i = 0; i < Stages.Length; i++)
        {
            var stage = Stages[i];
            var isLast = i == Stages.Length - 1;
            if (!isLast && !term.IsYearOrLonger)
            {
                continue;
            }

            var due = LocalDate.Max(term.End.PlusDays(-stage.DaysBefore), license.Terms[0].CoveredFrom);
            builder.Add(new PlannedReminder(stage, due, term.End));
        }

        return builder.ToImmutable();
    }

    /// <summary>
    /// Planned reminders not yet sent or given up, and not superseded by a later stage already sent or given up
    /// for the same expiry (R9: at most once, ever; a renewal moves <c>expiresOn</c>, which drops the old ones).
    /// </summary>
    public ImmutableArray<PlannedReminder> Pending(License license)
    {
        var recorded = license.Reminders.Where(r => r.ExpiresOn == license.ExpiresOn).ToList();
        var latestRecorded = recorded.Count == 0 ? int.MaxValue : recorded.Min(r => r.Stage.DaysBefore);
        return [.. Planned(license).Where(p => p.Stage.DaysBefore > 0 && p.Stage.DaysBefore < latestRecorded)];
    }

    /// <summary>
    /// R9: the one reminder to send on <paramref name="today"/>, if any: the latest stage among the pending
    /// reminders due on or before today, while the plan has not expired yet.
    /// </summary>
    public PlannedReminder? DueOn(License license, LocalDate today) =>
        Pending(license)
            .Where(p => p.DueOn <= today && p.ExpiresOn > today)
            .OrderBy(p => p.Stage.DaysBefore)
            .FirstOrDefault();

    /// <summary>
    /// Pending reminders that can no longer be sent because the plan expired before any run sent them (the
    /// timer was down): recorded as missed, so that they are visible and never sent late.
    /// </summary>
    public ImmutableArray<PlannedReminder> Missed(License license, LocalDate today) =>
        license.ExpiresOn <= today ? Pending(license) : [];
}
