using NodaTime;

namespace Smp.Core.Licenses;

/// <summary>
/// The dashboard's figures (SPEC section 8) from the expiry dates of the licenses whose <c>expiresOn</c> lies within
/// <see cref="Window"/> of today: how many expire within 30 and 90 days (today included), how many lapsed in the last
/// 90 days, and per calendar month the expiries of the next 12 months (this month first) and the lapses of the past 12
/// (oldest first, this month last, up to yesterday).
/// </summary>
public sealed record ExpiryFigures(
    int ExpiringIn30Days,
    int ExpiringIn90Days,
    int LapsedInLast90Days,
    IReadOnlyList<(YearMonth Month, int Count)> ExpiriesByMonth,
    IReadOnlyList<(YearMonth Month, int Count)> LapsesByMonth)
{
    /// <summary>The range of expiry dates the figures need, around <paramref name="today"/>.</summary>
    public static (LocalDate From, LocalDate To) Window(LocalDate today)
    {
        var thisMonth = today.ToYearMonth();
        var from = thisMonth.OnDayOfMonth(1).PlusMonths(-11);
        var to = thisMonth.OnDayOfMonth(1).PlusMonths(12).PlusDays(-1);
        return (LocalDate.Min(from, today.PlusDays(-90)), LocalDate.Max(to, today.PlusDays(90)));
    }

    public static ExpiryFigures From(IEnumerable<LocalDate> expiries, LocalDate today)
    {
        ArgumentNullException.ThrowIfNull(expiries);
        var list = expiries.ToList();
        var thisMonth = today.ToYearMonth();
        var next = Enumerable.Range(0, 12).Select(i => Month(thisMonth, i)).ToList();
        var past = Enumerable.Range(-11, 12).Select(i => Month(thisMonth, i)).ToList();
        return new ExpiryFigures(
            list.Count(d => d >= today && d <= today.PlusDays(30)),
            list.Count(d => d >= today && d <= today.PlusDays(90)),
            list.Count(d => d < today && d >= today.PlusDays(-90)),
            [.. next.Select(m => (m, list.Count(d => d >= today && d.ToYearMonth() == m)))],
            [.. past.Select(m => (m, list.Count(d => d < today && d.ToYearMonth() == m)))]);
    }

    private static YearMonth Month(YearMonth start, int offset)
    {
        var first = start.OnDayOfMonth(1).PlusMonths(offset);
        return first.ToYearMonth();
    }
}
