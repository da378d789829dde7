using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Tests.Properties;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Updates;

/// <summary>One question of R13: a license's history, the day of the request, and an update's release date.</summary>
public sealed record EntitlementCase(PlanScenario Scenario, LocalDate Today, LocalDate ReleasedOn)
{
    /// <summary>The license after its whole history (computed once).</summary>
    public License License => field ??= Scenario.Final;

    public UpdateRelease Release =>
        new(UpdateVersion.Parse("1.96"), ReleasedOn, Given.NoonOn(ReleasedOn.PlusDays(-7)), null, HasPassword: true);

    public bool EntitledUnder(EntitlementPolicy policy) => Entitlement.IsEntitled(License, Release, Today, policy);

    public override string ToString() =>
        $"today {Iso(Today)}, released {Iso(ReleasedOn)}, license: {Scenario}";

    private static string Iso(LocalDate date) => date.ToString("uuuu-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Generators for <see cref="EntitlementCase"/>: plan histories from <see cref="PlanArbitraries"/>; request days and
/// release dates drawn freely around the plan's life and, with extra weight, on the days where the rules change
/// branch: the activation date, every term's first covered day, start and end, and the day either side of each.
/// </summary>
public static class EntitlementArbitraries
{
    public static Gen<EntitlementCase> Cases { get; } =
        from scenario in PlanArbitraries.Scenarios
        let license = scenario.Final
        let landmarks = Landmarks(scenario, license)
        let lifetime = Period.DaysBetween(scenario.ActivatedOn, license.ExpiresOn)
        from today in Gen.Frequency(
            (2, Gen.Elements(landmarks)),
            (3, Gen.Choose(-30, lifetime + 400).Select(scenario.ActivatedOn.PlusDays)))
        from releasedOn in Gen.Frequency(
            (2, Gen.Elements(landmarks)),
            (2, Gen.Choose(-1000, 60).Select(today.PlusDays)),
            (1, Gen.Elements(today.PlusDays(-1), today, today.PlusDays(1))))
        select new EntitlementCase(scenario, today, releasedOn);

    public static Arbitrary<EntitlementCase> EntitlementCases() => Arb.From(Cases, Shrink);

    /// <summary>Shrinks the history as <see cref="PlanArbitraries"/> does; the two dates stay as they were.</summary>
    private static IEnumerable<EntitlementCase> Shrink(EntitlementCase value) =>
        PlanArbitraries.PlanScenarios().Shrinker(value.Scenario).Select(s => value with { Scenario = s });

    private static LocalDate[] Landmarks(PlanScenario scenario, License license)
    {
        var days = new SortedSet<LocalDate> { scenario.ActivatedOn, scenario.LastDate };
        foreach (var term in license.Terms)
        {
            foreach (var day in new[] { term.CoveredFrom, term.Start, term.End })
            {
                days.Add(day.PlusDays(-1));
                days.Add(day);
                days.Add(day.PlusDays(1));
            }
        }

        return [.. days];
    }
}
