using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>The outbox claim that keeps one reminder of a license in at most one mail (R9).</summary>
public static class ReminderClaims
{
    /// <summary>
    /// The claim of the (expiresOn, stage) reminder of <paramref name="license"/>: the reminder's own, or, when the license
    /// records it as withdrawn from a mail only because its stage was not configured
    /// (<see cref="ReminderRecord.StageNotConfigured"/>), the claim of one more mail after that one.
    /// </summary>
    public static MailClaim Of(License license, ReminderStage stage, LocalDate expiresOn)
    {
        ArgumentNullException.ThrowIfNull(license);
        return MailClaim.Reminder(license.Serial, expiresOn, stage, WithdrawnFrom(license, stage, expiresOn));
    }

    /// <summary>The mail that left the reminder out only because its stage was not configured; null when none did.</summary>
    public static string? WithdrawnFrom(License license, ReminderStage stage, LocalDate expiresOn)
    {
        ArgumentNullException.ThrowIfNull(license);
        return license.Reminders.FirstOrDefault(r => r.ExpiresOn == expiresOn && r.Stage == stage && !r.Settled)?.MailId;
    }
}
