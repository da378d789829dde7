using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// One license in a mail about several: its serial and the day its plan expires (the first day no longer covered).
/// <see cref="Product"/> is named on the license's line when the mail lists more than one product.
/// </summary>
public sealed record PlanExpiry(Serial Serial, LocalDate ExpiresOn, string? Product = null);

/// <summary>
/// One license in an update announcement: its serial, its plan's expiry and its personal password link.
/// <see cref="Product"/> is named on the license's line when the mail lists more than one product.
/// </summary>
public sealed record LicensePasswordLink(Serial Serial, LocalDate PlanExpiresOn, Uri PasswordUrl, string? Product = null);

/// <summary>
/// One line of a quote notification to the renewals desk: a serial, its plan's expiry, and the next term a
/// renewal would add (R6, computed by the caller with <see cref="PlanRules.RenewalTerm"/>). <see cref="NextTermEnd"/>
/// is, like every expiry date, the first day no longer covered.
/// </summary>
public sealed record QuoteLine(Serial Serial, LocalDate ExpiresOn, LocalDate NextTermStart, LocalDate NextTermEnd, int NextTermMonths)
{
    /// <summary>The line for <paramref name="serial"/> from the term <see cref="PlanRules.RenewalTerm"/> proposes.</summary>
    public static QuoteLine For(Serial serial, LocalDate expiresOn, Term nextTerm)
    {
        ArgumentNullException.ThrowIfNull(nextTerm);
        if (nextTerm.Months is not { } months)
        {
            throw new ArgumentException("A renewal term is counted in months.", nameof(nextTerm));
        }

        return new QuoteLine(serial, expiresOn, nextTerm.Start, nextTerm.End, months);
    }
}

/// <summary>
/// How a reminder (R8) is worded: an early one (90 days before expiry by default) promises another, the final one
/// (the last configured stage, 30 days by default) does not. Which stage is which comes from the reminder schedule.
/// </summary>
public enum ReminderWording
{
    /// <summary>An earlier reminder; another will follow.</summary>
    Early,

    /// <summary>The last reminder before the plan expires.</summary>
    Final,
}
