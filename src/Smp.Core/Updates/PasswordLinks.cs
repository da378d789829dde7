using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Updates;

/// <summary>Helpers shared by the mails that carry password links.</summary>
public static class PasswordLinks
{
    /// <summary>
    /// The last business date on which a link that expires at <paramref name="expiresAt"/> still works (a link is
    /// valid while now is before its expiry, so a link expiring at midnight works until the day before).
    /// </summary>
    public static LocalDate LastDayOf(Instant expiresAt, BusinessCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return calendar.DateOf(expiresAt - Duration.FromSeconds(1));
    }
}
