using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>
/// R5: on-site training recorded after activation makes a 30-day initial term one year long, from the
/// same start date, even after the 30-day term lapsed; recording it twice changes nothing.
/// </summary>
public class TrainingLaterTests
{
    [Fact]
    public void R5_training_recorded_later_makes_the_initial_term_one_year_from_the_same_start()
    {
        var license = ActivatedOn("2026-03-14").WithTrainingRecordedOn("2026-04-10");

        var term = Assert.Single(license.Terms);
        Assert.Equal(
            new Term(
                Kind: TermKind.Initial,
                Start: Date("2026-04-01"),
                End: Date("2027-04-01"),
                Months: 12,
                Days: null,
                Source: TermSource.Training,
                OrderReference: null,
                CoveredFrom: Date("2026-03-14")),
            term);
        Assert.Equal(Date("2026-04-10"), license.TrainingRecordedOn);
        Assert.True(license.OnSiteTraining);
        Assert.False(license.Activation.OnSiteTraining);
    }

    [Fact]
    public void R5_training_recorded_before_the_term_starts_gives_one_year_from_the_same_start()
    {
        var license = ActivatedOn("2026-03-14").WithTrainingRecordedOn("2026-03-20");

        Assert.Equal(Date("2026-04-01"), license.Terms[0].Start);
        Assert.Equal(Date("2027-04-01"), license.ExpiresOn);
    }

    [Fact]
    public void R5_training_recorded_after_the_30_day_term_lapsed_still_gives_one_year_from_the_same_start()
    {
        var lapsed = ActivatedOn("2026-03-14");
        Assert.Equal(PlanStatus.Lapsed, lapsed.StatusOn(Date("2026-06-15")));

        var license = lapsed.WithTrainingRecordedOn("2026-06-15");

        Assert.Equal(Date("2026-04-01"), license.Terms[0].Start);
        Assert.Equal(Date("2027-04-01"), license.ExpiresOn);
        Assert.Equal(TermSource.Training, license.Terms[0].Source);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-06-15")));
    }

    [Fact]
    public void R5_training_recorded_after_a_lapse_covers_the_lapsed_days_of_the_same_year()
    {
        var license = ActivatedOn("2026-03-14").WithTrainingRecordedOn("2026-06-15");

        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2026-05-01")));
        Assert.Equal<DateInterval>([new DateInterval(Date("2026-03-14"), Date("2027-03-31"))], PlanRules.CoveredSpans(license));
    }

    [Fact]
    public void R5_training_recorded_after_the_year_would_have_ended_gives_a_plan_that_already_expired()
    {
        var license = ActivatedOn("2026-03-14").WithTrainingRecordedOn("2027-05-20");

        Assert.Equal(Date("2027-04-01"), license.ExpiresOn);
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2027-05-20")));
    }

    [Fact]
    public void R5_recording_training_twice_changes_nothing()
    {
        var once = ActivatedOn("2026-03-14").WithTrainingRecordedOn("2026-04-10");

        var twice = PlanDecisions.RecordTraining(once, Date("2026-05-02"), NoonOn(Date("2026-05-02")), Staff);

        Assert.IsType<Decision.NoChange>(twice);
        Assert.Equal(Date("2026-04-10"), once.TrainingRecordedOn);
    }

    [Fact]
    public void R5_recording_training_on_the_same_day_twice_changes_nothing()
    {
        var once = ActivatedOn("2026-03-14").WithTrainingRecordedOn("2026-04-10");

        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordTraining(once, Date("2026-04-10"), NoonOn(Date("2026-04-10")), Staff));
    }

    [Fact]
    public void R5_recording_training_for_a_license_activated_with_training_changes_nothing()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true);

        var decision = PlanDecisions.RecordTraining(license, Date("2026-04-10"), NoonOn(Date("2026-04-10")), Staff);

        Assert.IsType<Decision.NoChange>(decision);
        Assert.Equal(TermSource.Activation, license.Terms[0].Source);
    }

    /// <remarks>
    /// Not decided by the spec: training bought after a renewal was recorded. The renewal is prepaid
    /// and is not lost: its term follows the one-year initial term, as if it had been recorded then.
    /// </remarks>
    [Fact]
    public void R5_training_recorded_after_a_renewal_keeps_the_renewal_after_the_one_year_term()
    {
        var renewed = ActivatedOn("2026-03-14").RenewedOn("2026-04-15", months: 12, orderReference: "PO-1");
        Assert.Equal(Date("2027-05-01"), renewed.ExpiresOn);

        var license = renewed.WithTrainingRecordedOn("2026-06-01");

        Assert.Equal<Term>(
            [
                new Term(TermKind.Initial, Date("2026-04-01"), Date("2027-04-01"), 12, null, TermSource.Training, null, Date("2026-03-14")),
                new Term(TermKind.Renewal, Date("2027-04-01"), Date("2028-04-01"), 12, null, TermSource.Renewal, "PO-1", Date("2027-04-01")),
            ],
            license.Terms);
    }

    /// <remarks>
    /// Not decided by the spec either: a renewal recorded after the 30-day term lapsed, then training.
    /// The renewal recorded during the lapse now falls inside the one-year term, so it follows that term.
    /// </remarks>
    [Fact]
    public void R5_training_recorded_after_a_late_renewal_keeps_the_renewal_after_the_one_year_term()
    {
        var renewed = ActivatedOn("2026-03-14").RenewedOn("2026-07-10", months: 12, orderReference: "PO-1");
        Assert.Equal(Date("2026-07-10"), renewed.Terms[1].CoveredFrom);

        var license = renewed.WithTrainingRecordedOn("2026-09-01");

        Assert.Equal(
            new Term(TermKind.Renewal, Date("2027-04-01"), Date("2028-04-01"), 12, null, TermSource.Renewal, "PO-1", Date("2027-04-01")),
            license.Terms[1]);
        Assert.Equal<DateInterval>([new DateInterval(Date("2026-03-14"), Date("2028-03-31"))], PlanRules.CoveredSpans(license));
    }
}
