using System.Collections.Immutable;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>Turns a batch of due reminders into the email that carries it (templates, sender, links).</summary>
public interface IReminderMailComposer
{
    OutgoingMail Compose(ReminderBatch batch);
}

/// <summary>What one scan did.</summary>
/// <param name="RemindersFailed">Reminders left unsent because their license or batch failed (retried by the next scan).</param>
/// <param name="Failures">What failed, one entry per license or batch.</param>
public sealed record ScanReport(int LicensesExamined, int RemindersDue, int MailsEnqueued, int RemindersRepaired, int RemindersMissed, int RemindersFailed = 0, ImmutableArray<ScanFailure> Failures = default);

/// <summary>One license or batch a scan could not handle: the serials concerned and why (never the data itself).</summary>
public sealed record ScanFailure(ImmutableArray<Serial> Serials, string? Stage, Exception Error);

/// <summary>
/// The daily reminder scan (R8-R10). Each reminder is claimed in the outbox in the same atomic write as the
/// mail that carries it, so whatever runs twice, overlaps or crashes, a reminder is in at most one mail, ever.
/// The license records the reminder afterwards; a scan that finds a reminder already claimed (a crash came
/// between the two writes) only repairs that record.
/// </summary>
public sealed class ReminderScan(
    ILicenseStore store,
    LicenseService licenses,
    IMailOutbox outbox,
    IReminderMailComposer composer,
    ReminderSchedule schedule,
    BusinessCalendar calendar,
    IStorageFailures? storageFailures = null)
{
    /// <summary>How often a batch is recomposed after losing claims to concurrent scans before the scan gives up on it.</summary>
    private const int MaxRecompositions = 10;

    public async Task<ScanReport> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var today = calendar.Today;
        int examined = 0, missed = 0, repaired = 0, failed = 0;
        var due = new List<DueReminder>();

        // Each candidate's license as last read or written: recording a reminder starts from it instead of reading it again.
        var known = new Dictionary<Serial, StoredLicense>();
        var failures = ImmutableArray.CreateBuilder<ScanFailure>();
        void Unreadable(LicenseReadFailure failure)
        {
            // R9: a license that cannot be read is reported; the others go on, and its index rows stay for the next scan.
            failures.Add(new ScanFailure(failure.Serial is { } serial ? [serial] : [], null, failure.Error));
            failed++;
        }

        await foreach (var stored in store.ListReminderCandidatesAsync(today, Unreadable, cancellationToken))
        {
            examined++;
            try
            {
                if (stored.License.Replacement is { Completed: false })
                {
                    // SPEC section 10: a dongle replacement a crash left begun (the store lists it among the candidates):
                    // finishing it moves the plan's reminders to the new serial, which the next scan sends.
                    await licenses.GetAsync(stored.License.Serial, cancellationToken);
                    continue;
                }

                var (_, repairs, misses) = await ExamineAsync(stored, today, due, known, context, cancellationToken);
                repaired += repairs;
                missed += misses;
            }
            catch (Exception e) when (IsIsolated(e, cancellationToken))
            {
                // R9: one license's failure never stops the others; its index rows stay, so the next scan tries again.
                failures.Add(new ScanFailure([stored.License.Serial], null, e));
                failed++;
            }
        }

        var enqueued = 0;
        foreach (var batch in ReminderBatches.Group(due, outbox.MaxClaimsPerMessage))
        {
            try
            {
                var (mails, repairs) = await SendAsync(batch, known, context, cancellationToken);
                enqueued += mails;
                repaired += repairs;
            }
            catch (Exception e) when (IsIsolated(e, cancellationToken))
            {
                // R9: a batch that cannot be mailed or stored is reported; the reminders stay unsent and unclaimed
                // (or claimed, to be repaired), so the next scan tries them again; the other batches go on.
                failures.Add(new ScanFailure([.. batch.Items.Select(i => i.License.Serial)], batch.Stage.Name, e));
                failed += batch.Items.Length;
            }
        }

        return new ScanReport(examined, due.Count, enqueued, repaired, missed, failed, failures.Count == 0 ? default : failures.ToImmutable());
    }

    /// <summary>A failure that concerns one license or batch only: data no mail can carry, or storage that failed for good.</summary>
    private bool IsIsolated(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && (e is UnmailableDataException || storageFailures?.IsStorageFailure(e) == true);

    /// <summary>Decides one candidate: adds its due reminder to <paramref name="due"/>, repairs and records missed ones.</summary>
    private async Task<(PlannedReminder? Due, int Repaired, int Missed)> ExamineAsync(StoredLicense stored, NodaTime.LocalDate today, List<DueReminder> due, Dictionary<Serial, StoredLicense> known, CommandContext context, CancellationToken cancellationToken)
    {
        int repaired = 0, missed = 0;
        var license = stored.License;
        known[license.Serial] = stored;
        var reminder = schedule.DueOn(license, today);

        // Reminders this scan will not send (superseded by the later stage due now, or past the plan's expiry) may
        // already be in a mail: a crash came between the enqueue and the license write. Record those as sent in
        // that mail before deciding what is missed, so the license never calls a mailed reminder missed.
        ImmutableArray<PlannedReminder> passed = reminder is null
            ? schedule.Missed(license, today)
            : [.. schedule.Pending(license).Where(p => p.DueOn <= today && p.Stage.DaysBefore > reminder.Stage.DaysBefore)];
        if (!passed.IsEmpty)
        {
            var claimed = await outbox.FindClaimsAsync([.. passed.Select(p => Claim(license, p))], cancellationToken);
            foreach (var sent in passed)
            {
                if (claimed.TryGetValue(Claim(license, sent), out var mailId))
                {
                    var result = await RecordAsync(license.Serial, sent, ReminderOutcome.Sent, mailId, known, context, cancellationToken);
                    license = result.License?.License ?? license;
                    repaired++;
                }
            }
        }

        if (reminder is not null)
        {
            due.Add(new DueReminder(license, reminder));
            return (reminder, repaired, missed);
        }

        // Asked again after the repairs: a later stage recorded as sent supersedes the earlier ones.
        foreach (var gone in schedule.Missed(license, today))
        {
            await RecordAsync(license.Serial, gone, ReminderOutcome.Missed, null, known, context, cancellationToken);
            missed++;
        }

        return (null, repaired, missed);
    }

    private async Task<(int Mails, int Repairs)> SendAsync(ReminderBatch batch, Dictionary<Serial, StoredLicense> known, CommandContext context, CancellationToken cancellationToken)
    {
        var repairs = 0;
        for (var attempt = 0; attempt < MaxRecompositions && batch.Items.Length > 0; attempt++)
        {
            var claims = batch.Items.ToDictionary(i => Claim(i), i => i);
            var mail = composer.Compose(batch) with { Id = batch.MailId };
            var result = await outbox.EnqueueAsync(mail, MailKinds.Reminder, claims.Keys, calendar.Now, cancellationToken);
            switch (result)
            {
                case EnqueueResult.Enqueued:
                    await RecordAsync(batch.Items, batch.MailId, known, context, cancellationToken);
                    return (1, repairs);
                case EnqueueResult.AlreadyEnqueued:
                    // The same mail (same content, same id) was enqueued by an earlier or concurrent run.
                    await RecordAsync(batch.Items, batch.MailId, known, context, cancellationToken);
                    return (0, repairs + batch.Items.Length);
                case EnqueueResult.ClaimsTaken taken:
                    foreach (var (claim, mailId) in taken.TakenBy)
                    {
                        await RecordAsync([claims[claim]], mailId, known, context, cancellationToken);
                        repairs++;
                    }

                    batch = batch with { Items = [.. batch.Items.Where(i => !taken.TakenBy.ContainsKey(Claim(i)))] };
                    break;
            }
        }

        return (0, repairs);
    }

    private async Task RecordAsync(IEnumerable<DueReminder> items, string mailId, Dictionary<Serial, StoredLicense> known, CommandContext context, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            await RecordAsync(item.License.Serial, item.Reminder, ReminderOutcome.Sent, mailId, known, context, cancellationToken);
        }
    }

    /// <summary>
    /// Records a reminder on the license, starting from its state as this scan last read or wrote it (the license is
    /// read again only when it changed since), and keeps the state the record leaves for the next record on it.
    /// </summary>
    private async Task<CommandResult> RecordAsync(Serial serial, PlannedReminder reminder, ReminderOutcome outcome, string? mailId, Dictionary<Serial, StoredLicense> known, CommandContext context, CancellationToken cancellationToken)
    {
        var result = known.TryGetValue(serial, out var current)
            ? await licenses.RecordReminderAsync(current, reminder, outcome, mailId, context, cancellationToken)
            : await licenses.RecordReminderAsync(serial, reminder, outcome, mailId, context, cancellationToken);
        if (result.License is { } stored && stored.License.Serial == serial)
        {
            known[serial] = stored;
        }
        else
        {
            known.Remove(serial);
        }

        return result;
    }

    private static MailClaim Claim(DueReminder item) => Claim(item.License, item.Reminder);

    private static MailClaim Claim(License license, PlannedReminder reminder) =>
        ReminderClaims.Of(license, reminder.Stage, reminder.ExpiresOn);
}
