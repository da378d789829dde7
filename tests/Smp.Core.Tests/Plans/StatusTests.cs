using NodaTime;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>R7: status on a date is current when the date lies in a covered span, else lapsed.</summary>
public class StatusTests
{
    [Fact]
    public void R7_a_30_day_plan_is_lapsed_on_expiresOn_and_current_the_day_before()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal(Date("2026-05-01"), license.ExpiresOn);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-04-30")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2026-05-01")));
    }

    [Fact]
    public void R7_a_one_year_plan_is_lapsed_on_expiresOn_and_current_the_day_before()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true);

        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-03-31")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2027-04-01")));
    }

    [Fact]
    public void R7_a_30_day_plan_expiring_on_the_third_of_March_is_current_on_the_second()
    {
        var license = ActivatedOn("2027-01-20");

        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-03-02")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2027-03-03")));
    }

    [Fact]
    public void R7_a_renewed_plan_is_lapsed_on_its_new_expiresOn_and_current_the_day_before()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true).RenewedOn("2027-02-10");

        Assert.Equal(Date("2028-04-01"), license.ExpiresOn);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2028-03-31")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2028-04-01")));
    }

    [Fact]
    public void R7_status_is_lapsed_long_after_expiry_and_long_before_activation()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2030-01-01")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2020-01-01")));
    }

    [Fact]
    public void R7_is_covered_agrees_with_status()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.True(PlanRules.IsCovered(license, Date("2026-04-30")));
        Assert.False(PlanRules.IsCovered(license, Date("2026-05-01")));
    }

    [Fact]
    public void R7_covered_spans_of_a_single_term_run_from_activation_to_the_day_before_expiresOn()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal<DateInterval>([new DateInterval(Date("2026-03-14"), Date("2026-04-30"))], PlanRules.CoveredSpans(license));
    }

    [Fact]
    public void R7_covered_spans_merge_a_renewal_that_follows_without_a_gap()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true).RenewedOn("2027-02-10");

        Assert.Equal<DateInterval>([new DateInterval(Date("2026-03-14"), Date("2028-03-31"))], PlanRules.CoveredSpans(license));
    }

    [Fact]
    public void R7_covered_spans_merge_a_renewal_recorded_on_expiresOn()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true).RenewedOn("2027-04-01");

        Assert.Equal<DateInterval>([new DateInterval(Date("2026-03-14"), Date("2028-04-30"))], PlanRules.CoveredSpans(license));
    }

    [Fact]
    public void R7_covered_spans_keep_the_gap_before_a_late_renewal()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true).RenewedOn("2027-06-17");

        Assert.Equal<DateInterval>(
            [
                new DateInterval(Date("2026-03-14"), Date("2027-03-31")),
                new DateInterval(Date("2027-06-17"), Date("2028-06-30")),
            ],
            PlanRules.CoveredSpans(license));
    }
}
