using NodaTime;

namespace Smp.Core.Plans;

public enum ReminderOutcome
{
    /// <summary>The reminder was put into the mail outbox as <see cref="ReminderRecord.MailId"/>.</summary>
    Sent,

    /// <summary>The plan expired before any scan could send the reminder.</summary>
    Missed,

    /// <summary>
    /// The reminder was put into mail <see cref="ReminderRecord.MailId"/>, which left it out before delivery (R9: the
    /// plan's <c>expiresOn</c> moved, or its stage is no longer configured). It was never delivered, and its
    /// (serial, expiresOn, stage) is not sent again.
    /// </summary>
    Withdrawn,

    /// <summary>
    /// The license was imported (SPEC section 9) after the reminder was due: the vendor's earlier system handled it,
    /// and it is never sent, so that an import does not mail a flood of late reminders.
    /// </summary>
    BeforeImport,
}

/// <summary>
/// What happened to one (expiresOn, stage) reminder of a license; recorded once, and changed only from
/// <see cref="ReminderOutcome.Sent"/> to <see cref="ReminderOutcome.Withdrawn"/> when its mail leaves it out before delivery.
/// </summary>
/// <param name="DueOn">When the reminder was due; absent from records written before it was kept.</param>
public sealed record ReminderRecord(ReminderStage Stage, LocalDate ExpiresOn, ReminderOutcome Outcome, Instant At, string? MailId, LocalDate? DueOn = null);
