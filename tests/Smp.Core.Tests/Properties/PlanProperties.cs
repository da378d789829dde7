using System.Collections.Immutable;
using System.Globalization;
using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Properties;

/// <summary>
/// Invariants of the plan rules over generated license histories (<see cref="PlanArbitraries"/>).
/// A failure reports the shrunk history that breaks the invariant.
/// </summary>
[Properties(Arbitrary = [typeof(PlanArbitraries)], MaxTest = 200)]
public class PlanProperties
{
    /// <summary>(a) Renewals are prepaid: each one moves expiresOn later and takes no covered day away.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void A_renewal_never_shortens_coverage(PlanScenario scenario)
    {
        foreach (var step in scenario.Replay().Where(r => r.Step is RenewalStep))
        {
            Assert.True(
                step.After.ExpiresOn > step.Before.ExpiresOn,
                $"{step.Step}: expiresOn went from {Iso(step.Before.ExpiresOn)} to {Iso(step.After.ExpiresOn)}");
            AssertStillCovered(step.Before, step.After, step.Step.ToString());
        }
    }

    /// <summary>(a) A renewal adds one term and leaves the earlier ones as they were.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void A_renewal_appends_one_term_and_keeps_the_earlier_terms(PlanScenario scenario)
    {
        foreach (var step in scenario.Replay().Where(r => r.Step is RenewalStep))
        {
            Assert.Equal<Term>(step.Before.Terms, step.After.Terms[..^1]);
            Assert.Equal(((RenewalStep)step.Step).OrderReference, step.After.Terms[^1].OrderReference);
        }
    }

    /// <summary>
    /// (b) R3, R5, R6: the initial term is 30 days or, with training, one year; every renewal ends exactly the whole
    /// months bought after its start (also after a 30-day term: 2027-03-03 + 12 months = 2028-03-03), and starts either
    /// at the previous expiry (recorded before it) or on the first of a month (recorded after a lapse).
    /// </summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Terms_are_30_days_a_year_or_exactly_the_months_bought(PlanScenario scenario)
    {
        foreach (var (on, license) in scenario.States())
        {
            var terms = license.Terms;
            var initial = terms[0];
            Assert.Equal(license.OnSiteTraining ? initial.Start.PlusYears(SpecLimits.TrainedTermYears) : initial.Start.PlusDays(SpecLimits.TrialDays), initial.End);
            for (var i = 1; i < terms.Length; i++)
            {
                var term = terms[i];
                Assert.True(term.Months is { } months && term.End == term.Start.PlusMonths(months), $"on {Iso(on)}: term {i} {term} in {scenario}");
                Assert.True(
                    term.Start == terms[i - 1].End || (term.Start.Day == 1 && term.CoveredFrom >= terms[i - 1].End),
                    $"on {Iso(on)}: term {i} starts {Iso(term.Start)} after {Iso(terms[i - 1].End)} in {scenario}");
            }

            Assert.Equal(terms[^1].End, license.ExpiresOn);
        }
    }

    /// <summary>(c) R4: covered from the activation date itself through the initial term.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Current_from_the_activation_date_to_the_initial_expiry(PlanScenario scenario)
    {
        foreach (var (_, license) in scenario.States())
        {
            var initialExpiry = license.Terms[0].End;
            for (var date = scenario.ActivatedOn; date < initialExpiry; date = date.PlusDays(1))
            {
                Assert.True(license.StatusOn(date) == PlanStatus.Current, $"lapsed on {Iso(date)}, initial expiry {Iso(initialExpiry)}");
            }

            Assert.Equal(PlanStatus.Lapsed, license.StatusOn(scenario.ActivatedOn.PlusDays(-1)));
        }
    }

    /// <summary>(d) Every command applied a second time, at once or later, is decided as no change.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Applying_a_command_twice_equals_applying_it_once(PlanScenario scenario)
    {
        foreach (var step in scenario.Replay())
        {
            Assert.IsType<Decision.NoChange>(step.Step.DecideOn(step.After, step.Step.On));
        }

        var final = scenario.Final;
        var later = scenario.LastDate.PlusDays(45);
        foreach (var step in scenario.Steps)
        {
            Assert.IsType<Decision.NoChange>(step.DecideOn(final, later));
        }

        var repeat = scenario.ActivationRequest with
        {
            Contacts = [.. scenario.Contacts.Reverse().Select(c => EmailAddress.Parse(c.Value.ToUpperInvariant()))],
        };
        Assert.IsType<Decision.NoChange>(
            PlanDecisions.Activate(final, repeat, PlanOptions.DefaultProductName, scenario.ActivatedOn, Given.NoonOn(later), Given.Staff));

        Assert.IsType<Decision.NoChange>(
            PlanDecisions.ReplaceContacts(final, [.. final.Contacts.Reverse()], Given.NoonOn(later), Given.Staff));
        ImmutableArray<EmailAddress> replaced = [EmailAddress.Parse("new.contact@acme.example"), .. final.Contacts.Skip(1)];
        var once = Given.Changed(PlanDecisions.ReplaceContacts(final, replaced, Given.NoonOn(later), Given.Staff)).License;
        Assert.IsType<Decision.NoChange>(PlanDecisions.ReplaceContacts(once, replaced, Given.NoonOn(later.PlusDays(1)), Given.Staff));
    }

    /// <summary>(e) Terms follow one another, each is a real span, and none covers a day before the activation.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Terms_are_ordered_and_never_cover_a_day_before_activation(PlanScenario scenario)
    {
        foreach (var (on, license) in scenario.States())
        {
            var terms = license.Terms;
            Assert.Equal(1 + license.Renewals.Length, terms.Length);
            Assert.Equal(TermKind.Initial, terms[0].Kind);
            Assert.Equal(scenario.ActivatedOn, terms[0].CoveredFrom);
            for (var i = 0; i < terms.Length; i++)
            {
                var term = terms[i];
                var where = $"term {i} after {Iso(on)}: {term}";
                Assert.True(term.End > term.Start, where);
                Assert.True(term.CoveredFrom <= term.Start, where);
                Assert.True(term.CoveredFrom >= scenario.ActivatedOn, where);
                Assert.True((term.Months is null) != (term.Days is null), where);
                if (i > 0)
                {
                    Assert.Equal(TermKind.Renewal, term.Kind);
                    Assert.Equal(license.Renewals[i - 1].OrderReference, term.OrderReference);
                    Assert.Equal(license.Renewals[i - 1].Months, term.Months);
                    Assert.True(term.Start >= terms[i - 1].End, where);
                    Assert.True(term.CoveredFrom >= terms[i - 1].End, where);
                }
            }
        }
    }

    /// <summary>(f) The covered spans are exactly the days on which the status is current, merged and in order.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Covered_spans_agree_with_status_on_every_date(PlanScenario scenario)
    {
        var license = scenario.Final;
        var spans = PlanRules.CoveredSpans(license);

        Assert.NotEmpty(spans);
        for (var i = 1; i < spans.Length; i++)
        {
            Assert.True(spans[i].Start > spans[i - 1].End.PlusDays(1), $"spans {spans[i - 1]} and {spans[i]} touch or overlap");
        }

        for (var date = scenario.ActivatedOn.PlusDays(-40); date <= license.ExpiresOn.PlusDays(40); date = date.PlusDays(1))
        {
            var inSpan = spans.Any(s => s.Contains(date));
            var current = license.StatusOn(date) == PlanStatus.Current;
            Assert.True(inSpan == current, $"{Iso(date)}: status {license.StatusOn(date)}, in a covered span: {inSpan}");
        }
    }

    /// <summary>(g) R5: training, whenever it is recorded, never takes a covered day away nor brings expiry forward.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Recording_training_never_shortens_coverage(PlanScenario scenario)
    {
        foreach (var (on, before) in scenario.States().Where(s => !s.License.OnSiteTraining))
        {
            var after = Given.Changed(PlanDecisions.RecordTraining(before, on, Given.NoonOn(on), Given.Staff)).License;

            Assert.True(after.ExpiresOn >= before.ExpiresOn, $"training on {Iso(on)} moved expiresOn from {Iso(before.ExpiresOn)} to {Iso(after.ExpiresOn)}");
            AssertStillCovered(before, after, $"training on {Iso(on)}");
        }
    }

    private static void AssertStillCovered(License before, License after, string change)
    {
        foreach (var term in before.Terms)
        {
            for (var date = term.CoveredFrom; date < term.End; date = date.PlusDays(1))
            {
                Assert.True(after.StatusOn(date) == PlanStatus.Current, $"{change}: {Iso(date)} was covered and no longer is");
            }
        }
    }

    private static string Iso(LocalDate date) => date.ToString("uuuu-MM-dd", CultureInfo.InvariantCulture);
}
