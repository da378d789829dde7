using NodaTime;
using NodaTime.Testing;
using NodaTime.Text;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>
/// R2: the plan starts on the first day of the month after the local (business-zone) date on which
/// the activation email was sent; always the next month.
/// </summary>
public class StartDateTests
{
    [Fact]
    public void R2_sent_mid_month_starts_on_the_first_of_the_next_month()
    {
        Assert.Equal(Date("2026-04-01"), PlanRules.StartFor(Date("2026-03-14")));
        Assert.Equal(Date("2026-04-01"), ActivatedOn("2026-03-14").Terms[0].Start);
    }

    [Fact]
    public void R2_sent_on_the_first_still_starts_on_the_first_of_the_next_month()
    {
        Assert.Equal(Date("2026-04-01"), PlanRules.StartFor(Date("2026-03-01")));
        Assert.Equal(Date("2026-04-01"), ActivatedOn("2026-03-01").Terms[0].Start);
    }

    [Fact]
    public void R2_sent_on_the_last_day_of_a_month_starts_the_next_day()
    {
        Assert.Equal(Date("2026-04-01"), PlanRules.StartFor(Date("2026-03-31")));
    }

    [Theory]
    [InlineData("2026-12-01")]
    [InlineData("2026-12-14")]
    [InlineData("2026-12-31")]
    public void R2_sent_in_December_starts_in_January_of_the_next_year(string sentOn)
    {
        Assert.Equal(Date("2027-01-01"), PlanRules.StartFor(Date(sentOn)));
        Assert.Equal(Date("2027-01-01"), ActivatedOn(sentOn).Terms[0].Start);
    }

    [Theory]
    [InlineData("2026-01-31", "2026-02-01")]
    [InlineData("2026-02-28", "2026-03-01")]
    [InlineData("2028-02-28", "2028-03-01")]
    [InlineData("2028-02-29", "2028-03-01")]
    [InlineData("2026-06-30", "2026-07-01")]
    [InlineData("2027-11-15", "2027-12-01")]
    public void R2_every_month_rounds_forward_to_the_first_of_the_next_month(string sentOn, string expectedStart)
    {
        Assert.Equal(Date(expectedStart), PlanRules.StartFor(Date(sentOn)));
    }

    [Fact]
    public void R2_the_business_time_zone_decides_the_activation_date_not_UTC()
    {
        var sentAt = OffsetDateTimePattern.ExtendedIso.Parse("2026-03-31T23:30:00-06:00").GetValueOrThrow().ToInstant();
        var calendar = new BusinessCalendar(new FakeClock(sentAt), DateTimeZoneProviders.Tzdb["America/Denver"]);

        var businessDate = calendar.DateOf(sentAt);
        var utcDate = sentAt.InUtc().Date;

        Assert.Equal(Date("2026-03-31"), businessDate);
        Assert.Equal(Date("2026-03-31"), calendar.Today);
        Assert.Equal(Date("2026-04-01"), PlanRules.StartFor(businessDate));

        // Computed in UTC, the same instant is already April 1st and the plan would start a month late.
        Assert.Equal(Date("2026-04-01"), utcDate);
        Assert.Equal(Date("2026-05-01"), PlanRules.StartFor(utcDate));
    }

    [Fact]
    public void R2_an_instant_just_after_local_midnight_belongs_to_the_new_local_date()
    {
        var sentAt = OffsetDateTimePattern.ExtendedIso.Parse("2026-04-01T00:00:00-06:00").GetValueOrThrow().ToInstant();
        var calendar = new BusinessCalendar(new FakeClock(sentAt), DateTimeZoneProviders.Tzdb["America/Denver"]);

        Assert.Equal(Date("2026-04-01"), calendar.DateOf(sentAt));
        Assert.Equal(Date("2026-05-01"), PlanRules.StartFor(calendar.DateOf(sentAt)));
    }

    [Fact]
    public void R2_the_business_calendar_follows_daylight_saving_time_in_the_zone()
    {
        // 2026-01-01T06:30Z is 23:30 on December 31st in Denver (MST, UTC-7).
        var winterInstant = Instant.FromUtc(2026, 1, 1, 6, 30);
        var calendar = new BusinessCalendar(new FakeClock(winterInstant), DateTimeZoneProviders.Tzdb["America/Denver"]);

        Assert.Equal(Date("2025-12-31"), calendar.Today);
        Assert.Equal(Date("2026-01-01"), PlanRules.StartFor(calendar.Today));
    }

    [Fact]
    public void R2_the_business_calendar_reads_the_injected_clock()
    {
        var clock = new FakeClock(Instant.FromUtc(2026, 3, 14, 18, 0));
        var calendar = new BusinessCalendar(clock, DateTimeZoneProviders.Tzdb["America/Denver"]);
        Assert.Equal(Date("2026-03-14"), calendar.Today);

        clock.Advance(Duration.FromHours(12));

        Assert.Equal(Instant.FromUtc(2026, 3, 15, 6, 0), calendar.Now);
        Assert.Equal(Date("2026-03-15"), calendar.Today);
    }
}
