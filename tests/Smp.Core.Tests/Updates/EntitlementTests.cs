using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Updates;

/// <summary>
/// R13: which licenses get a released update's password, under each policy. Worked examples on a 30-day plan
/// activated 2026-03-14 (covered 2026-03-14 to 2026-04-30, expiresOn 2026-05-01) that lapses and is renewed on
/// 2026-06-15 (covered again from that day, term 2026-07-01 to 2027-07-01), leaving 2026-05-01 to 2026-06-14 uncovered.
/// </summary>
public class EntitlementTests
{
    private static readonly License Trial = ActivatedOn("2026-03-14");
    private static readonly License RenewedAfterLapse = Trial.RenewedOn("2026-06-15");

    [Theory]
    [InlineData(EntitlementPolicy.CurrentPlan)]
    [InlineData(EntitlementPolicy.ReleasedDuringCover)]
    public void R13_an_update_released_later_than_today_entitles_no_one(EntitlementPolicy policy)
    {
        Assert.False(Entitlement.IsEntitled(Trial, Release("2026-03-21"), Date("2026-03-20"), policy));
        Assert.False(Entitlement.IsEntitled(RenewedAfterLapse, Release("2027-01-01"), Date("2026-12-31"), policy));
    }

    [Theory]
    [InlineData(EntitlementPolicy.CurrentPlan)]
    [InlineData(EntitlementPolicy.ReleasedDuringCover)]
    public void An_update_released_today_is_released(EntitlementPolicy policy) =>
        Assert.True(Entitlement.IsEntitled(Trial, Release("2026-03-20"), Date("2026-03-20"), policy));

    [Fact]
    public void R13_CurrentPlan_entitles_a_current_license_to_every_released_update_even_one_older_than_the_license()
    {
        var today = Date("2026-04-10");

        Assert.True(Entitlement.IsEntitled(Trial, Release("2025-11-01"), today, EntitlementPolicy.CurrentPlan));
        Assert.True(Entitlement.IsEntitled(Trial, Release("2026-04-10"), today, EntitlementPolicy.CurrentPlan));
    }

    [Fact]
    public void R13_CurrentPlan_refuses_a_lapsed_license_even_an_update_released_while_it_was_covered()
    {
        Assert.Equal(PlanStatus.Lapsed, Trial.StatusOn(Date("2026-05-01")));

        Assert.False(Entitlement.IsEntitled(Trial, Release("2026-04-15"), Date("2026-05-01"), EntitlementPolicy.CurrentPlan));
    }

    [Fact]
    public void R13_ReleasedDuringCover_keeps_the_updates_released_while_covered_after_the_plan_lapsed()
    {
        var today = Date("2026-09-01");

        Assert.True(Entitlement.IsEntitled(Trial, Release("2026-03-14"), today, EntitlementPolicy.ReleasedDuringCover));
        Assert.True(Entitlement.IsEntitled(Trial, Release("2026-04-30"), today, EntitlementPolicy.ReleasedDuringCover));
        Assert.False(Entitlement.IsEntitled(Trial, Release("2026-05-01"), today, EntitlementPolicy.ReleasedDuringCover));
    }

    [Theory]
    [InlineData("2026-04-30", true)] // the last covered day before the lapse
    [InlineData("2026-05-01", false)] // the old expiresOn: the first day of the gap
    [InlineData("2026-05-31", false)]
    [InlineData("2026-06-14", false)] // the day before the renewal was recorded
    [InlineData("2026-06-15", true)] // the renewal's recording date: cover resumes (R6)
    [InlineData("2026-07-01", true)]
    public void R13_ReleasedDuringCover_respects_the_gap_left_by_a_renewal_after_a_lapse(string releasedOn, bool entitled)
    {
        var today = Date("2026-08-01");
        Assert.Equal(PlanStatus.Current, RenewedAfterLapse.StatusOn(today));

        Assert.Equal(entitled, Entitlement.IsEntitled(RenewedAfterLapse, Release(releasedOn), today, EntitlementPolicy.ReleasedDuringCover));
        Assert.True(Entitlement.IsEntitled(RenewedAfterLapse, Release(releasedOn), today, EntitlementPolicy.CurrentPlan));
    }

    [Fact]
    public void ReleasedDuringCover_does_not_contain_CurrentPlan_an_update_released_before_activation_is_the_counterexample()
    {
        var today = Date("2026-03-20");
        var olderThanTheLicense = Release("2026-03-01");

        Assert.True(Entitlement.IsEntitled(Trial, olderThanTheLicense, today, EntitlementPolicy.CurrentPlan));
        Assert.False(Entitlement.IsEntitled(Trial, olderThanTheLicense, today, EntitlementPolicy.ReleasedDuringCover));
    }

    [Theory]
    [InlineData(null, EntitlementPolicy.CurrentPlan)]
    [InlineData("", EntitlementPolicy.CurrentPlan)]
    [InlineData("CurrentPlan", EntitlementPolicy.CurrentPlan)]
    [InlineData(" currentplan ", EntitlementPolicy.CurrentPlan)]
    [InlineData("ReleasedDuringCover", EntitlementPolicy.ReleasedDuringCover)]
    [InlineData("RELEASEDDURINGCOVER", EntitlementPolicy.ReleasedDuringCover)]
    public void The_setting_names_a_policy_and_defaults_to_CurrentPlan(string? value, EntitlementPolicy expected)
    {
        Assert.True(Entitlement.TryParsePolicy(value, out var policy));
        Assert.Equal(expected, policy);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("Current")]
    [InlineData("CurrentPlan,ReleasedDuringCover")]
    public void Anything_else_is_not_a_policy(string value) =>
        Assert.False(Entitlement.TryParsePolicy(value, out _));

    private static UpdateRelease Release(string releasedOn) =>
        new(UpdateVersion.Parse("1.96"), Date(releasedOn), NoonOn(Date("2026-01-05")), null, HasPassword: true);
}
