using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Properties;

/// <summary>
/// The generators keep their contract, and reach every branch of the rules: a property over histories
/// that never renew on <c>expiresOn</c>, say, would pass without testing anything there.
/// </summary>
public class PlanArbitrariesTests
{
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay, Arbitrary = [typeof(PlanArbitraries)])]
    public void Generated_histories_keep_their_contract(PlanScenario scenario)
    {
        Assert.InRange(scenario.ActivatedOn, PlanArbitraries.FirstActivation, PlanArbitraries.LastActivation);
        Assert.NotEmpty(scenario.Contacts);
        Assert.Equal(scenario.Contacts.Length, scenario.Contacts.Distinct().Count());

        var previous = scenario.ActivatedOn;
        foreach (var step in scenario.Steps)
        {
            Assert.True(step.On >= previous, $"{step} is recorded before the step or activation that precedes it");
            previous = step.On;
        }

        var renewals = scenario.Steps.OfType<RenewalStep>().ToList();
        Assert.All(renewals, r => Assert.InRange(r.Months, SpecLimits.RenewalMonthsMin, SpecLimits.RenewalMonthsMax));
        Assert.Equal(renewals.Count, renewals.Select(r => r.OrderReference).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Generated_histories_reach_every_branch_of_the_rules()
    {
        var samples = Gen.Sample(PlanArbitraries.Scenarios, 500, new Rnd(20260314UL), 50);
        Assert.Equal(500, samples.Length);
        var replayed = samples.SelectMany(s => s.Replay()).ToList();
        var renewals = replayed.Where(r => r.Step is RenewalStep).ToList();
        var trainings = replayed.Where(r => r.Step is TrainingStep).ToList();

        Assert.Contains(samples, s => s.TrainingAtActivation);
        Assert.Contains(samples, s => !s.TrainingAtActivation);
        Assert.Contains(samples, s => s.ActivatedOn.Month == 1 && CalendarIsLeap(s.ActivatedOn.Year));
        Assert.Contains(samples, s => s.ActivatedOn.Month == 12);
        Assert.Contains(samples, s => s.ActivatedOn.Day == 1);
        Assert.Contains(samples, s => s.ActivatedOn.Day == 31);
        Assert.Contains(samples, s => s.Steps.IsEmpty);
        Assert.Contains(samples, s => s.Steps.Length >= 5);

        Assert.Contains(renewals, r => r.Step.On < r.Before.ExpiresOn.PlusDays(-1));
        Assert.Contains(renewals, r => r.Step.On == r.Before.ExpiresOn.PlusDays(-1));
        Assert.Contains(renewals, r => r.Step.On == r.Before.ExpiresOn);
        Assert.Contains(renewals, r => r.Step.On > r.Before.ExpiresOn);
        Assert.Contains(renewals, r => r.Step.On < r.Before.ExpiresOn && r.Before.ExpiresOn.Day != 1);
        Assert.Contains(renewals, r => r.Step.On == r.Before.Renewals.LastOrDefault()?.RecordedOn);
        Assert.Contains(renewals, r => ((RenewalStep)r.Step).Months == SpecLimits.RenewalMonthsMin);
        Assert.Contains(renewals, r => ((RenewalStep)r.Step).Months == SpecLimits.RenewalMonthsMax);

        Assert.Contains(trainings, r => r.Decision is Decision.Change && r.Step.On >= r.Before.ExpiresOn);
        Assert.Contains(trainings, r => r.Decision is Decision.Change && !r.Before.Renewals.IsEmpty);
        Assert.Contains(trainings, r => r.Decision is Decision.NoChange);
    }

    private static bool CalendarIsLeap(int year) => CalendarSystem.Iso.IsLeapYear(year);
}
