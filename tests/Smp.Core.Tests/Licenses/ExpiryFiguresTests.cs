using NodaTime;
using Smp.Core.Licenses;

namespace Smp.Core.Tests.Licenses;

/// <summary>SPEC section 8: the dashboard's counts and monthly series, from expiry dates.</summary>
public sealed class ExpiryFiguresTests
{
    private static readonly LocalDate Today = new(2026, 3, 20);

    [Fact]
    public void Section8_counts_expiring_within_30_and_90_days_and_lapsed_in_the_last_90_with_the_edges()
    {
        LocalDate[] expiries =
        [
            Today, Today.PlusDays(30), Today.PlusDays(31), Today.PlusDays(90), Today.PlusDays(91),
            Today.PlusDays(-1), Today.PlusDays(-90), Today.PlusDays(-91),
        ];

        var figures = ExpiryFigures.From(expiries, Today);

        Assert.Equal(2, figures.ExpiringIn30Days);
        Assert.Equal(4, figures.ExpiringIn90Days);
        Assert.Equal(2, figures.LapsedInLast90Days);
    }

    [Fact]
    public void Section8_expiries_per_month_for_the_next_12_and_lapses_per_month_for_the_past_12()
    {
        LocalDate[] expiries = [new(2026, 3, 19), new(2026, 3, 20), new(2026, 3, 31), new(2027, 2, 28), new(2027, 3, 1), new(2025, 4, 30), new(2025, 3, 31)];

        var figures = ExpiryFigures.From(expiries, Today);

        Assert.Equal(12, figures.ExpiriesByMonth.Count);
        Assert.Equal((new YearMonth(2026, 3), 2), figures.ExpiriesByMonth[0]);
        Assert.Equal((new YearMonth(2027, 2), 1), figures.ExpiriesByMonth[11]);
        Assert.Equal(3, figures.ExpiriesByMonth.Sum(m => m.Count));
        Assert.Equal(12, figures.LapsesByMonth.Count);
        Assert.Equal((new YearMonth(2025, 4), 1), figures.LapsesByMonth[0]);
        Assert.Equal((new YearMonth(2026, 3), 1), figures.LapsesByMonth[11]);
        Assert.Equal(2, figures.LapsesByMonth.Sum(m => m.Count));
    }

    [Fact]
    public void Section8_the_window_covers_both_series_and_the_90_day_counts()
    {
        var (from, to) = ExpiryFigures.Window(Today);

        Assert.Equal(new LocalDate(2025, 4, 1), from);
        Assert.Equal(new LocalDate(2027, 2, 28), to);
    }
}
