using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>
/// R6: a prepaid renewal of 1-60 whole months (default 12), keyed by its order reference. Recorded before
/// <c>expiresOn</c> it starts at <c>expiresOn</c>; recorded on or after it, coverage resumes on the recording
/// date and the term starts on the first of the next month, the gap staying uncovered.
/// </summary>
public class RenewalTests
{
    // Activated 2026-03-14 with training: 2026-04-01 to 2027-04-01.
    private static readonly License OneYearPlan = ActivatedOn("2026-03-14", onSiteTraining: true);

    [Fact]
    public void R6_renewal_recorded_before_expiry_starts_at_expiresOn_with_no_gap()
    {
        var license = OneYearPlan.RenewedOn("2027-02-10", months: 12, orderReference: "PO-1");

        Assert.Equal<Term>(
            [
                OneYearPlan.Terms[0],
                new Term(
                    Kind: TermKind.Renewal,
                    Start: Date("2027-04-01"),
                    End: Date("2028-04-01"),
                    Months: 12,
                    Days: null,
                    Source: TermSource.Renewal,
                    OrderReference: "PO-1",
                    CoveredFrom: Date("2027-04-01")),
            ],
            license.Terms);
        Assert.Equal(Date("2028-04-01"), license.ExpiresOn);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-03-31")));
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-04-01")));
    }

    [Fact]
    public void R6_renewal_recorded_the_day_before_expiry_still_starts_at_expiresOn()
    {
        var license = OneYearPlan.RenewedOn("2027-03-31");

        Assert.Equal(Date("2027-04-01"), license.Terms[1].Start);
        Assert.Equal(Date("2027-04-01"), license.Terms[1].CoveredFrom);
        Assert.Equal(Date("2028-04-01"), license.ExpiresOn);
    }

    [Fact]
    public void R6_renewal_recorded_before_the_initial_term_starts_follows_the_initial_term()
    {
        var license = ActivatedOn("2026-03-14").RenewedOn("2026-03-20");

        Assert.Equal(Date("2026-05-01"), license.Terms[1].Start);
        Assert.Equal(Date("2027-05-01"), license.ExpiresOn);
    }

    [Fact]
    public void R6_renewal_recorded_on_expiresOn_resumes_coverage_that_day_and_starts_on_the_first_of_the_next_month()
    {
        var license = OneYearPlan.RenewedOn("2027-04-01", months: 12, orderReference: "PO-1");

        Assert.Equal(
            new Term(
                Kind: TermKind.Renewal,
                Start: Date("2027-05-01"),
                End: Date("2028-05-01"),
                Months: 12,
                Days: null,
                Source: TermSource.Renewal,
                OrderReference: "PO-1",
                CoveredFrom: Date("2027-04-01")),
            license.Terms[1]);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-03-31")));
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-04-01")));
        Assert.Equal(Date("2028-05-01"), license.ExpiresOn);
    }

    [Fact]
    public void R6_renewal_recorded_after_a_lapse_resumes_coverage_on_the_recording_date_and_starts_on_the_first_of_the_next_month()
    {
        var license = OneYearPlan.RenewedOn("2027-06-17", months: 12, orderReference: "PO-1");

        Assert.Equal(
            new Term(
                Kind: TermKind.Renewal,
                Start: Date("2027-07-01"),
                End: Date("2028-07-01"),
                Months: 12,
                Days: null,
                Source: TermSource.Renewal,
                OrderReference: "PO-1",
                CoveredFrom: Date("2027-06-17")),
            license.Terms[1]);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-06-17")));
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2028-06-30")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2028-07-01")));
    }

    [Fact]
    public void R6_the_gap_between_expiresOn_and_a_late_renewal_stays_lapsed()
    {
        var license = OneYearPlan.RenewedOn("2027-06-17");

        for (var date = Date("2027-04-01"); date < Date("2027-06-17"); date = date.PlusDays(1))
        {
            Assert.True(license.StatusOn(date) == PlanStatus.Lapsed, $"current on {date:uuuu-MM-dd}");
        }
    }

    [Fact]
    public void R6_late_renewal_recorded_on_the_first_of_a_month_starts_on_the_first_of_the_next_month()
    {
        var license = OneYearPlan.RenewedOn("2027-06-01");

        Assert.Equal(Date("2027-06-01"), license.Terms[1].CoveredFrom);
        Assert.Equal(Date("2027-07-01"), license.Terms[1].Start);
    }

    [Fact]
    public void R6_late_renewal_recorded_in_December_starts_in_January_of_the_next_year()
    {
        var license = OneYearPlan.RenewedOn("2027-12-15", months: 6);

        Assert.Equal(Date("2028-01-01"), license.Terms[1].Start);
        Assert.Equal(Date("2028-07-01"), license.ExpiresOn);
    }

    [Fact]
    public void R6_late_renewal_of_a_lapsed_30_day_plan_resumes_coverage_on_the_recording_date()
    {
        var license = ActivatedOn("2026-03-14").RenewedOn("2026-05-20");

        Assert.Equal(Date("2026-05-20"), license.Terms[1].CoveredFrom);
        Assert.Equal(Date("2026-06-01"), license.Terms[1].Start);
        Assert.Equal(Date("2027-06-01"), license.ExpiresOn);
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2026-05-19")));
    }

    [Fact]
    public void R6_renewal_months_default_to_twelve()
    {
        Assert.Equal(12, PlanRules.DefaultRenewalMonths);

        var term = PlanRules.RenewalTerm(Date("2027-04-01"), Date("2027-02-10"), PlanRules.DefaultRenewalMonths, "PO-1");

        Assert.Equal(Date("2028-04-01"), term.End);
        Assert.True(term.IsYearOrLonger);
    }

    [Theory]
    [InlineData(1, "2027-05-01")]
    [InlineData(11, "2028-03-01")]
    [InlineData(12, "2028-04-01")]
    [InlineData(24, "2029-04-01")]
    [InlineData(59, "2032-03-01")]
    [InlineData(60, "2032-04-01")]
    public void R6_renewal_length_is_whole_months_from_1_to_60(int months, string expectedExpiresOn)
    {
        var license = OneYearPlan.RenewedOn("2027-02-10", months);

        Assert.Equal(months, license.Terms[1].Months);
        Assert.Null(license.Terms[1].Days);
        Assert.Equal(Date(expectedExpiresOn), license.ExpiresOn);
        Assert.Equal(months >= 12, license.Terms[1].IsYearOrLonger);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(61)]
    [InlineData(120)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void R6_renewal_length_outside_1_to_60_months_is_refused(int months)
    {
        var fromRules = Assert.Throws<ArgumentOutOfRangeException>(() => PlanRules.RenewalTerm(Date("2027-04-01"), Date("2027-02-10"), months, "PO-1"));
        Assert.Equal("months", fromRules.ParamName);

        var lapsed = Assert.Throws<ArgumentOutOfRangeException>(() => PlanRules.RenewalTerm(Date("2027-04-01"), Date("2027-06-17"), months, "PO-1"));
        Assert.Equal("months", lapsed.ParamName);

        Assert.Throws<ArgumentOutOfRangeException>(
            () => PlanDecisions.Renew(OneYearPlan, new RenewalRequest("PO-1", months, null), Date("2027-02-10"), NoonOn(Date("2027-02-10")), Staff));
    }

    [Fact]
    public void R6_renewal_of_a_30_day_plan_ends_exactly_the_months_bought_after_its_expiresOn()
    {
        // The spec's worked example: 2027-02-01 + 30 days = 2027-03-03; 12 months later is 2028-03-03, not rounded.
        var license = ActivatedOn("2027-01-20").RenewedOn("2027-02-20", months: 12, orderReference: "PO-1");

        Assert.Equal(
            new Term(
                Kind: TermKind.Renewal,
                Start: Date("2027-03-03"),
                End: Date("2028-03-03"),
                Months: 12,
                Days: null,
                Source: TermSource.Renewal,
                OrderReference: "PO-1",
                CoveredFrom: Date("2027-03-03")),
            license.Terms[1]);
        Assert.Equal(Date("2028-03-03"), license.ExpiresOn);
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2028-03-02")));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2028-03-03")));
    }

    [Fact]
    public void R6_one_month_renewal_of_a_30_day_plan_adds_one_whole_month()
    {
        var license = ActivatedOn("2027-01-20").RenewedOn("2027-02-20", months: 1);

        Assert.Equal(Date("2027-03-03"), license.Terms[1].Start);
        Assert.Equal(Date("2027-04-03"), license.ExpiresOn);
    }

    [Fact]
    public void R6_one_month_renewal_of_a_30_day_plan_ending_on_the_31st_ends_on_the_last_day_of_a_short_month()
    {
        // 2026-01-01 + 30 days = 2026-01-31; one month later is 2026-02-28 (there is no 31 February).
        var license = ActivatedOn("2025-12-10").RenewedOn("2026-01-20", months: 1);

        Assert.Equal(Date("2026-01-31"), license.Terms[1].Start);
        Assert.Equal(Date("2026-02-28"), license.ExpiresOn);
    }

    [Fact]
    public void R6_renewal_of_a_30_day_plan_ending_on_the_first_ends_on_the_first()
    {
        var license = ActivatedOn("2026-03-14").RenewedOn("2026-04-20", months: 12);

        Assert.Equal(Date("2026-05-01"), license.Terms[1].Start);
        Assert.Equal(Date("2027-05-01"), license.ExpiresOn);
    }

    [Fact]
    public void R6_the_next_term_quoted_for_a_30_day_plan_adds_whole_months_too()
    {
        var quoted = PlanRules.RenewalTerm(Date("2027-03-03"), Date("2027-02-20"), PlanRules.DefaultRenewalMonths, null);

        Assert.Equal(new Term(TermKind.Renewal, Date("2027-03-03"), Date("2028-03-03"), 12, null, TermSource.Renewal, null, Date("2027-03-03")), quoted);
    }

    [Fact]
    public void R6_renewals_before_expiry_follow_one_another_without_a_gap()
    {
        var license = OneYearPlan
            .RenewedOn("2027-02-10", months: 12, orderReference: "PO-1")
            .RenewedOn("2027-03-01", months: 6, orderReference: "PO-2");

        Assert.Equal(3, license.Terms.Length);
        Assert.Equal(Date("2028-04-01"), license.Terms[2].Start);
        Assert.Equal(Date("2028-10-01"), license.ExpiresOn);
        Assert.Equal<DateInterval>([new DateInterval(Date("2026-03-14"), Date("2028-09-30"))], PlanRules.CoveredSpans(license));
    }

    [Fact]
    public void R6_renewal_with_the_same_order_reference_is_applied_once()
    {
        var once = OneYearPlan.RenewedOn("2027-02-10", months: 12, orderReference: "PO-1");

        var again = PlanDecisions.Renew(once, new RenewalRequest("PO-1", 12, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff);

        Assert.IsType<Decision.NoChange>(again);
        Assert.Single(once.Renewals);
    }

    [Theory]
    [InlineData("po-1")]
    [InlineData("Po-1")]
    [InlineData(" PO-1 ")]
    [InlineData("\tpo-1")]
    public void R6_order_references_are_trimmed_and_compared_ignoring_case(string repeat)
    {
        var once = OneYearPlan.RenewedOn("2027-02-10", months: 12, orderReference: "PO-1");

        Assert.IsType<Decision.NoChange>(
            PlanDecisions.Renew(once, new RenewalRequest(repeat, 12, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));
        var refused = Assert.IsType<Decision.Refuse>(
            PlanDecisions.Renew(once, new RenewalRequest(repeat, 24, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));
        Assert.Contains(SerialNumber, refused.Detail, StringComparison.Ordinal);
        Assert.Single(once.Renewals);
    }

    [Fact]
    public void R6_an_order_reference_stored_in_another_case_is_the_same_order()
    {
        // Renewals recorded before references were compared ignoring case keep the case they were sent in.
        var stored = OneYearPlan.RenewedOn("2027-02-10", months: 12, orderReference: "so-7");

        Assert.IsType<Decision.NoChange>(
            PlanDecisions.Renew(stored, new RenewalRequest("SO-7", 12, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));
    }

    [Fact]
    public void R6_order_references_that_differ_by_more_than_case_are_two_orders()
    {
        var once = OneYearPlan.RenewedOn("2027-02-10", months: 12, orderReference: "PO-1");

        var other = PlanDecisions.Renew(once, new RenewalRequest("PO-11", 12, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff);

        Assert.Equal(2, Changed(other).License.Renewals.Length);
    }

    [Fact]
    public void R6_same_order_reference_with_different_months_is_refused()
    {
        var once = OneYearPlan.RenewedOn("2027-02-10", months: 12, orderReference: "PO-1");

        var refused = Assert.IsType<Decision.Refuse>(
            PlanDecisions.Renew(once, new RenewalRequest("PO-1", 24, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));

        Assert.Contains("PO-1", refused.Detail, StringComparison.Ordinal);
        Assert.Contains(SerialNumber, refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void R6_repeat_of_a_paid_renewal_without_the_payment_instant_is_the_same_renewal()
    {
        var paidAt = Instant.FromUtc(2027, 2, 9, 15, 0);
        var once = Changed(PlanDecisions.Renew(OneYearPlan, new RenewalRequest("PO-1", 12, paidAt), Date("2027-02-10"), NoonOn(Date("2027-02-10")), Staff)).License;

        Assert.IsType<Decision.NoChange>(PlanDecisions.Renew(once, new RenewalRequest("PO-1", 12, null), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));
        Assert.IsType<Decision.NoChange>(PlanDecisions.Renew(once, new RenewalRequest("PO-1", 12, paidAt), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));
        Assert.IsType<Decision.Refuse>(
            PlanDecisions.Renew(once, new RenewalRequest("PO-1", 12, paidAt.Plus(Duration.FromDays(1))), Date("2027-02-11"), NoonOn(Date("2027-02-11")), Staff));
    }

    [Fact]
    public void R6_a_renewal_keeps_its_facts_as_recorded()
    {
        var paidAt = Instant.FromUtc(2027, 2, 9, 15, 0);
        var license = Changed(PlanDecisions.Renew(OneYearPlan, new RenewalRequest("PO-1", 12, paidAt), Date("2027-02-10"), NoonOn(Date("2027-02-10")), Staff)).License;

        Assert.Equal<Renewal>([new Renewal("PO-1", 12, NoonOn(Date("2027-02-10")), Date("2027-02-10"), paidAt)], license.Renewals);
    }

    [Fact]
    public void R6_the_next_term_can_be_quoted_without_an_order_reference()
    {
        var quoted = PlanRules.RenewalTerm(OneYearPlan.ExpiresOn, Date("2027-01-02"), PlanRules.DefaultRenewalMonths, null);

        Assert.Equal(new Term(TermKind.Renewal, Date("2027-04-01"), Date("2028-04-01"), 12, null, TermSource.Renewal, null, Date("2027-04-01")), quoted);
    }
}
