using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>
/// R9 at send time: a reminder mail says "your plan expires on X". Just before it goes out, each license it lists is
/// read again; a license whose <c>expiresOn</c> is no longer X (a renewal or training moved it; or it is gone), or
/// whose reminder stage is no longer configured (<c>Smp:Reminders</c>, the same schedule the scan and the reminder
/// index use), is dropped; so is one whose plan has expired by the time the mail would go out (<c>expiresOn</c> on or
/// before today in <c>Smp:BusinessTimeZone</c>: reminders go out only while <c>expiresOn</c> is after the day they are
/// sent, and a missed reminder is never sent late, however long the mail waited: a staff retry, backoff, an outage).
/// So is a license whose dongle is being replaced or was replaced (SPEC section 10), unless the
/// reminder is the one that counts for the plan (see <see cref="PlanOfReplacedAsync"/>). None left: the mail is superseded and never sent. Some left: the mail is composed again
/// for those only, under the same id. Other kinds of mail, and reminders stored without their claims, go out as stored.
/// <para>
/// R15: each license dropped is first recorded as withdrawn from the mail (a <c>reminderWithdrawn</c> event beside the
/// <c>reminderSent</c> one, see <see cref="PlanDecisions.WithdrawReminder"/>), before the dispatcher stores the
/// decision. The record is idempotent, and a license recorded as withdrawn from this mail stays dropped, so a
/// dispatcher that dies between the two writes comes to the same decision when the lease runs out; so does a license
/// that by then records the reminder in another mail (queued again after a "stage not configured" withdrawal, see
/// <see cref="RecordedElsewhere"/>).
/// </para>
/// </summary>
/// <remarks>
/// While the reminder index belongs to another, newer configuration (<see cref="IReminderIndexOwnership"/>), every
/// stage is judged by that configuration's offsets, not this host's, in both directions: a stage only the owner has is
/// still due, a stage only this host has is withdrawn. The ownership is read once per mail.
/// </remarks>
public sealed class ReminderSendCheck(ILicenseStore store, IReminderMailComposer composer, ReminderSchedule schedule, LicenseService licenses, BusinessCalendar calendar, string actor, IReminderIndexOwnership? ownership = null) : IMailSendCheck
{
    public async Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Kind != MailKinds.Reminder || message.Claims.Count == 0)
        {
            return new SendDecision.Unchanged();
        }

        var today = calendar.Today;
        var conflict = ownership is null ? null : await ownership.CheckAsync(cancellationToken);
        var due = new List<(MailClaim Claim, DueReminder Item)>();
        var overtaken = new List<(Serial Serial, ReminderStage Stage, NodaTime.LocalDate ExpiresOn, string Why, bool Stored, bool StageNotConfigured, string? WithdrawnFrom, Serial? Holder)>();
        var versions = new Dictionary<Serial, long>(); // Of the licenses still due, as read: the fence before the send.
        foreach (var claim in message.Claims)
        {
            if (!claim.TryParseReminder(out var serial, out var expiresOn, out var stage, out var withdrawnFrom))
            {
                return new SendDecision.Unchanged(); // Not a claim this check understands: leave the mail alone.
            }

            var read = await store.GetAsync(serial, cancellationToken);
            var stored = read?.License;
            var (holder, replaced) = stored?.Replacement is null ? (read, null) : await PlanOfReplacedAsync(serial, expiresOn, stage, message.Id, cancellationToken);
            var license = holder?.License;
            Drop? drop = stored is null ? new Drop("no longer stored")
                : replaced is not null ? new Drop(replaced)
                : license!.ExpiresOn != expiresOn ? new Drop($"now expires on {license.ExpiresOn:yyyy-MM-dd}, not {expiresOn:yyyy-MM-dd}")
                : expiresOn <= today ? new Drop($"the plan expired on {expiresOn:yyyy-MM-dd} before delivery")
                : !Configured(stage, conflict) ? Drop.NotConfigured(stage)
                : RecordedElsewhere(stored.Reminders.FirstOrDefault(r => r.ExpiresOn == expiresOn && r.Stage == stage), message.Id, withdrawnFrom) is { } elsewhere ? new Drop(elsewhere)
                : null;
            if (drop is { } dropped)
            {
                // A replaced serial's reminder judged on the license holding the plan, which records it in this mail.
                var planHolder = replaced is null && license is not null && license.Serial != serial ? license.Serial : (Serial?)null;
                // Withdrawn for its stage alone (queued again by offsets that have it) only when no earlier attempt may
                // have reached the provider (an unknown outcome, a recorded hand-over): such a mail is settled, so the
                // reminder is never delivered twice (R9).
                overtaken.Add((serial, stage, expiresOn, dropped.Why, stored is not null, dropped.StageNotConfigured && !message.InDoubt, withdrawnFrom, planHolder));
                continue;
            }

            // A mail composed again names each license as it was queued for (a replaced one under its old serial).
            due.Add((claim, new DueReminder(stored!, new PlannedReminder(stage, expiresOn.PlusDays(-stage.DaysBefore), expiresOn))));
            versions[serial] = read!.Version;
            if (holder!.License.Serial != serial)
            {
                versions[holder.License.Serial] = holder.Version; // Expiry was judged on the replacement: fence it too.
            }
        }

        if (overtaken.Count == 0)
        {
            return new SendDecision.Unchanged { StillCurrent = Unchanged(versions) };
        }

        // The dispatcher's run is a timer's: the actor is its function, the mail id ties the events to the mail.
        var context = new CommandContext(actor, message.Id);
        foreach (var dropped in overtaken.Where(o => o.Stored))
        {
            await licenses.WithdrawReminderAsync(dropped.Serial, dropped.Stage, dropped.ExpiresOn, message.Id, $"Superseded before delivery: {dropped.Why}.", context, cancellationToken, dropped.StageNotConfigured, dropped.WithdrawnFrom);
        }

        // SPEC section 10: a replaced serial's reminder withdrawn for its stage is recorded so on the license holding
        // the plan too (it records the reminder in this mail, copied by the replacement, which counts as handled), so
        // offsets that have the stage queue it again there. Once per license, however many claims led to it.
        foreach (var dropped in overtaken.Where(o => o.StageNotConfigured && o.Holder is not null).DistinctBy(o => (o.Holder, o.Stage, o.ExpiresOn)))
        {
            await licenses.WithdrawReminderAsync(dropped.Holder!.Value, dropped.Stage, dropped.ExpiresOn, message.Id, $"Superseded before delivery: {dropped.Why}.", context, cancellationToken, stageNotConfigured: true, dropped.WithdrawnFrom);
        }

        var reason = $"Superseded before delivery: {string.Join("; ", overtaken.Select(o => $"{o.Serial.Value} ({o.Why})"))}.";
        if (due.Count == 0)
        {
            return new SendDecision.Superseded(reason);
        }

        var first = due[0].Item.License;
        var batch = new ReminderBatch(first.Customer.Id, due[0].Item.Reminder.Stage, message.Mail.To, [.. due.Select(d => d.Item)]);
        var mail = composer.Compose(batch) with { Id = message.Id };
        return new SendDecision.Narrowed(mail, [.. due.Select(d => d.Claim)], $"{reason} Sent for the others.") { StillCurrent = Unchanged(versions) };
    }

    /// <summary>
    /// SPEC section 10, R9: a reminder queued for a serial whose dongle is being (or was) replaced goes out only when it
    /// is the one that counts for the plan: the license holding the plan now records it as sent in this very mail
    /// (copied with the plan by the replacement). Then the other checks judge it on that license (a renewal recorded
    /// there moves <c>expiresOn</c>). Otherwise it is dropped with why, and the plan's license gets its own reminder.
    /// A replacement found pending is finished first, so the answer is the one the replacement settles on.
    /// </summary>
    private async Task<(StoredLicense? Plan, string? Replaced)> PlanOfReplacedAsync(Serial serial, NodaTime.LocalDate expiresOn, ReminderStage stage, string mailId, CancellationToken cancellationToken)
    {
        var holder = await licenses.GetPlanHolderAsync(serial, cancellationToken);
        if (holder is null || holder.License.Serial == serial)
        {
            return (holder, holder is null ? "no longer stored" : null); // The replacement was abandoned: the plan stayed.
        }

        return holder.License.Reminders.Any(r => r.ExpiresOn == expiresOn && r.Stage == stage && r.Outcome == ReminderOutcome.Sent && r.MailId == mailId)
            ? (holder, null)
            : (null, $"serial {serial} was replaced by serial {holder.License.Serial}, whose plan gets its own {stage.Name} reminder");
    }

    /// <summary>
    /// R9, at most once: why the license's own record of the reminder rules this mail out, or null when it does not. It
    /// does when the reminder was withdrawn from this very mail earlier; and when the record names another mail (the
    /// reminder was queued again there after this mail left it out for its stage, and this mail is a retry after a
    /// dispatcher died before storing that decision) or no mail (missed, before import). One record of another mail
    /// does not: the withdrawal "stage not configured" from the mail this one was queued again after
    /// (<paramref name="withdrawnFrom"/>), which the scan replaces by this mail's record right after the enqueue. So of a
    /// withdrawn mail and the one queued after it, exactly one is sent, whichever is checked first.
    /// </summary>
    private static string? RecordedElsewhere(ReminderRecord? record, string mailId, string? withdrawnFrom) => record switch
    {
        null => null,
        _ when string.Equals(record.MailId, mailId, StringComparison.Ordinal) =>
            record.Outcome == ReminderOutcome.Withdrawn ? "withdrawn from this mail earlier" : null,
        { Settled: false } when withdrawnFrom is not null && string.Equals(record.MailId, withdrawnFrom, StringComparison.Ordinal) => null,
        { MailId: { } other } => $"recorded in mail {other} instead",
        { Outcome: ReminderOutcome.BeforeImport } => "handled before the import",
        _ => "recorded as missed",
    };

    /// <summary>Why one license is dropped from the mail, and whether only because its stage is not configured.</summary>
    private readonly record struct Drop(string Why, bool StageNotConfigured = false)
    {
        /// <summary>
        /// A reminder dropped because the offsets in force have no such stage. Recorded as such
        /// (<see cref="ReminderRecord.StageNotConfigured"/>): offsets that have the stage (the owner's again, once a stray
        /// configuration's lease runs out) send it when due, in another mail.
        /// </summary>
        public static Drop NotConfigured(ReminderStage stage) => new($"the {stage.Name} reminder is no longer configured (Smp:Reminders)", StageNotConfigured: true);
    }

    /// <summary>
    /// Whether <paramref name="stage"/> is configured by the offsets the reminder index belongs to: this host's, or, while
    /// the index belongs to another configuration (<paramref name="conflict"/>), that one's alone.
    /// </summary>
    private bool Configured(ReminderStage stage, ReminderOffsetsConflict? conflict) =>
        conflict is null ? schedule.Stages.Contains(stage) : conflict.IndexConfigures(stage);

    /// <summary>
    /// The fence right before the send: each license still due, and for a replaced serial the license holding its plan
    /// (whose <c>expiresOn</c> the check judged), is at the version this check read (one small point read each). A
    /// renewal or training committed after the check changes the version, and the dispatcher checks again.
    /// </summary>
    /// The reads go out <see cref="FenceReadsAtOnce"/> at a time, so a mail listing many licenses is fenced in about the
    /// time of a few reads, well inside the dispatcher's hand-over freshness.
    private Func<CancellationToken, Task<bool>> Unchanged(IReadOnlyDictionary<Serial, long> versions) => async cancellationToken =>
    {
        foreach (var batch in versions.Chunk(FenceReadsAtOnce))
        {
            var read = await Task.WhenAll(batch.Select(async pair => await store.GetVersionAsync(pair.Key, cancellationToken) == pair.Value));
            if (read.Contains(false))
            {
                return false;
            }
        }

        return true;
    };

    /// <summary>How many license versions the fence reads at once.</summary>
    private const int FenceReadsAtOnce = 16;
}
