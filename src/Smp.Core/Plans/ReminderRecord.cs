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
    /// (serial, expiresOn, stage) is not sent again, except when it was withdrawn only for its stage
    /// (<see cref="ReminderRecord.StageNotConfigured"/>) and the offsets in force have that stage.
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
public sealed record ReminderRecord(ReminderStage Stage, LocalDate ExpiresOn, ReminderOutcome Outcome, Instant At, string? MailId, LocalDate? DueOn = null)
{
    /// <summary>
    /// A <see cref="ReminderOutcome.Withdrawn"/> reminder left out of its mail only because the offsets that judged it
    /// (<c>Smp:Reminders</c> of the reminder index's owner at send time) had no such stage. It was never delivered, and it
    /// is no decision about the plan: under offsets that have the stage it is due again (R9: "a stage added is sent when
    /// due"), in a mail of its own (see <see cref="Smp.Core.Reminders.ReminderClaims"/>); under offsets without it, it is
    /// not planned at all. Every other withdrawal (the plan moved on, expired, was replaced) stays final.
    /// </summary>
    public bool StageNotConfigured { get; init; }

    /// <summary>Whether this record settles its (expiresOn, stage) reminder for good (see <see cref="StageNotConfigured"/>).</summary>
    public bool Settled => !(Outcome == ReminderOutcome.Withdrawn && StageNotConfigured);
}
