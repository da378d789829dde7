using NodaTime;

namespace Smp.Core.Plans;

/// <summary>Calendar helpers shared by the plan rules.</summary>
public static class Dates
{
    /// <summary>The first day of the month after <paramref name="date"/>, always the next month (R2).</summary>
    public static LocalDate FirstOfNextMonth(LocalDate date) =>
        new LocalDate(date.Year, date.Month, 1).PlusMonths(1);
}
