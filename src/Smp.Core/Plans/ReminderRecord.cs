using NodaTime;

namespace Smp.Core.Plans;

public enum ReminderOutcome
{
    /// <summary>The reminder was put into the mail outbox as <see cref="ReminderRecord.MailId"/>.</summary>
    Sent,

    /// <summary>The plan expired before any scan could send the reminder.</summary>
    Missed,
}

/// <summary>What happened to one (expiresOn, stage) reminder of a license; recorded once, never changed.</summary>
/// <param name="DueOn">When the reminder was due; absent from records written before it was kept.</param>
public sealed record ReminderRecord(ReminderStage Stage, LocalDate ExpiresOn, ReminderOutcome Outcome, Instant At, string? MailId, LocalDate? DueOn = null);
