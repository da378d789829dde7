using System.Collections.Immutable;
using System.Globalization;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Reminders;
using Smp.Core.Updates;

namespace Smp.Core.Plans;

/// <summary>A pure decision on a command: what the license becomes and the event that records it.</summary>
public abstract record Decision
{
    private Decision()
    {
    }

    public sealed record Change(License License, LicenseEvent Event) : Decision;

    public sealed record NoChange : Decision;

    public sealed record Refuse(string Detail) : Decision;
}

/// <summary>
/// Decides each command against the current facts of a license (R3, R5, R6, R15). Deterministic:
/// the time and the requester are inputs. Applying a command twice equals applying it once.
/// </summary>
public static class PlanDecisions
{
    private const string VersionKey = LicenseEventData.Version;

    private static readonly LocalDatePattern IsoDate = LocalDatePattern.Iso;

    public static Decision Activate(License? existing, ActivationRequest request, string defaultProduct, LocalDate emailSentOn, Instant now, CommandContext context)
    {
        var activation = new Activation(
            string.IsNullOrWhiteSpace(request.Product) ? defaultProduct : request.Product.Trim(),
            request.Customer,
            request.Contacts,
            request.OnSiteTraining,
            request.ActivationEmailSentAt,
            emailSentOn);

        if (existing is not null)
        {
            return existing.Activation.SameRequestAs(activation)
                ? new Decision.NoChange()
                : new Decision.Refuse($"Serial {existing.Serial} is already activated with different data.");
        }

        var license = new License(request.Serial, activation, request.Contacts, null, []);
        var term = license.Terms[0];
        return new Decision.Change(license, Event(LicenseEventTypes.Activated, now, context, new Dictionary<string, string>
        {
            [LicenseEventData.Product] = activation.Product,
            [LicenseEventData.CustomerId] = activation.Customer.Id,
            [LicenseEventData.OnSiteTraining] = activation.OnSiteTraining ? "true" : "false",
            [LicenseEventData.ActivationEmailSentAt] = InstantPattern.ExtendedIso.Format(activation.EmailSentAt),
            [LicenseEventData.Start] = IsoDate.Format(term.Start),
            [LicenseEventData.ExpiresOn] = IsoDate.Format(term.End),
        }));
    }

    /// <summary>
    /// SPEC section 9: a row of a CSV import. A new serial becomes a license whose first term is the imported one and
    /// whose first event is <c>imported</c>; each reminder of that term already due before the import's business date
    /// is recorded as handled before import, so it is never sent. The same row again (same imported facts) changes
    /// nothing; any other license under that serial is a conflict and stays as it is. A row of a replaced license
    /// (<see cref="ImportRow.ReplacedBy"/>, SPEC section 10) becomes a license already replaced by that serial: never
    /// current, no reminders, so the plan is current under one serial only.
    /// </summary>
    public static Decision Import(License? existing, ImportRow row, ImportSource source, string defaultProduct, ReminderSchedule schedule, DateTimeZone zone, Instant now, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(zone);
        var coveredFrom = row.Plan.CoveredFrom;
        var activation = new Activation(
            string.IsNullOrWhiteSpace(row.Product) ? defaultProduct : row.Product.Trim(),
            row.Customer,
            row.Contacts,
            row.OnSiteTraining,
            coveredFrom.AtStartOfDayInZone(zone).ToInstant(),
            coveredFrom);

        if (existing is not null)
        {
            return existing.Imported == row.Plan && SameImport(existing.Activation, activation)
                && (row.ReplacedBy is not { } replacedBy || existing.Replacement is { Completed: true } done && done.NewSerial == replacedBy)
                ? new Decision.NoChange()
                : new Decision.Refuse($"Serial {existing.Serial} already exists with other data.");
        }

        var license = new License(row.Serial, activation, row.Contacts, null, []) { Imported = row.Plan };
        if (row.ReplacedBy is { } newSerial)
        {
            license = license with { Replacement = new Replacement(newSerial, null, now, context.Actor, context.CorrelationId, Completed: true) };
        }
        else
        {
            var handled = schedule.Planned(license)
                .Where(p => p.DueOn < source.ImportedOn)
                .Select(p => new ReminderRecord(p.Stage, p.ExpiresOn, ReminderOutcome.BeforeImport, now, null, p.DueOn));
            license = license with { Reminders = [.. handled] };
        }

        var term = license.Terms[0];
        var data = new Dictionary<string, string>
        {
            [LicenseEventData.Row] = row.RowNumber.ToString(CultureInfo.InvariantCulture),
            [LicenseEventData.FileSha256] = source.FileSha256,
            [LicenseEventData.Product] = activation.Product,
            [LicenseEventData.CustomerId] = activation.Customer.Id,
            [LicenseEventData.OnSiteTraining] = activation.OnSiteTraining ? "true" : "false",
            [LicenseEventData.Start] = IsoDate.Format(term.Start),
            [LicenseEventData.CoveredFrom] = IsoDate.Format(term.CoveredFrom),
            [LicenseEventData.ExpiresOn] = IsoDate.Format(term.End),
        };
        if (row.Plan.ActivationEmailSentOn is { } sentOn)
        {
            data[LicenseEventData.ActivationEmailSentOn] = IsoDate.Format(sentOn);
        }

        if (source.ImportId is { } importId)
        {
            data[LicenseEventData.ImportId] = importId;
        }

        if (!string.IsNullOrEmpty(row.Note))
        {
            data[LicenseEventData.Note] = row.Note;
        }

        if (row.ReplacedBy is { } replacement)
        {
            data[LicenseEventData.NewSerial] = replacement.Value;
        }

        return new Decision.Change(license, Event(LicenseEventTypes.Imported, now, context, data));
    }

    public static Decision RecordTraining(License license, LocalDate today, Instant now, CommandContext context)
    {
        if (license.OnSiteTraining)
        {
            return new Decision.NoChange();
        }

        var updated = license with { TrainingRecordedOn = today };
        return new Decision.Change(updated, Event(LicenseEventTypes.TrainingRecorded, now, context, new Dictionary<string, string>
        {
            [LicenseEventData.PreviousExpiresOn] = IsoDate.Format(license.ExpiresOn),
            [LicenseEventData.ExpiresOn] = IsoDate.Format(updated.ExpiresOn),
        }));
    }

    public static Decision Renew(License license, RenewalRequest request, LocalDate today, Instant now, CommandContext context)
    {
        // R6: the order reference is trimmed and compared ignoring case, also against renewals stored before it was.
        var previous = license.Renewals.FirstOrDefault(r => SameOrder(r.OrderReference, request.OrderReference));
        if (previous is not null)
        {
            var samePayment = request.PaidAt is null || request.PaidAt == previous.PaidAt;
            return previous.Months == request.Months && samePayment
                ? new Decision.NoChange()
                : new Decision.Refuse($"Order {request.OrderReference} was already recorded for serial {license.Serial} with different data.");
        }

        var orderReference = request.OrderReference.Trim();
        var updated = license with
        {
            Renewals = license.Renewals.Add(new Renewal(orderReference, request.Months, now, today, request.PaidAt)),
        };
        var term = updated.Terms[^1];
        var data = new Dictionary<string, string>
        {
            [LicenseEventData.OrderReference] = orderReference,
            [LicenseEventData.Months] = request.Months.ToString(CultureInfo.InvariantCulture),
            [LicenseEventData.Start] = IsoDate.Format(term.Start),
            [LicenseEventData.CoveredFrom] = IsoDate.Format(term.CoveredFrom),
            [LicenseEventData.PreviousExpiresOn] = IsoDate.Format(license.ExpiresOn),
            [LicenseEventData.ExpiresOn] = IsoDate.Format(term.End),
        };
        if (request.PaidAt is { } paidAt)
        {
            data[LicenseEventData.PaidAt] = InstantPattern.ExtendedIso.Format(paidAt);
        }

        return new Decision.Change(updated, Event(LicenseEventTypes.Renewed, now, context, data));
    }

    public static Decision ReplaceContacts(License license, ImmutableArray<EmailAddress> contacts, Instant now, CommandContext context)
    {
        if (license.Contacts.ToHashSet().SetEquals(contacts))
        {
            return new Decision.NoChange();
        }

        return new Decision.Change(license with { Contacts = contacts }, Event(LicenseEventTypes.ContactsChanged, now, context, new Dictionary<string, string>
        {
            [LicenseEventData.Contacts] = string.Join(", ", contacts.Select(c => c.Value)),
            [LicenseEventData.PreviousContacts] = string.Join(", ", license.Contacts.Select(c => c.Value)),
        }));
    }

    /// <summary>
    /// R9: records that a reminder went into the outbox (or can no longer be sent). Recording the same
    /// (expiresOn, stage) twice changes nothing, so a scan that runs again only repairs what a crash left out. The one
    /// record replaced is a reminder withdrawn only because its stage was not configured
    /// (<see cref="ReminderRecord.StageNotConfigured"/>): queued again in another mail (or missed), that is recorded
    /// instead; the mail it was withdrawn from never makes it sent.
    /// </summary>
    public static Decision RecordReminder(License license, PlannedReminder reminder, ReminderOutcome outcome, string? mailId, Instant now, CommandContext context)
    {
        var existing = license.Reminders.FirstOrDefault(r => r.ExpiresOn == reminder.ExpiresOn && r.Stage == reminder.Stage);
        if (existing is not null && (existing.Settled || existing.MailId == mailId))
        {
            return new Decision.NoChange();
        }

        var record = new ReminderRecord(reminder.Stage, reminder.ExpiresOn, outcome, now, mailId, reminder.DueOn);
        var updated = license with { Reminders = existing is null ? license.Reminders.Add(record) : license.Reminders.Replace(existing, record) };
        var data = new Dictionary<string, string>
        {
            [LicenseEventData.Stage] = reminder.Stage.Name,
            [LicenseEventData.DueOn] = IsoDate.Format(reminder.DueOn),
            [LicenseEventData.ExpiresOn] = IsoDate.Format(reminder.ExpiresOn),
        };
        if (mailId is not null)
        {
            data[LicenseEventData.MailId] = mailId;
        }

        var type = outcome == ReminderOutcome.Sent ? LicenseEventTypes.ReminderSent : LicenseEventTypes.ReminderMissed;
        return new Decision.Change(updated, Event(type, now, context, data));
    }

    /// <summary>
    /// R9, R15: a reminder of (<paramref name="expiresOn"/>, <paramref name="stage"/>) queued in mail
    /// <paramref name="mailId"/> was left out of it before delivery. The history keeps the <c>reminderSent</c> event
    /// and gains a <c>reminderWithdrawn</c> one; the license's record of the reminder says withdrawn (it is still
    /// taken: the outbox claim stays consumed, so that reminder is never sent, and the stages before it stay
    /// superseded). A reminder of another <c>expiresOn</c> is another reminder, untouched. Withdrawing it again, or a
    /// reminder the license records as sent in another mail or as missed, changes nothing.
    /// <paramref name="stageNotConfigured"/>: withdrawn only because the offsets that judged it had no such stage; the
    /// record says so (<see cref="ReminderRecord.StageNotConfigured"/>), and offsets that have the stage send it again.
    /// <paramref name="withdrawnFrom"/>: the mail <paramref name="mailId"/> was queued again after (its claim's
    /// <c>after:</c> part). While the license still records only that earlier withdrawal (the scan had not yet recorded
    /// the new mail), this withdrawal replaces it, so the reminder is queued next after this mail, never again in it.
    /// </summary>
    public static Decision WithdrawReminder(License license, ReminderStage stage, LocalDate expiresOn, string mailId, string reason, Instant now, CommandContext context, bool stageNotConfigured = false, string? withdrawnFrom = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(mailId);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var existing = license.Reminders.FirstOrDefault(r => r.ExpiresOn == expiresOn && r.Stage == stage);
        var queuedAgainAfterIt = existing is { Settled: false } && withdrawnFrom is not null && existing.MailId == withdrawnFrom;
        if (existing is not null && !queuedAgainAfterIt && (existing.Outcome != ReminderOutcome.Sent || existing.MailId != mailId))
        {
            return new Decision.NoChange();
        }

        var withdrawn = new ReminderRecord(stage, expiresOn, ReminderOutcome.Withdrawn, now, mailId, existing?.DueOn ?? expiresOn.PlusDays(-stage.DaysBefore)) { StageNotConfigured = stageNotConfigured };
        var reminders = existing is null ? license.Reminders.Add(withdrawn) : license.Reminders.Replace(existing, withdrawn);
        return new Decision.Change(license with { Reminders = reminders }, Event(LicenseEventTypes.ReminderWithdrawn, now, context, new Dictionary<string, string>
        {
            [LicenseEventData.Stage] = stage.Name,
            [LicenseEventData.ExpiresOn] = IsoDate.Format(expiresOn),
            [LicenseEventData.MailId] = mailId,
            [LicenseEventData.Reason] = reason,
        }));
    }

    /// <summary>
    /// R14, R15: records that the announcement of <paramref name="version"/> went into mail <paramref name="mailId"/>.
    /// A license hears of a version once, so a second record of the same version changes nothing, whatever its mail.
    /// </summary>
    public static Decision RecordAnnouncement(License license, IReadOnlyList<LicenseEvent> history, UpdateVersion version, string mailId, Instant now, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Any(e => e.Type == LicenseEventTypes.UpdateAnnounced && e.Data.GetValueOrDefault(VersionKey) == version.Value))
        {
            return new Decision.NoChange();
        }

        return new Decision.Change(license, Event(LicenseEventTypes.UpdateAnnounced, now, context, new Dictionary<string, string>
        {
            [VersionKey] = version.Value,
            [LicenseEventData.MailId] = mailId,
        }));
    }

    /// <summary>
    /// R13, R15: records a release of an update password through a customer link, once per version, client address
    /// and business day: opening the page again (or a retry after the answer was lost) is the same release, and the
    /// audit trail shows who got which password on which day without growing with every reload.
    /// </summary>
    public static Decision RecordPasswordReleased(License license, IReadOnlyList<LicenseEvent> history, UpdateVersion version, string clientAddressHash, LocalDate today, Instant now, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(history);
        var releasedOn = IsoDate.Format(today);
        if (history.Any(e => e.Type == LicenseEventTypes.PasswordReleased
            && e.Data.GetValueOrDefault(VersionKey) == version.Value
            && e.Data.GetValueOrDefault(LicenseEventData.ClientAddressHash) == clientAddressHash
            && e.Data.GetValueOrDefault(LicenseEventData.ReleasedOn) == releasedOn))
        {
            return new Decision.NoChange();
        }

        return new Decision.Change(license, Event(LicenseEventTypes.PasswordReleased, now, context, new Dictionary<string, string>
        {
            [VersionKey] = version.Value,
            [LicenseEventData.ClientAddressHash] = clientAddressHash,
            [LicenseEventData.ReleasedOn] = releasedOn,
        }));
    }

    /// <summary>
    /// R13, R15: records that a fresh password link for <paramref name="version"/> went into mail <paramref name="mailId"/>.
    /// Recording the same mail twice changes nothing (a request retried after a crash).
    /// </summary>
    public static Decision RecordPasswordLinkRequested(License license, IReadOnlyList<LicenseEvent> history, UpdateVersion version, string mailId, Instant now, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Any(e => e.Type == LicenseEventTypes.PasswordLinkRequested && e.Data.GetValueOrDefault(LicenseEventData.MailId) == mailId))
        {
            return new Decision.NoChange();
        }

        return new Decision.Change(license, Event(LicenseEventTypes.PasswordLinkRequested, now, context, new Dictionary<string, string>
        {
            [VersionKey] = version.Value,
            [LicenseEventData.MailId] = mailId,
        }));
    }

    /// <summary>
    /// R15: records a customer request (quote, term) on the license once, as an event, not a change of plan: nothing
    /// when an event of <paramref name="type"/> with the same value of <paramref name="onceBy"/> is already in its
    /// history (a retry whose answer was lost, a run again after a crash, or one event shared by many requests, such as
    /// a quotation for a whole customer on a day).
    /// </summary>
    public static Decision RecordRequestOnce(License license, IEnumerable<LicenseEvent> history, string type, IReadOnlyDictionary<string, string> data, string onceBy, Instant now, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(context);
        var once = data[onceBy];
        return history.Any(e => string.Equals(e.Type, type, StringComparison.Ordinal) && e.Data.TryGetValue(onceBy, out var value) && string.Equals(value, once, StringComparison.Ordinal))
            ? new Decision.NoChange()
            : new Decision.Change(license, Event(type, now, context, new Dictionary<string, string>(data)));
    }

    /// <summary>
    /// SPEC section 10: every change to a license whose dongle was replaced, or is being replaced, is refused, naming the
    /// new serial; null when the license may change. Replacement's own steps do not pass through this guard.
    /// </summary>
    public static Decision? RefuseIfReplaced(License license)
    {
        ArgumentNullException.ThrowIfNull(license);
        return license.Replacement switch
        {
            { Completed: true } r => new Decision.Refuse($"Serial {license.Serial} was replaced by serial {r.NewSerial}; change the license of serial {r.NewSerial} instead."),
            { } r => new Decision.Refuse($"Serial {license.Serial} is being replaced by serial {r.NewSerial}; change the license of serial {r.NewSerial} instead."),
            null => null,
        };
    }

    /// <summary>
    /// SPEC section 10, step 1 on the old license: the write-ahead intent "replacing by <paramref name="newSerial"/>".
    /// The same replacement again (begun or finished) is no change; a replacement onto another serial is refused.
    /// </summary>
    public static Decision BeginReplacement(License license, Serial newSerial, string? reason, Instant now, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(license);
        ArgumentNullException.ThrowIfNull(context);
        if (newSerial == license.Serial)
        {
            throw new ArgumentException($"A dongle cannot be replaced by itself ({newSerial}).", nameof(newSerial));
        }

        if (license.Replacement is { } existing)
        {
            return existing.NewSerial == newSerial
                ? new Decision.NoChange()
                : new Decision.Refuse(existing.Completed
                    ? $"Serial {license.Serial} was already replaced by serial {existing.NewSerial}."
                    : $"Serial {license.Serial} is already being replaced by serial {existing.NewSerial}.");
        }

        var data = new Dictionary<string, string> { [LicenseEventData.NewSerial] = newSerial.Value };
        if (reason is not null)
        {
            data[LicenseEventData.Reason] = reason;
        }

        var updated = license with { Replacement = new Replacement(newSerial, reason, now, context.Actor, context.CorrelationId, Completed: false, context.ActorId) };
        return new Decision.Change(updated, Event(LicenseEventTypes.ReplacementStarted, now, context, data));
    }

    /// <summary>
    /// SPEC section 10, step 2: the new license, made from the old one's begun replacement. It carries the old one's
    /// product, customer, contacts, training, renewals (so its terms and <c>expiresOn</c>) and reminder records (the
    /// reminders already sent count as sent). Its first event is <c>replacementOf</c>, recorded with the actor and
    /// correlation id of the request that began the replacement, whoever finishes it. <paramref name="queued"/> are the
    /// reminders of the plan found in an outbox mail for the old serial but not recorded on it (R9: queued just before
    /// the replacement): they count as sent for the new license too, so the plan gets each reminder once.
    /// </summary>
    public static Decision CreateReplacement(License old, License? existing, IEnumerable<ReminderRecord>? queued = null)
    {
        ArgumentNullException.ThrowIfNull(old);
        if (old.Replacement is not { } replacement)
        {
            throw new ArgumentException($"Serial {old.Serial} has no replacement under way.", nameof(old));
        }

        if (existing is not null)
        {
            return existing.ReplacementOf == old.Serial
                ? new Decision.NoChange()
                : new Decision.Refuse($"Serial {replacement.NewSerial} already exists.");
        }

        var recorded = old.Reminders;
        foreach (var sent in queued ?? [])
        {
            var recordedBefore = recorded.FirstOrDefault(r => r.ExpiresOn == sent.ExpiresOn && r.Stage == sent.Stage);
            if (recordedBefore is null)
            {
                recorded = recorded.Add(sent);
            }
            else if (!recordedBefore.Settled)
            {
                // Withdrawn only for its stage, then queued again: the mail that carries it now is what counts (R9).
                recorded = recorded.Replace(recordedBefore, sent);
            }
        }

        var license = old with
        {
            Serial = replacement.NewSerial,
            ReplacementOf = old.Serial,
            Replacement = null,
            Reminders = recorded,
        };
        var data = new Dictionary<string, string>
        {
            [LicenseEventData.OldSerial] = old.Serial.Value,
            [LicenseEventData.ExpiresOn] = IsoDate.Format(license.ExpiresOn),
        };
        if (replacement.Reason is not null)
        {
            data[LicenseEventData.Reason] = replacement.Reason;
        }

        return new Decision.Change(license, Event(LicenseEventTypes.ReplacementOf, replacement.RequestedAt, replacement.Context, data));
    }

    /// <summary>SPEC section 10, step 3 on the old license: the replacement is done; the license is replaced from now on.</summary>
    public static Decision CompleteReplacement(License license, Instant now)
    {
        ArgumentNullException.ThrowIfNull(license);
        if (license.Replacement is not { } replacement)
        {
            throw new ArgumentException($"Serial {license.Serial} has no replacement under way.", nameof(license));
        }

        if (replacement.Completed)
        {
            return new Decision.NoChange();
        }

        var data = new Dictionary<string, string> { [LicenseEventData.NewSerial] = replacement.NewSerial.Value };
        if (replacement.Reason is not null)
        {
            data[LicenseEventData.Reason] = replacement.Reason;
        }

        return new Decision.Change(
            license with { Replacement = replacement with { Completed = true } },
            Event(LicenseEventTypes.ReplacedBy, now, replacement.Context, data));
    }

    /// <summary>
    /// SPEC section 10: a begun replacement whose new serial was taken by another license before the new license could
    /// be made is undone, so that the plan stays with the old serial (never a plan without a current license).
    /// </summary>
    public static Decision AbandonReplacement(License license, Instant now)
    {
        ArgumentNullException.ThrowIfNull(license);
        if (license.Replacement is not { Completed: false } replacement)
        {
            return new Decision.NoChange();
        }

        return new Decision.Change(
            license with { Replacement = null },
            Event(LicenseEventTypes.ReplacementAbandoned, now, replacement.Context, new Dictionary<string, string>
            {
                [LicenseEventData.NewSerial] = replacement.NewSerial.Value,
            }));
    }

    private static bool SameImport(Activation stored, Activation imported) =>
        string.Equals(stored.Product, imported.Product, StringComparison.Ordinal)
        && stored.Customer == imported.Customer
        && stored.OnSiteTraining == imported.OnSiteTraining
        && stored.EmailSentOn == imported.EmailSentOn
        && stored.Contacts.ToHashSet().SetEquals(imported.Contacts);

    private static bool SameOrder(string stored, string requested) =>
        string.Equals(stored.Trim(), requested.Trim(), StringComparison.OrdinalIgnoreCase);

    private static LicenseEvent Event(string type, Instant now, CommandContext context, Dictionary<string, string> data) =>
        new(type, now, context.Actor, context.CorrelationId, data.ToImmutableSortedDictionary(StringComparer.Ordinal), context.ActorId);
}
