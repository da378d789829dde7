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

    public static OutboxMessage New(OutgoingMail mail, string kind, Instant now) =>
        new(mail, kind, MailStatus.Pending, 0, now, now, null, null);
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
