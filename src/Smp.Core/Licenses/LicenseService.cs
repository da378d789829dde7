using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Updates;

namespace Smp.Core.Licenses;

/// <summary>Plan settings the use cases need (validated at start-up by the host).</summary>
public sealed record PlanOptions(string DefaultProduct)
{
    public const string DefaultProductName = "VTube-LASER";
}

/// <summary>
/// Where a reader reports a dongle replacement it found begun and could not read or finish (SPEC section 10): the
/// host logs its serial (never the record) and counts it; the reader answers without it, and the next one tries again.
/// </summary>
public interface IUnfinishedReplacements
{
    void Report(LicenseReadFailure failure);
}

/// <summary>
/// The license use cases: read the license, decide, write the license and its event atomically.
/// A write that loses an optimistic-concurrency race is decided again on fresh data, never
/// written over another writer's change.
/// </summary>
/// <param name="outbox">
/// With <paramref name="reminders"/>: a dongle replacement looks up the reminders the scan queued for the old serial and
/// has not recorded on it yet (a crash or a race between the queueing and the record), so that they count for the new
/// serial too (SPEC section 10, R9). The host always gives both.
/// </param>
/// <param name="unfinished">Where a replacement that could not be finished before a listing is reported.</param>
public sealed class LicenseService(
    ILicenseStore store,
    BusinessCalendar calendar,
    PlanOptions options,
    IMailOutbox? outbox = null,
    ReminderSchedule? reminders = null,
    IUnfinishedReplacements? unfinished = null)
{
    /// <summary>How many times a command is decided again after losing a concurrent write.</summary>
    public const int MaxAttempts = 50;

    /// <summary>The longest chain of replacements followed from a serial to the license holding its plan now.</summary>
    public const int MaxReplacementHops = 16;

    /// <summary>
    /// Records an activation. The first attempt decides as if the serial were new and, when that is a change, adds the
    /// license without reading it first: the add inserts the summary in its transaction, so it fails as a whole (null)
    /// when the serial is stored already. Only then, or when the decision for a new serial is not a change (or the license
    /// is too large to store), is the license read and the activation decided on it, as every later attempt does; so the
    /// outcome is the one a read first would give, and a new serial costs no read.
    /// </summary>
    public async Task<CommandResult> ActivateAsync(ActivationRequest request, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var emailSentOn = calendar.DateOf(request.ActivationEmailSentAt);
        Decision.Change? refused = null;
        if (PlanDecisions.Activate(null, request, options.DefaultProduct, emailSentOn, calendar.Now, context) is Decision.Change asNew)
        {
            try
            {
                if (await store.AddAsync(asNew.License, asNew.Event, cancellationToken) is { } added)
                {
                    return new CommandResult(CommandOutcome.Created, added);
                }

                refused = asNew;
            }
            catch (LicenseTooLargeException)
            {
                // Nothing was written (the rows are built before any write): decided below on what is stored, as ever.
            }
        }

        // The serial is stored (or the add could not be made): read it and decide as every attempt did before.
        return await WriteAsync(
            request.Serial,
            CommandOutcome.Created,
            async ct =>
            {
                var existing = await store.GetAsync(request.Serial, ct);
                if (existing is not null && Interlocked.Exchange(ref refused, null) is { } discarded)
                {
                    // What the refused add wrote ahead for a license that is not to be: gone before the answer.
                    await store.DiscardRefusedAddAsync(discarded.License, discarded.Event, existing, ct);
                }

                return new Attempt(existing, PlanDecisions.Activate(existing?.License, request, options.DefaultProduct, emailSentOn, calendar.Now, context));
            },
            // Null when another request stored this serial first: the next attempt decides against what it stored.
            (_, change, ct) => store.AddAsync(change.License, change.Event, ct),
            cancellationToken);
    }

    /// <summary>
    /// SPEC section 9: imports one validated CSV row. Created when the serial is new, unchanged when the same imported
    /// facts are already stored (the same file again, or a run resumed after a crash), a conflict otherwise.
    /// </summary>
    public async Task<CommandResult> ImportAsync(ImportRow row, ImportSource source, ReminderSchedule schedule, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(row);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var existing = await store.GetAsync(row.Serial, cancellationToken);
            switch (PlanDecisions.Import(existing?.License, row, source, options.DefaultProduct, schedule, calendar.Zone, calendar.Now, context))
            {
                case Decision.NoChange:
                    return new CommandResult(CommandOutcome.Unchanged, existing);
                case Decision.Refuse refuse:
                    return new CommandResult(CommandOutcome.Conflict, existing, refuse.Detail);
                case Decision.Change change:
                    try
                    {
                        if (await store.TryAddAsync(change.License, change.Event, cancellationToken))
                        {
                            return new CommandResult(CommandOutcome.Created, null);
                        }
                    }
                    catch (LicenseTooLargeException tooLarge)
                    {
                        return new CommandResult(CommandOutcome.TooLarge, existing, tooLarge.Message);
                    }

                    break; // Another writer stored this serial first: decide again against what it stored.
            }

            await BackOffAsync(attempt, cancellationToken);
        }

        throw new ConcurrencyExhaustedException(row.Serial);
    }

    public Task<CommandResult> RecordTrainingAsync(Serial serial, CommandContext context, CancellationToken cancellationToken) =>
        UpdateAsync(serial, license => PlanDecisions.RecordTraining(license, calendar.Today, calendar.Now, context), cancellationToken);

    public Task<CommandResult> RenewAsync(Serial serial, RenewalRequest request, CommandContext context, CancellationToken cancellationToken) =>
        UpdateAsync(serial, license => PlanDecisions.Renew(license, request, calendar.Today, calendar.Now, context), cancellationToken);

    public Task<CommandResult> ReplaceContactsAsync(Serial serial, ImmutableArray<EmailAddress> contacts, CommandContext context, CancellationToken cancellationToken) =>
        UpdateAsync(serial, license => PlanDecisions.ReplaceContacts(license, contacts, calendar.Now, context), cancellationToken);

    /// <summary>R9: records a reminder as sent in mail <paramref name="mailId"/>, or as missed; idempotent.</summary>
    public Task<CommandResult> RecordReminderAsync(Serial serial, PlannedReminder reminder, ReminderOutcome outcome, string? mailId, CommandContext context, CancellationToken cancellationToken) =>
        UpdateAsync(serial, license => PlanDecisions.RecordReminder(license, reminder, outcome, mailId, calendar.Now, context), cancellationToken);

    /// <summary>
    /// As <see cref="RecordReminderAsync(Serial, PlannedReminder, ReminderOutcome, string?, CommandContext, CancellationToken)"/>,
    /// starting from <paramref name="known"/>, the license as the caller last read it (the reminder scan's listing): the
    /// change is written under that state's concurrency token without reading the license again. The license is read
    /// only when that write loses (the license changed since) or when the known state calls for no change (the current
    /// one decides then).
    /// </summary>
    public Task<CommandResult> RecordReminderAsync(StoredLicense known, PlannedReminder reminder, ReminderOutcome outcome, string? mailId, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(known);
        return UpdateAsync(
            known.License.Serial,
            (license, _) => PlanDecisions.RefuseIfReplaced(license) ?? PlanDecisions.RecordReminder(license, reminder, outcome, mailId, calendar.Now, context),
            readHistory: false,
            cancellationToken,
            known);
    }

    /// <summary>R9, R15: records that the reminder queued in mail <paramref name="mailId"/> was left out of it before delivery; idempotent.</summary>
    /// <remarks>
    /// Also on a replaced license (SPEC section 10): a reminder queued for the old serial and withdrawn at send time is an
    /// audit record of the mail, not a change of the plan, so the 409 of a replaced license does not apply to it.
    /// </remarks>
    public Task<CommandResult> WithdrawReminderAsync(Serial serial, ReminderStage stage, LocalDate expiresOn, string mailId, string reason, CommandContext context, CancellationToken cancellationToken, bool stageNotConfigured = false, string? withdrawnFrom = null) =>
        UpdateAsync(serial, (license, _) => PlanDecisions.WithdrawReminder(license, stage, expiresOn, mailId, reason, calendar.Now, context, stageNotConfigured, withdrawnFrom), readHistory: false, cancellationToken);

    /// <summary>R14: records that the announcement of <paramref name="version"/> went into mail <paramref name="mailId"/>; idempotent per version.</summary>
    public Task<CommandResult> RecordAnnouncementAsync(Serial serial, UpdateVersion version, string mailId, CommandContext context, CancellationToken cancellationToken) =>
        UpdateWithHistoryAsync(serial, (license, history) => PlanDecisions.RecordAnnouncement(license, history, version, mailId, calendar.Now, context), cancellationToken);

    /// <summary>R13, R15: records a release of an update password through a customer link, once per version, client and day.</summary>
    public Task<CommandResult> RecordPasswordReleasedAsync(Serial serial, UpdateVersion version, string clientAddressHash, CommandContext context, CancellationToken cancellationToken) =>
        UpdateWithHistoryAsync(serial, (license, history) => PlanDecisions.RecordPasswordReleased(license, history, version, clientAddressHash, calendar.Today, calendar.Now, context), cancellationToken);

    /// <summary>R13: records that a requested password link went into mail <paramref name="mailId"/>; idempotent per mail.</summary>
    public Task<CommandResult> RecordPasswordLinkRequestedAsync(Serial serial, UpdateVersion version, string mailId, CommandContext context, CancellationToken cancellationToken) =>
        UpdateWithHistoryAsync(serial, (license, history) => PlanDecisions.RecordPasswordLinkRequested(license, history, version, mailId, calendar.Now, context), cancellationToken);

    /// <summary>
    /// R15: records a customer request on the license (an audit event; the plan does not change), once per value of
    /// <paramref name="onceBy"/> (see <see cref="PlanDecisions.RecordRequestOnce"/>): the request's own earlier event,
    /// stored by an attempt whose answer was lost or by a run before a crash, makes a repeat unchanged.
    /// </summary>
    public Task<CommandResult> RecordRequestOnceAsync(Serial serial, string type, IReadOnlyDictionary<string, string> data, string onceBy, CommandContext context, CancellationToken cancellationToken) =>
        UpdateWithHistoryAsync(serial, (license, history) => PlanDecisions.RecordRequestOnce(license, history, type, data, onceBy, calendar.Now, context), cancellationToken);

    /// <summary>
    /// The license of <paramref name="serial"/>. A dongle replacement found begun and not finished (a crash came between
    /// its writes) is finished first, so no reader sees a plan with two current licenses or none (SPEC section 10).
    /// </summary>
    public async Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(serial, cancellationToken);
        if (stored?.License.Replacement is { Completed: false })
        {
            await FinishReplacementAsync(stored, cancellationToken);
            stored = await store.GetAsync(serial, cancellationToken);
        }

        return stored;
    }

    /// <summary>
    /// SPEC section 10: the license that holds the plan of <paramref name="serial"/> now: its own license, or, for a
    /// dongle that was replaced, the license of the serial that replaced it (following replacements of replacements);
    /// null when no license has the serial. A replacement found pending on the way is finished first.
    /// </summary>
    public async Task<StoredLicense?> GetPlanHolderAsync(Serial serial, CancellationToken cancellationToken)
    {
        var stored = await GetAsync(serial, cancellationToken);
        for (var hop = 0; hop < MaxReplacementHops && stored?.License.Replacement is { Completed: true } replacement; hop++)
        {
            stored = await GetAsync(replacement.NewSerial, cancellationToken)
                ?? throw new InvalidOperationException($"License {stored.License.Serial} was replaced by serial {replacement.NewSerial}, which has no license.");
        }

        return stored;
    }

    public Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) =>
        store.GetEventsAsync(serial, cancellationToken);

    /// <summary>The customer's licenses that could be read, by serial; one that cannot be read is left out.</summary>
    public async Task<IReadOnlyList<StoredLicense>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        (await ListCustomerAsync(customerId, cancellationToken)).Licenses;

    /// <summary>
    /// The customer's licenses, by serial. A license that cannot be read (a storage error past the retries, a record
    /// that cannot be understood) is left out and named in <see cref="CustomerLicenses.Unreadable"/>: one bad record
    /// never hides the others.
    /// </summary>
    public async Task<CustomerLicenses> ListCustomerAsync(string customerId, CancellationToken cancellationToken)
    {
        var licenses = new List<StoredLicense>();
        var unreadable = new List<LicenseReadFailure>();
        await foreach (var license in store.ListByCustomerAsync(customerId, unreadable.Add, cancellationToken))
        {
            licenses.Add(license);
        }

        if (licenses.Any(l => l.License.Replacement is { Completed: false }))
        {
            // SPEC section 10: finish the replacements a crash left begun, then list again (the new licenses included).
            foreach (var pending in licenses.Where(l => l.License.Replacement is { Completed: false }))
            {
                await FinishReplacementAsync(pending, cancellationToken);
            }

            licenses.Clear();
            unreadable.Clear();
            await foreach (var license in store.ListByCustomerAsync(customerId, unreadable.Add, cancellationToken))
            {
                licenses.Add(license);
            }
        }

        return new CustomerLicenses(
            [.. licenses.OrderBy(l => l.License.Serial.Value, StringComparer.Ordinal)],
            unreadable);
    }

    /// <summary>
    /// One page of the licenses expiring in [<paramref name="from"/>, <paramref name="to"/>]: at most
    /// <paramref name="pageSize"/> of them, in (expiresOn, serial) order, after <paramref name="after"/>; the page's
    /// <see cref="ExpiringPage.Next"/> is where the next page starts, or null on the last page. Any range can be read
    /// this way, a page at a time, with the memory and time of one page.
    /// </summary>
    public async Task<ExpiringPage> ListExpiringPageAsync(LocalDate from, LocalDate to, ExpiryPosition? after, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var unfinished = await FinishPendingReplacementsAsync(cancellationToken);
        // A page holds at most pageSize entries, readable or not, in the index's order. A license that cannot be read
        // is named in the page that reached it and the next page starts after it, so one bad record never stops the
        // report of a range, nor a reader stepping through it.
        var licenses = new List<StoredLicense>(pageSize);
        var unreadable = new List<LicenseReadFailure>();
        ExpiryPosition? last = null;
        var more = false;
        void Unreadable(LicenseReadFailure failure)
        {
            if (more || licenses.Count + unreadable.Count == pageSize)
            {
                more = true; // For the next page, which starts after the last entry of this one.
                return;
            }

            unreadable.Add(failure);
            last = failure.Position ?? last;
        }

        await foreach (var license in store.ListExpiringAfterAsync(from, to, after, Unreadable, cancellationToken))
        {
            if (more || licenses.Count + unreadable.Count == pageSize)
            {
                more = true;
                break;
            }

            licenses.Add(license);
            last = ExpiryPosition.Of(license.License);
        }

        return new ExpiringPage(licenses, more ? last : null, unreadable, unfinished);
    }

    /// <summary>
    /// One page of every license (SPEC section 9's export), replaced ones included: at most <paramref name="pageSize"/>
    /// of them, by serial, after <paramref name="after"/>, each with the note its import kept on its <c>imported</c>
    /// event. The page's <see cref="LicensePage.Next"/> is where the next page starts (null after the last): a serial
    /// never changes, so a license renewed or replaced while a reader steps through the pages is listed exactly once,
    /// and the pages read no more than the licenses they hold (and one event read per imported license). A license
    /// created meanwhile is listed when its serial comes after the page being read. A license that cannot be read is
    /// left out and named in <see cref="LicensePage.Unreadable"/>.
    /// </summary>
    public async Task<LicensePage> ListAllPageAsync(Serial? after, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        await FinishPendingReplacementsAsync(cancellationToken);
        var listed = new List<ListedLicense>(pageSize);
        var unreadable = new List<LicenseReadFailure>();
        var last = after;
        var seen = 0;
        void Unreadable(LicenseReadFailure failure)
        {
            unreadable.Add(failure);
            last = failure.Serial ?? last;
            seen++;
        }

        await foreach (var stored in store.ListAllAsync(after, pageSize, Unreadable, cancellationToken))
        {
            last = stored.License.Serial;
            seen++;
            try
            {
                listed.Add(new ListedLicense(stored.License, stored.License.Imported is null ? null : await ImportNoteAsync(stored.License.Serial, cancellationToken)));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                unreadable.Add(new LicenseReadFailure(stored.License.Serial, e));
            }

            if (seen >= pageSize)
            {
                break;
            }
        }

        return new LicensePage(listed, seen >= pageSize ? last : null, unreadable);
    }

    /// <summary>
    /// As <see cref="ListExpiringPageAsync"/>, each license with the note its import kept (the renewals download writes
    /// the export's columns for a range).
    /// </summary>
    public async Task<ListedExpiringPage> ListExpiringListedPageAsync(LocalDate from, LocalDate to, ExpiryPosition? after, int pageSize, CancellationToken cancellationToken)
    {
        var page = await ListExpiringPageAsync(from, to, after, pageSize, cancellationToken);
        var listed = new List<ListedLicense>(page.Licenses.Count);
        var unreadable = new List<LicenseReadFailure>(page.Unreadable ?? []);
        foreach (var stored in page.Licenses)
        {
            try
            {
                listed.Add(new ListedLicense(stored.License, stored.License.Imported is null ? null : await ImportNoteAsync(stored.License.Serial, cancellationToken)));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                unreadable.Add(new LicenseReadFailure(stored.License.Serial, e));
            }
        }

        return new ListedExpiringPage(listed, page.Next, unreadable);
    }

    /// <summary>The note an import kept on the license's first event, <c>imported</c> (a replacement's first event is another).</summary>
    private async Task<string?> ImportNoteAsync(Serial serial, CancellationToken cancellationToken)
    {
        var events = await store.GetEventsAsync(serial, cancellationToken);
        return events.Count > 0 && events[0].Type == LicenseEventTypes.Imported ? events[0].Data.GetValueOrDefault(LicenseEventData.Note) : null;
    }

    /// <summary>
    /// SPEC section 10: replaces the dongle of <paramref name="serial"/> by <paramref name="newSerial"/>. The two licenses
    /// live in two partitions, so the replacement is three writes, each one converging when the request is repeated,
    /// when any reader meets the old license, or when a listing or scan starts: (1) the old license records the
    /// intent under its concurrency token, so of two replacements at once exactly one wins; (2) the new license is
    /// created from the old one's facts; (3) the old license is marked replaced. Until (3), the old license keeps the
    /// plan's coverage but no index row other than its customer's and the pending replacement's, and every reader
    /// finishes the replacement before answering. Created: this call made the new license; Unchanged: it existed.
    /// The result carries the new license.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="newSerial"/> is <paramref name="serial"/>.</exception>
    public async Task<CommandResult> ReplaceAsync(Serial serial, Serial newSerial, string? reason, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (serial == newSerial)
        {
            throw new ArgumentException($"A dongle cannot be replaced by itself ({serial}).", nameof(newSerial));
        }

        // Step 1 under the one write loop: a lost race decides again on what the other writer stored.
        var begun = await WriteAsync(
            serial,
            CommandOutcome.Updated,
            async ct =>
            {
                var old = await store.GetAsync(serial, ct);
                if (old is null)
                {
                    return null;
                }

                if (old.License.Replacement is null && await store.GetAsync(newSerial, ct) is not null)
                {
                    return new Attempt(old, new Decision.Refuse($"Serial {newSerial} already exists."));
                }

                return new Attempt(old, PlanDecisions.BeginReplacement(old.License, newSerial, reason, calendar.Now, context));
            },
            (old, change, ct) => ReadBackAsync(store.TryUpdateAsync(old!, change.License, change.Event, ct), serial, ct),
            cancellationToken);

        // Updated: this call began it; Unchanged: it was begun (or finished) onto the same serial before.
        return begun.Outcome is CommandOutcome.Updated or CommandOutcome.Unchanged
            ? await FinishReplacementAsync(begun.License ?? throw new InvalidOperationException($"License {serial} vanished during its replacement."), cancellationToken)
            : begun;
    }

    /// <summary>
    /// SPEC section 10: finishes every replacement that was begun and not finished, so that a listing or scan that
    /// follows sees each plan under one current license.
    /// </summary>
    /// <remarks>
    /// Each pending replacement stands alone: one that cannot be read or finished is reported to the host (logged by
    /// serial and counted) and the others, and the reader that asked, go on; the next reader tries it again. Until it is
    /// finished its plan is missing from expiry listings (the old license has no expiry row from the intent on), never
    /// listed twice: the serials returned (the replaced ones) are those left unfinished, for a reader to name.
    /// </remarks>
    public async Task<IReadOnlyList<Serial>> FinishPendingReplacementsAsync(CancellationToken cancellationToken)
    {
        var left = new List<Serial>();
        void Unfinished(LicenseReadFailure failure)
        {
            if (failure.Serial is { } serial)
            {
                left.Add(serial);
            }

            unfinished?.Report(failure);
        }

        await foreach (var serial in store.ListPendingReplacementsAsync(Unfinished, cancellationToken))
        {
            try
            {
                if (await store.GetAsync(serial, cancellationToken) is { License.Replacement: { Completed: false } } pending)
                {
                    await FinishReplacementAsync(pending, cancellationToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Finishing is a repair the reader does on its way, not what it was asked for: it answers all the same.
                Unfinished(new LicenseReadFailure(serial, e));
            }
        }

        return left;
    }

    /// <summary>Steps 2 and 3 of <see cref="ReplaceAsync"/> from a begun (or finished) replacement; the result carries the new license.</summary>
    private async Task<CommandResult> FinishReplacementAsync(StoredLicense old, CancellationToken cancellationToken)
    {
        var replacement = old.License.Replacement ?? throw new ArgumentException($"License {old.License.Serial} has no replacement.", nameof(old));

        // Step 2 under the one write loop: a license made meanwhile under the new serial (a concurrent finish, or
        // another license) is decided on again.
        var made = await WriteAsync(
            replacement.NewSerial,
            CommandOutcome.Created,
            async ct =>
            {
                var existing = await store.GetAsync(replacement.NewSerial, ct);
                var queued = existing is null ? await QueuedRemindersAsync(old.License, ct) : [];
                return new Attempt(existing, PlanDecisions.CreateReplacement(old.License, existing?.License, queued));
            },
            (_, change, ct) => store.AddAsync(change.License, change.Event, ct),
            cancellationToken);

        switch (made.Outcome)
        {
            case CommandOutcome.Conflict when replacement.Completed:
                throw new InvalidOperationException($"License {old.License.Serial} is replaced, but serial {replacement.NewSerial} is not its replacement.");
            case CommandOutcome.Conflict:
                // The new serial was taken by another license meanwhile: undo the intent; the plan stays where it was.
                var undone = await UpdateAsync(old.License.Serial, (license, _) => PlanDecisions.AbandonReplacement(license, calendar.Now), readHistory: false, cancellationToken);
                return new CommandResult(CommandOutcome.Conflict, undone.License, made.Detail);
            case CommandOutcome.TooLarge:
                return made;
        }

        var completed = await UpdateAsync(old.License.Serial, (license, _) => license.Replacement is { } r && r.NewSerial == replacement.NewSerial
            ? PlanDecisions.CompleteReplacement(license, calendar.Now)
            : new Decision.NoChange(), readHistory: false, cancellationToken);
        if (completed.Outcome == CommandOutcome.NotFound)
        {
            throw new InvalidOperationException($"License {old.License.Serial} vanished during its replacement.");
        }

        var result = await store.GetAsync(replacement.NewSerial, cancellationToken);
        return new CommandResult(made.Outcome == CommandOutcome.Created ? CommandOutcome.Created : CommandOutcome.Unchanged, result);
    }

    /// <summary>
    /// R9, SPEC section 10: the reminders of the old license's plan that are in an outbox mail (claimed for the old
    /// serial) but not recorded on it: the scan queued them, and the replacement came before the record (or the scan
    /// died in between). They are sent for the plan, so the new license records them as sent in that mail. A reminder
    /// the scan queues after this look-up is not recorded on the new license, and the send check withdraws it.
    /// </summary>
    private async Task<IReadOnlyList<ReminderRecord>> QueuedRemindersAsync(License old, CancellationToken cancellationToken)
    {
        if (outbox is null || reminders is null)
        {
            return [];
        }

        var planned = reminders.Planned(old with { Replacement = null })
            .Where(p => !old.Reminders.Any(r => r.ExpiresOn == p.ExpiresOn && r.Stage == p.Stage && r.Settled))
            .ToDictionary(p => ReminderClaims.Of(old, p.Stage, p.ExpiresOn));
        if (planned.Count == 0)
        {
            return [];
        }

        var claimed = await outbox.FindClaimsAsync(planned.Keys, cancellationToken);
        return [.. claimed.Select(c => new ReminderRecord(planned[c.Key].Stage, planned[c.Key].ExpiresOn, ReminderOutcome.Sent, calendar.Now, c.Value, planned[c.Key].DueOn))];
    }

    private Task<CommandResult> UpdateAsync(Serial serial, Func<License, Decision> decide, CancellationToken cancellationToken) =>
        UpdateAsync(serial, (license, _) => PlanDecisions.RefuseIfReplaced(license) ?? decide(license), readHistory: false, cancellationToken);

    /// <summary>
    /// For decisions that depend on the license's events. The events are read after the license, and the write
    /// succeeds only while the license is still at the version read, so no event can slip in between.
    /// </summary>
    private Task<CommandResult> UpdateWithHistoryAsync(Serial serial, Func<License, IReadOnlyList<LicenseEvent>, Decision> decide, CancellationToken cancellationToken) =>
        UpdateAsync(serial, (license, history) => PlanDecisions.RefuseIfReplaced(license) ?? decide(license, history), readHistory: true, cancellationToken);

    /// <param name="known">
    /// The license as the caller last read it, if any: the first attempt decides on it without a read when that gives a
    /// change (written under its concurrency token, so a stale state only loses the write and the next attempt reads).
    /// </param>
    private Task<CommandResult> UpdateAsync(Serial serial, Func<License, IReadOnlyList<LicenseEvent>, Decision> decide, bool readHistory, CancellationToken cancellationToken, StoredLicense? known = null)
    {
        // Only a write that starts from a known state (the reminder scan's) takes its new state from the write's answer.
        var answered = known is not null;
        return WriteAsync(
            serial,
            CommandOutcome.Updated,
            async ct =>
            {
                if (!readHistory && Interlocked.Exchange(ref known, null) is { } first && decide(first.License, []) is Decision.Change change)
                {
                    return new Attempt(first, change);
                }

                var current = await store.GetAsync(serial, ct);
                if (current is null)
                {
                    return null;
                }

                var history = readHistory ? await store.GetEventsAsync(serial, ct) : [];
                return new Attempt(current, decide(current.License, history));
            },
            // Null when another writer changed the license since it was read: the next attempt reads the winner's change.
            (current, change, ct) => answered
                ? store.UpdateAsync(current!, change.License, change.Event, ct)
                : ReadBackAsync(store.TryUpdateAsync(current!, change.License, change.Event, ct), serial, ct),
            cancellationToken);
    }

    /// <summary>
    /// The one optimistic-concurrency loop of every write: read and decide, write the change only if the license is
    /// still as read, and on a lost race back off and decide again on fresh data, at most <see cref="MaxAttempts"/> times.
    /// </summary>
    /// <param name="readAndDecide">Reads the license and decides; null when there is no license to decide on (not found).</param>
    /// <param name="tryWrite">Writes the change against the license as read and answers the license as stored; null when another writer got there first.</param>
    private static async Task<CommandResult> WriteAsync(
        Serial serial,
        CommandOutcome written,
        Func<CancellationToken, Task<Attempt?>> readAndDecide,
        Func<StoredLicense?, Decision.Change, CancellationToken, Task<StoredLicense?>> tryWrite,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await readAndDecide(cancellationToken) is not { } read)
            {
                return new CommandResult(CommandOutcome.NotFound, null);
            }

            switch (read.Decision)
            {
                case Decision.NoChange:
                    return new CommandResult(CommandOutcome.Unchanged, read.License);
                case Decision.Refuse refuse:
                    return new CommandResult(CommandOutcome.Conflict, read.License, refuse.Detail);
                case Decision.Change change:
                    StoredLicense? stored;
                    try
                    {
                        stored = await tryWrite(read.License, change, cancellationToken);
                    }
                    catch (LicenseTooLargeException tooLarge)
                    {
                        return new CommandResult(CommandOutcome.TooLarge, read.License, tooLarge.Message);
                    }

                    if (stored is not null)
                    {
                        return new CommandResult(written, stored);
                    }

                    break; // Lost the race: decide again on what the winner stored.
            }

            await BackOffAsync(attempt, cancellationToken);
        }

        throw new ConcurrencyExhaustedException(serial);
    }

    /// <summary>The license as stored after a write that succeeded (read back), null after one that lost.</summary>
    private async Task<StoredLicense?> ReadBackAsync(Task<bool> write, Serial serial, CancellationToken cancellationToken) =>
        await write ? await store.GetAsync(serial, cancellationToken) : null;

    private static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * Math.Min(attempt, 10))), cancellationToken);

    /// <summary>One attempt's reading and decision: the license as read (null when there is none yet) and what to do.</summary>
    private sealed record Attempt(StoredLicense? License, Decision Decision);
}

/// <summary>A license changed under a command on every one of its attempts; the request may be retried.</summary>
public sealed class ConcurrencyExhaustedException(Serial serial)
    : Exception($"License {serial} kept changing under the request; retry it.");

/// <summary>A page of the expiring report: its licenses and, when more follow, the position the next page starts after.</summary>
/// <see cref="Unreadable"/> are the licenses of the page's stretch of the index that could not be read (left out);
/// <see cref="UnfinishedReplacements"/> the replaced serials whose replacement could not be finished before the read (their
/// plans have no expiry row until it is, so they are left out too).
public sealed record ExpiringPage(IReadOnlyList<StoredLicense> Licenses, ExpiryPosition? Next, IReadOnlyList<LicenseReadFailure>? Unreadable = null, IReadOnlyList<Serial>? UnfinishedReplacements = null);

/// <summary>A page of every license, by serial: its licenses and, when more may follow, the serial the next page starts after.</summary>
/// <see cref="Unreadable"/> are the licenses of the page's stretch that could not be read (left out).
public sealed record LicensePage(IReadOnlyList<ListedLicense> Licenses, Serial? Next, IReadOnlyList<LicenseReadFailure> Unreadable);

/// <summary>A page of the licenses expiring in a range, each with its import's note (see <see cref="LicenseService.ListExpiringListedPageAsync"/>).</summary>
public sealed record ListedExpiringPage(IReadOnlyList<ListedLicense> Licenses, ExpiryPosition? Next, IReadOnlyList<LicenseReadFailure> Unreadable);

/// <summary>A license as the export lists it: the license and the note its import kept, if any.</summary>
public sealed record ListedLicense(License License, string? Note);

/// <summary>A customer's licenses that could be read, by serial, and the ones that could not (left out).</summary>
public sealed record CustomerLicenses(IReadOnlyList<StoredLicense> Licenses, IReadOnlyList<LicenseReadFailure> Unreadable);
