using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Outbox;

public enum MailStatus
{
    /// <summary>Waiting for its next delivery attempt.</summary>
    Pending,

    /// <summary>Leased by a dispatcher that is handing it to the transport; if the lease runs out, its outcome is unknown and is reconciled.</summary>
    Sending,

    /// <summary>Accepted by the transport.</summary>
    Sent,

    /// <summary>Given up after a permanent error or too many attempts; visible to staff, who can retry it.</summary>
    Failed,

    /// <summary>
    /// Never delivered, on purpose: what it said no longer held when it was due to go out (R9: a renewal or training
    /// moved the plan's <c>expiresOn</c> while a reminder waited). Visible to staff; final.
    /// </summary>
    Superseded,
}

/// <summary>The kinds of mail (SPEC section 4), kept with each message for reports and metrics.</summary>
public static class MailKinds
{
    public const string Reminder = "reminder";
    public const string Announcement = "announcement";
    public const string PasswordLink = "passwordLink";
    public const string Term = "term";
    public const string QuoteAcknowledgement = "quoteAcknowledgement";
    public const string QuoteNotification = "quoteNotification";

    /// <summary>The renewals desk's weekly digest (SPEC section 11).</summary>
    public const string Digest = "digest";
}

/// <summary>A message in the durable outbox, with its delivery state.</summary>
public sealed record OutboxMessage(
    OutgoingMail Mail,
    string Kind,
    MailStatus Status,
    int Attempts,
    Instant CreatedAt,
    Instant NextAttemptAt,
    string? LastError,
    Instant? SentAt)
{
    public string Id => Mail.Id;

    /// <summary>
    /// What the message covers (its reminders, announcements), kept with it so that it can be checked, and
    /// re-rendered for what still holds, when it goes out.
    /// </summary>
    public IReadOnlyList<MailClaim> Claims { get; init; } = [];

    /// <summary>
    /// The last attempt may have reached the provider without its answer reaching us (a timeout, a dropped
    /// connection, a 5xx): the provider is asked about the message before it is ever sent again.
    /// </summary>
    public bool OutcomeUnknown { get; init; }

    /// <summary>When the current send was first attempted; its repeats carry this instant to the provider.</summary>
    public Instant? FirstAttemptAt { get; init; }

    /// <summary>
    /// When the dispatcher holding the current lease recorded that it hands the message to the transport (written
    /// right before the send, before the last check that the mail still holds, on the lease's token): a lease that
    /// ran out without it was never handed over, so the
    /// message is sent again without asking the provider; one that ran out with it is asked about first.
    /// </summary>
    public Instant? HandedOverAt { get; init; }

    /// <summary>
    /// When the provider, asked about a message in doubt since its last lease, first answered that it does not know
    /// it. Only the same answer at least a minute later (<see cref="MailDispatcher.SecondUnknownAnswerGap"/>) sends the
    /// message again: a hand-over still under way in another dispatcher has reached the provider by then.
    /// </summary>
    public Instant? UnknownAnswerAt { get; init; }

    /// <summary>
    /// Leases that ran out before their hand-over was recorded (the host shut down or died, or a host whose clock runs
    /// ahead took the lease over): they reached nobody, so they are not attempts, but they are bounded like attempts so
    /// a message that stops its dispatcher every time ends failed for staff instead of looping unseen.
    /// </summary>
    public int Takeovers { get; init; }

    /// <summary>What staff should know beyond the delivery state (for example, serials dropped as superseded).</summary>
    public string? Note { get; init; }

    /// <summary>
    /// True once the body of this sent message (plain text and HTML, which hold customer links) was cleared after the
    /// retention (SPEC section 5); id, kind, recipients, subject, status and times stay.
    /// </summary>
    public bool BodyPurged { get; init; }

    /// <summary>This sent message without its body, as kept after the retention.</summary>
    public OutboxMessage WithoutBody() =>
        this with { Mail = Mail with { PlainText = string.Empty, Html = string.Empty }, BodyPurged = true };

    /// <summary>
    /// Whether an earlier attempt may have reached the provider: an unknown outcome, or a lease that recorded the
    /// hand-over (its dispatcher died, or still works on it). A lease without a recorded hand-over never reached it.
    /// </summary>
    public bool InDoubt => OutcomeUnknown || (Status == MailStatus.Sending && HandedOverAt is not null);

    public static OutboxMessage New(OutgoingMail mail, string kind, Instant now, IReadOnlyCollection<MailClaim>? claims = null) =>
        new(mail, kind, MailStatus.Pending, 0, now, now, null, null) { Claims = claims is null ? [] : [.. claims.Distinct()] };

    /// <summary>Value equality, claims compared by content (a record compares a list by reference).</summary>
    public bool Equals(OutboxMessage? other) =>
        other is not null
        && Mail == other.Mail
        && Kind == other.Kind
        && Status == other.Status
        && Attempts == other.Attempts
        && CreatedAt == other.CreatedAt
        && NextAttemptAt == other.NextAttemptAt
        && LastError == other.LastError
        && SentAt == other.SentAt
        && OutcomeUnknown == other.OutcomeUnknown
        && FirstAttemptAt == other.FirstAttemptAt
        && HandedOverAt == other.HandedOverAt
        && UnknownAnswerAt == other.UnknownAnswerAt
        && Takeovers == other.Takeovers
        && Note == other.Note
        && BodyPurged == other.BodyPurged
        && Claims.SequenceEqual(other.Claims);

    public override int GetHashCode() => HashCode.Combine(Mail, Kind, Status, Attempts, NextAttemptAt, OutcomeUnknown, Claims.Count);
}

/// <summary>An outbox message as stored, with the token that refuses a stale update.</summary>
public sealed record StoredOutboxMessage(OutboxMessage Message, string ConcurrencyToken);

/// <summary>
/// A claim that a message covers something that must be mailed at most once, ever: one reminder
/// (serial, expiresOn, stage) or one license's announcement of one version. A message and its claims
/// are stored together or not at all.
/// </summary>
public readonly record struct MailClaim(string Key)
{
    public static MailClaim Reminder(Serial serial, LocalDate expiresOn, ReminderStage stage) =>
        new($"reminder|{serial.Value}|{expiresOn:yyyy-MM-dd}|{stage.DaysBefore}");

    /// <summary>
    /// The claim of a reminder queued again after mail <paramref name="withdrawnFrom"/> left it out only because its stage
    /// was not configured (<see cref="ReminderRecord.StageNotConfigured"/>): that mail keeps the first claim, and each
    /// such withdrawal allows one mail more, never two.
    /// </summary>
    public static MailClaim Reminder(Serial serial, LocalDate expiresOn, ReminderStage stage, string? withdrawnFrom) =>
        withdrawnFrom is null ? Reminder(serial, expiresOn, stage) : new($"{Reminder(serial, expiresOn, stage).Key}|after:{withdrawnFrom}");

    /// <summary>The serial, expiry and stage of a reminder claim; false for any other claim.</summary>
    public bool TryParseReminder(out Serial serial, out LocalDate expiresOn, out ReminderStage stage) =>
        TryParseReminder(out serial, out expiresOn, out stage, out _);

    /// <summary>
    /// The serial, expiry and stage of a reminder claim, and the mail it was queued again after
    /// (<paramref name="withdrawnFrom"/>, see <see cref="Reminder(Serial, LocalDate, ReminderStage, string?)"/>; null for a
    /// reminder's first claim); false for any other claim.
    /// </summary>
    public bool TryParseReminder(out Serial serial, out LocalDate expiresOn, out ReminderStage stage, out string? withdrawnFrom)
    {
        serial = default;
        expiresOn = default;
        stage = default;
        withdrawnFrom = null;
        var parts = (Key ?? string.Empty).Split('|');
        if (parts.Length is not (4 or 5) || parts[0] != "reminder"
            || (parts.Length == 5 && (!parts[4].StartsWith("after:", StringComparison.Ordinal) || parts[4].Length == "after:".Length))
            || !Serial.TryParse(parts[1], out serial)
            || !NodaTime.Text.LocalDatePattern.Iso.Parse(parts[2]).TryGetValue(default, out expiresOn)
            || !int.TryParse(parts[3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days)
            || days < 1)
        {
            return false;
        }

        stage = new ReminderStage(days);
        withdrawnFrom = parts.Length == 5 ? parts[4]["after:".Length..] : null;
        return true;
    }

    public static MailClaim Announcement(Serial serial, string version) =>
        new($"announcement|{version}|{serial.Value}");

    public override string ToString() => Key ?? string.Empty;
}

/// <summary>What became of an enqueue.</summary>
public abstract record EnqueueResult
{
    private EnqueueResult()
    {
    }

    /// <summary>The message and all its claims were stored.</summary>
    public sealed record Enqueued : EnqueueResult;

    /// <summary>A message with this id is already stored: nothing was written (a repeat).</summary>
    public sealed record AlreadyEnqueued : EnqueueResult;

    /// <summary>Some claims belong to other messages already: nothing was written. Maps each taken claim to its message id.</summary>
    public sealed record ClaimsTaken(IReadOnlyDictionary<MailClaim, string> TakenBy) : EnqueueResult;
}
