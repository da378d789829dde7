using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Tests.Properties;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Updates;

/// <summary>
/// R13 over generated license histories, request days and release dates (<see cref="EntitlementArbitraries"/>).
/// </summary>
/// <remarks>
/// What these properties prove about the two policies, for every generated case (license L, request day t,
/// release date r):
/// <list type="number">
/// <item>r &gt; t: no license is entitled, under either policy.</item>
/// <item>CurrentPlan(L, r, t) = (r &lt;= t) and L is current on t (R7).</item>
/// <item>ReleasedDuringCover(L, r, t) = (r &lt;= t) and r lies in one of L's covered spans.</item>
/// <item>A renewal recorded after a lapse leaves a gap [old expiresOn, recording date): no release in it is
/// entitled under ReleasedDuringCover, while the last covered day before it and the recording date are.</item>
/// <item>ReleasedDuringCover does NOT contain CurrentPlan in general: a license current on t is entitled under
/// CurrentPlan to an update released before its activation date or in a gap, and not under
/// ReleasedDuringCover. What holds is the restricted inclusion: when L is current on t and r lies in
/// [a, t], where a is the first day of the covered span that contains t, both policies entitle L. Every case
/// CurrentPlan entitles and ReleasedDuringCover does not has r before a and r uncovered.</item>
/// </list>
/// </remarks>
[Properties(Arbitrary = [typeof(EntitlementArbitraries)], MaxTest = 300)]
public class EntitlementProperties
{
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void No_license_is_ever_entitled_to_an_unreleased_update(EntitlementCase c)
    {
        foreach (var days in new[] { 1, 2, 30, 365 })
        {
            var unreleased = c with { ReleasedOn = c.Today.PlusDays(days) };
            Assert.False(unreleased.EntitledUnder(EntitlementPolicy.CurrentPlan), unreleased.ToString());
            Assert.False(unreleased.EntitledUnder(EntitlementPolicy.ReleasedDuringCover), unreleased.ToString());
        }
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void CurrentPlan_entitlement_is_being_current_on_the_day_of_the_request(EntitlementCase c)
    {
        var expected = c.ReleasedOn <= c.Today && c.License.StatusOn(c.Today) == PlanStatus.Current;

        Assert.True(expected == c.EntitledUnder(EntitlementPolicy.CurrentPlan), c.ToString());
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void ReleasedDuringCover_entitlement_is_a_release_date_in_a_covered_span(EntitlementCase c)
    {
        var inSpan = PlanRules.CoveredSpans(c.License).Any(s => s.Contains(c.ReleasedOn));
        var expected = c.ReleasedOn <= c.Today && inSpan;

        Assert.True(expected == c.EntitledUnder(EntitlementPolicy.ReleasedDuringCover), c.ToString());
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void ReleasedDuringCover_respects_the_gap_after_a_renewal_recorded_once_the_plan_had_lapsed(EntitlementCase c)
    {
        var terms = c.License.Terms;
        for (var i = 1; i < terms.Length; i++)
        {
            var gapStart = terms[i - 1].End;
            var resumedOn = terms[i].CoveredFrom;
            if (resumedOn <= gapStart)
            {
                continue; // Renewed in time (or on expiresOn itself): no gap.
            }

            var today = terms[i].End.PlusDays(-1); // the renewed term's last day: current, and after every date below
            Assert.Equal(PlanStatus.Current, c.License.StatusOn(today));
            Assert.True(Entitled(c.License, gapStart.PlusDays(-1), today), $"the last covered day {Iso(gapStart.PlusDays(-1))} before the gap: {c}");
            Assert.True(Entitled(c.License, resumedOn, today), $"the day cover resumed, {Iso(resumedOn)}: {c}");
            for (var day = gapStart; day < resumedOn; day = day.PlusDays(1))
            {
                Assert.False(Entitled(c.License, day, today), $"{Iso(day)} lies in the gap [{Iso(gapStart)}, {Iso(resumedOn)}): {c}");
                Assert.True(Entitlement.IsEntitled(c.License, day, today, EntitlementPolicy.CurrentPlan), c.ToString());
            }
        }

        static bool Entitled(License license, LocalDate releasedOn, LocalDate today) =>
            Entitlement.IsEntitled(license, releasedOn, today, EntitlementPolicy.ReleasedDuringCover);
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void While_current_ReleasedDuringCover_entitles_every_release_since_the_current_span_began(EntitlementCase c)
    {
        if (c.License.StatusOn(c.Today) != PlanStatus.Current || c.ReleasedOn > c.Today)
        {
            return;
        }

        var span = Assert.Single(PlanRules.CoveredSpans(c.License), s => s.Contains(c.Today));
        var currentPlan = c.EntitledUnder(EntitlementPolicy.CurrentPlan);
        var releasedDuringCover = c.EntitledUnder(EntitlementPolicy.ReleasedDuringCover);

        Assert.True(currentPlan, c.ToString());
        if (c.ReleasedOn >= span.Start)
        {
            Assert.True(releasedDuringCover, $"released in the current span {span}: {c}");
        }
        else if (!releasedDuringCover)
        {
            // The only way the inclusion fails: released before the current span, on a day never covered.
            Assert.False(PlanRules.IsCovered(c.License, c.ReleasedOn), c.ToString());
        }
    }

    /// <summary>The inclusion of CurrentPlan in ReleasedDuringCover really fails, and the generators find both kinds of counterexample.</summary>
    [Fact]
    public void The_unrestricted_inclusion_fails_before_activation_and_in_gaps_and_the_generators_reach_both()
    {
        var samples = Gen.Sample(EntitlementArbitraries.Cases, 3000, new Rnd(20261113UL), 50);
        var counterexamples = samples
            .Where(c => c.EntitledUnder(EntitlementPolicy.CurrentPlan) && !c.EntitledUnder(EntitlementPolicy.ReleasedDuringCover))
            .ToList();

        Assert.Contains(counterexamples, c => c.ReleasedOn < c.Scenario.ActivatedOn);
        Assert.Contains(counterexamples, c => c.ReleasedOn > c.Scenario.ActivatedOn && !PlanRules.IsCovered(c.License, c.ReleasedOn));
        Assert.Contains(samples, c => c.ReleasedOn == c.Today);
        Assert.Contains(samples, c => c.ReleasedOn == c.Today.PlusDays(1));
        Assert.Contains(samples, c => !c.EntitledUnder(EntitlementPolicy.CurrentPlan) && c.EntitledUnder(EntitlementPolicy.ReleasedDuringCover));
        Assert.Contains(samples, c => c.License.Terms.Skip(1).Select((t, i) => t.CoveredFrom > c.License.Terms[i].End).Any(gap => gap));
    }

    private static string Iso(LocalDate date) => date.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture);
}
