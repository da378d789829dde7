using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Properties;

/// <summary>
/// Generators for plan histories: activation dates across several years (two of them leap years), with
/// and without training, followed by renewals of 1-60 months and late training, recorded on dates that
/// never go backwards and never precede the activation. Recording dates are drawn both freely and
/// around the plan's current <c>expiresOn</c> (the day before, the day itself, the day after), where
/// the rules change branch.
/// </summary>
public static class PlanArbitraries
{
    public static readonly LocalDate FirstActivation = new(2024, 1, 1);
    public static readonly LocalDate LastActivation = new(2031, 12, 31);

    private static readonly EmailAddress[] ContactPool =
    [
        EmailAddress.Parse("buyer@acme.example"),
        EmailAddress.Parse("cad.lead@acme.example"),
        EmailAddress.Parse("it@acme.example"),
        EmailAddress.Parse("Quality@Acme.Example"),
    ];

    /// <summary>Any date in the range, with extra weight on the first and the last days of a month.</summary>
    public static Gen<LocalDate> ActivationDates { get; } = Gen.Frequency(
        (3, Gen.Choose(0, Period.DaysBetween(FirstActivation, LastActivation)).Select(FirstActivation.PlusDays)),
        (1, from year in Gen.Choose(FirstActivation.Year, LastActivation.Year)
            from month in Gen.Choose(1, 12)
            from day in Gen.Elements(1, 2, 28, 29, 30, 31)
            select new LocalDate(year, month, Math.Min(day, CalendarSystem.Iso.GetDaysInMonth(year, month)))));

    public static Gen<bool> TrainingFlags { get; } = Gen.Elements(false, true);

    /// <summary>1-60 months, with extra weight on the bounds and on the lengths around one year.</summary>
    public static Gen<int> RenewalMonths { get; } = Gen.Frequency(
        (3, Gen.Choose(SpecLimits.RenewalMonthsMin, SpecLimits.RenewalMonthsMax)),
        (2, Gen.Elements(1, 2, 11, 12, 13, 24, 59, 60)));

    public static Gen<ImmutableArray<EmailAddress>> Contacts { get; } =
        Gen.NonEmptyListOf(Gen.Elements(ContactPool)).Select(list => list.Distinct().ToImmutableArray());

    /// <summary>A step before it is dated: what it is, and where its date falls.</summary>
    private static Gen<StepDraft> StepDrafts { get; } =
        from isTraining in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from months in RenewalMonths
        from anchor in Gen.Frequency(
            (3, Gen.Choose(0, 40).Select(days => new Anchor(FromExpiry: false, days))),
            (2, Gen.Choose(0, 400).Select(days => new Anchor(FromExpiry: false, days))),
            (1, Gen.Choose(400, 2000).Select(days => new Anchor(FromExpiry: false, days))),
            (3, Gen.Elements(-1, 0, 1).Select(days => new Anchor(FromExpiry: true, days))),
            (1, Gen.Choose(-60, 60).Select(days => new Anchor(FromExpiry: true, days))))
        select new StepDraft(isTraining, months, anchor);

    public static Gen<PlanScenario> Scenarios { get; } =
        from activatedOn in ActivationDates
        from training in TrainingFlags
        from contacts in Contacts
        from count in Gen.Choose(0, 6)
        from drafts in Gen.ArrayOf(StepDrafts, count)
        select WithDates(new PlanScenario(activatedOn, training, contacts, []), drafts);

    public static Arbitrary<PlanScenario> PlanScenarios() => Arb.From(Scenarios, Shrink);

    /// <summary>Simpler histories first: fewer steps, then no training at activation. Dates stay as they were.</summary>
    private static IEnumerable<PlanScenario> Shrink(PlanScenario scenario)
    {
        for (var i = scenario.Steps.Length - 1; i >= 0; i--)
        {
            yield return scenario with { Steps = scenario.Steps.RemoveAt(i) };
        }

        if (scenario.TrainingAtActivation)
        {
            yield return scenario with { TrainingAtActivation = false };
        }

        if (scenario.Contacts.Length > 1)
        {
            yield return scenario with { Contacts = [scenario.Contacts[0]] };
        }
    }

    /// <summary>Gives each draft its date: after the previous step, or around the plan's expiry at that point, never earlier than the previous step.</summary>
    private static PlanScenario WithDates(PlanScenario scenario, StepDraft[] drafts)
    {
        var steps = ImmutableArray.CreateBuilder<PlanStep>(drafts.Length);
        var license = scenario.Activated;
        var previous = scenario.ActivatedOn;
        foreach (var draft in drafts)
        {
            var on = draft.Anchor.FromExpiry
                ? LocalDate.Max(previous, license.ExpiresOn.PlusDays(draft.Anchor.Days))
                : previous.PlusDays(draft.Anchor.Days);
            PlanStep step = draft.IsTraining
                ? new TrainingStep(on)
                : new RenewalStep(on, $"PO-{steps.Count + 1}", draft.Months);
            if (step.DecideOn(license, on) is Decision.Change change)
            {
                license = change.License;
            }

            steps.Add(step);
            previous = on;
        }

        return scenario with { Steps = steps.MoveToImmutable() };
    }

    private sealed record Anchor(bool FromExpiry, int Days);

    private sealed record StepDraft(bool IsTraining, int Months, Anchor Anchor);
}
