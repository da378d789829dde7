using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>R4: the license is covered from the activation date itself, before the term's start.</summary>
public class CoverBeforeStartTests
{
    [Fact]
    public void R4_activated_mid_month_is_current_on_the_activation_date()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-03-14")));
    }

    [Fact]
    public void R4_current_on_the_last_day_before_the_term_starts()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-03-31")));
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-04-01")));
    }

    [Fact]
    public void R4_current_on_every_day_from_activation_to_the_start()
    {
        var license = ActivatedOn("2026-03-14");

        for (var date = Date("2026-03-14"); date <= Date("2026-04-01"); date = date.PlusDays(1))
        {
            Assert.True(license.StatusOn(date) == PlanStatus.Current, $"lapsed on {date:uuuu-MM-dd}");
        }
    }

    [Fact]
    public void R4_lapsed_the_day_before_activation()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2026-03-13")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void R4_the_initial_term_is_covered_from_the_activation_date(bool onSiteTraining)
    {
        var term = ActivatedOn("2026-03-14", onSiteTraining).Terms[0];

        Assert.Equal(Date("2026-03-14"), term.CoveredFrom);
        Assert.True(term.Covers(Date("2026-03-14")));
        Assert.False(term.Covers(Date("2026-03-13")));
    }

    [Fact]
    public void R4_activated_on_the_first_is_covered_for_the_whole_month_before_the_start()
    {
        var license = ActivatedOn("2026-03-01");

        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2026-02-28")));
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-03-01")));
        Assert.Equal(Date("2026-04-01"), license.Terms[0].Start);
        Assert.Equal(Date("2026-05-01"), license.ExpiresOn);
    }
}
