using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>
/// R3: the initial term is one year with on-site training, otherwise 30 days; <c>expiresOn</c> is the
/// first day no longer covered.
/// </summary>
public class InitialTermTests
{
    [Fact]
    public void R3_without_training_the_initial_term_is_30_days_from_the_start()
    {
        var license = ActivatedOn("2026-03-14");

        var term = Assert.Single(license.Terms);
        Assert.Equal(
            new Term(
                Kind: TermKind.Initial,
                Start: Date("2026-04-01"),
                End: Date("2026-05-01"),
                Months: null,
                Days: 30,
                Source: TermSource.Activation,
                OrderReference: null,
                CoveredFrom: Date("2026-03-14")),
            term);
        Assert.Equal(Date("2026-05-01"), license.ExpiresOn);
        Assert.False(license.OnSiteTraining);
    }

    [Fact]
    public void R3_thirty_days_from_the_first_of_February_ends_on_the_third_of_March()
    {
        var license = ActivatedOn("2027-01-20");

        Assert.Equal(Date("2027-02-01"), license.Terms[0].Start);
        Assert.Equal(Date("2027-03-03"), license.ExpiresOn);
    }

    [Fact]
    public void R3_thirty_days_from_the_first_of_February_in_a_leap_year_ends_on_the_second_of_March()
    {
        var license = ActivatedOn("2028-01-15");

        Assert.Equal(Date("2028-02-01"), license.Terms[0].Start);
        Assert.Equal(Date("2028-03-02"), license.ExpiresOn);
    }

    [Theory]
    [InlineData("2025-12-10", "2026-01-31")] // January has 31 days: 30 days end on the 31st
    [InlineData("2026-03-31", "2026-05-01")] // April has 30 days: 30 days end on the first of May
    [InlineData("2026-04-02", "2026-05-31")]
    [InlineData("2026-08-31", "2026-10-01")] // September has 30 days
    [InlineData("2026-12-01", "2027-01-31")] // sent in December: the term is in the next year
    public void R3_thirty_days_are_counted_in_days_not_months(string sentOn, string expectedExpiresOn)
    {
        var license = ActivatedOn(sentOn);

        Assert.Equal(Date(expectedExpiresOn), license.ExpiresOn);
        Assert.Equal(30, license.Terms[0].Days);
        Assert.Equal(license.Terms[0].Start.PlusDays(SpecLimits.TrialDays), license.ExpiresOn);
    }

    [Fact]
    public void R3_with_training_the_initial_term_is_one_year_from_the_start()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true);

        var term = Assert.Single(license.Terms);
        Assert.Equal(
            new Term(
                Kind: TermKind.Initial,
                Start: Date("2026-04-01"),
                End: Date("2027-04-01"),
                Months: 12,
                Days: null,
                Source: TermSource.Activation,
                OrderReference: null,
                CoveredFrom: Date("2026-03-14")),
            term);
        Assert.Equal(Date("2027-04-01"), license.ExpiresOn);
        Assert.True(license.OnSiteTraining);
        Assert.True(term.IsYearOrLonger);
    }

    [Fact]
    public void R3_one_year_from_a_leap_year_start_ends_on_the_same_day_next_year()
    {
        var license = ActivatedOn("2028-01-15", onSiteTraining: true);

        Assert.Equal(Date("2028-02-01"), license.Terms[0].Start);
        Assert.Equal(Date("2029-02-01"), license.ExpiresOn);
    }

    [Fact]
    public void R3_one_year_from_a_December_activation_ends_on_the_first_of_January_after_next()
    {
        var license = ActivatedOn("2026-12-31", onSiteTraining: true);

        Assert.Equal(Date("2027-01-01"), license.Terms[0].Start);
        Assert.Equal(Date("2028-01-01"), license.ExpiresOn);
    }

    [Fact]
    public void R3_a_30_day_term_is_shorter_than_a_year_for_the_reminder_rules()
    {
        Assert.False(ActivatedOn("2026-03-14").Terms[0].IsYearOrLonger);
    }
}
