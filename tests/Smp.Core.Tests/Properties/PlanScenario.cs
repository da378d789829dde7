using System.Collections.Immutable;
using System.Globalization;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Properties;

/// <summary>A command recorded on a license after its activation, on a business date.</summary>
public abstract record PlanStep(LocalDate On)
{
    public abstract Decision DecideOn(License license, LocalDate today);

    protected static string Iso(LocalDate date) => date.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture);
}

public sealed record RenewalStep(LocalDate On, string OrderReference, int Months) : PlanStep(On)
{
    public RenewalRequest Request => new(OrderReference, Months, null);

    public override Decision DecideOn(License license, LocalDate today) =>
        PlanDecisions.Renew(license, Request, today, Given.NoonOn(today), Given.Staff);

    public override string ToString() => $"renew {OrderReference} for {Months} months on {Iso(On)}";
}

public sealed record TrainingStep(LocalDate On) : PlanStep(On)
{
    public override Decision DecideOn(License license, LocalDate today) =>
        PlanDecisions.RecordTraining(license, today, Given.NoonOn(today), Given.Staff);

    public override string ToString() => $"record training on {Iso(On)}";
}

/// <summary>One license's history as the generators produce it: an activation, then steps on non-decreasing dates.</summary>
public sealed record PlanScenario(
    LocalDate ActivatedOn,
    bool TrainingAtActivation,
    ImmutableArray<EmailAddress> Contacts,
    ImmutableArray<PlanStep> Steps)
{
    public ActivationRequest ActivationRequest =>
        new(Serial.Parse(Given.SerialNumber), null, Given.Acme, Contacts, TrainingAtActivation, Given.NoonOn(ActivatedOn));

    public License Activated =>
        Given.Changed(PlanDecisions.Activate(null, ActivationRequest, PlanOptions.DefaultProductName, ActivatedOn, Given.NoonOn(ActivatedOn), Given.Staff)).License;

    /// <summary>Every step with the license before it, the decision taken, and the license after it.</summary>
    public IReadOnlyList<Replayed> Replay()
    {
        var replayed = new List<Replayed>(Steps.Length);
        var license = Activated;
        foreach (var step in Steps)
        {
            var decision = step.DecideOn(license, step.On);
            var after = decision is Decision.Change change ? change.License : license;
            replayed.Add(new Replayed(step, license, decision, after));
            license = after;
        }

        return replayed;
    }

    /// <summary>The license after activation and after each step, oldest first, with the date it was reached.</summary>
    public IEnumerable<(LocalDate On, License License)> States()
    {
        yield return (ActivatedOn, Activated);
        foreach (var replayed in Replay())
        {
            yield return (replayed.Step.On, replayed.After);
        }
    }

    public License Final => States().Last().License;

    public LocalDate LastDate => Steps.IsEmpty ? ActivatedOn : Steps[^1].On;

    public override string ToString()
    {
        var activation = $"activated {ActivatedOn.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture)} "
            + (TrainingAtActivation ? "with" : "without") + " training, contacts "
            + string.Join(", ", Contacts);
        return string.Join("; ", Steps.Select(s => s.ToString()).Prepend(activation));
    }
}

public sealed record Replayed(PlanStep Step, License Before, Decision Decision, License After);
