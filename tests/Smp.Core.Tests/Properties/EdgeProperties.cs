using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Tests.Reminders;

namespace Smp.Core.Tests.Properties;

/// <summary>
/// Properties that measure amounts against the spec (not "later" or "longer", but the exact date) and that are
/// driven to the edges where the rules change branch: renewals on, the day before and the day after
/// <c>expiresOn</c>; scans that resume after downtime; activation instants on America/Denver's daylight-saving
/// days and late in the local evening. Each runs with fixed seeds (<see cref="PropertySeeds"/>), named in the test.
/// </summary>
public class EdgeProperties
{
    private const int Samples = 300;
    private const int Size = 50;
    private static readonly CommandContext Timer = new("ReminderScan", "corr-edge");
    private static readonly DateTimeZone Denver = DateTimeZoneProviders.Tzdb[SpecLimits.BusinessTimeZone];

    /// <summary>
    /// R6: recorded before <c>expiresOn</c>, the new term starts at <c>expiresOn</c>; recorded on or after it, on the
    /// first day of the month after the recording date, with cover from the recording date and the gap uncovered.
    /// Either way it ends exactly the months bought after its start.
    /// </summary>
    [Theory]
    [MemberData(nameof(PropertySeeds.All), MemberType = typeof(PropertySeeds))]
    public void R6_a_renewal_ends_exactly_the_months_bought_after_the_start_the_spec_gives(ulong seed)
    {
        var renewals = Gen.Sample(PlanArbitraries.Scenarios, Samples, new Rnd(seed), Size)
            .SelectMany(s => s.Replay())
            .Where(r => r.Step is RenewalStep && r.Decision is Decision.Change)
            .ToList();

        foreach (var r in renewals)
        {
            var step = (RenewalStep)r.Step;
            var expiry = r.Before.ExpiresOn;
            var lapsed = step.On >= expiry;
            var start = lapsed ? new LocalDate(step.On.Year, step.On.Month, 1).PlusMonths(1) : expiry;
            var because = $"seed {seed}: {step} on a plan expiring {expiry:yyyy-MM-dd}";

            Assert.True(start.PlusMonths(step.Months) == r.After.ExpiresOn, $"{because} must expire {start.PlusMonths(step.Months):yyyy-MM-dd}, not {r.After.ExpiresOn:yyyy-MM-dd}");
            Assert.True(r.After.StatusOn(step.On) == PlanStatus.Current, $"{because} is not current on its recording date");
            if (step.On > expiry)
            {
                Assert.True(r.After.StatusOn(expiry) == PlanStatus.Lapsed, $"{because} covers the gap from {expiry:yyyy-MM-dd}");
            }
        }

        // The edges were reached, not only the easy middle.
        Assert.Contains(renewals, r => r.Step.On == r.Before.ExpiresOn.PlusDays(-1));
        Assert.Contains(renewals, r => r.Step.On == r.Before.ExpiresOn);
        Assert.Contains(renewals, r => r.Step.On == r.Before.ExpiresOn.PlusDays(1));
    }

    /// <summary>
    /// R9 with downtime: scans on days with gaps of up to four months between them. A scan on day d sends only a
    /// reminder due by d whose <c>expiresOn</c> is still after d, each (expiresOn, stage) at most once; when the
    /// 30-day stage is due, the 90-day one of the same <c>expiresOn</c> is never sent after it or instead of it; and
    /// the 30-day reminder of an expiry goes out exactly once when some scan ran between its due date and the expiry.
    /// </summary>
    [Theory]
    [MemberData(nameof(PropertySeeds.All), MemberType = typeof(PropertySeeds))]
    public void R9_scans_that_resume_after_downtime_catch_up_with_only_the_latest_stage(ulong seed)
    {
        var schedule = new ReminderSchedule([SpecLimits.FirstReminderDaysBefore, SpecLimits.LastReminderDaysBefore]);
        var scenarios =
            from history in ReminderArbitraries.Histories().Generator
            from gaps in Gen.Frequency((4, Gen.Choose(1, 3)), (2, Gen.Choose(4, 40)), (1, Gen.Choose(41, 120))).ArrayOf(200)
            select (history, gaps);
        var caughtUp = 0;

        foreach (var (history, gaps) in Gen.Sample(scenarios, Samples, new Rnd(seed), Size))
        {
            var reminders = history.States[0].Reminders;
            var sent = new List<PlannedReminder>();
            var lastStageReachable = new HashSet<LocalDate>();
            var day = history.ActivatedOn;
            foreach (var gap in gaps)
            {
                if (day > history.Final.ExpiresOn.PlusDays(10))
                {
                    break;
                }

                var license = history.KnownOn(day) with { Reminders = reminders };
                var lastDue = license.ExpiresOn.PlusDays(-SpecLimits.LastReminderDaysBefore);
                var because = $"seed {seed}: scan on {day:yyyy-MM-dd} of {history}";
                if (lastDue <= day && day < license.ExpiresOn)
                {
                    lastStageReachable.Add(license.ExpiresOn);
                }

                if (schedule.DueOn(license, day) is { } due)
                {
                    Assert.True(due.DueOn <= day && day < due.ExpiresOn, $"{because} sent {due}");
                    Assert.Equal(license.ExpiresOn, due.ExpiresOn);
                    if (lastDue <= day)
                    {
                        Assert.True(due.Stage.DaysBefore == SpecLimits.LastReminderDaysBefore, $"{because} sent {due} when the 30-day stage was due");
                        caughtUp += sent.Any(s => s.ExpiresOn == due.ExpiresOn) ? 0 : 1;
                    }

                    Assert.DoesNotContain(sent, s => s.ExpiresOn == due.ExpiresOn && s.Stage.DaysBefore <= due.Stage.DaysBefore);
                    sent.Add(due);
                    reminders = Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(
                        license, due, ReminderOutcome.Sent, Guid.NewGuid().ToString("D"), LicenseFactory.Noon(day), Timer)).License.Reminders;
                }

                day = day.PlusDays(gap);
            }

            foreach (var expiry in lastStageReachable)
            {
                Assert.True(
                    sent.Count(s => s.ExpiresOn == expiry && s.Stage.DaysBefore == SpecLimits.LastReminderDaysBefore) == 1,
                    $"seed {seed}: the 30-day reminder of {expiry:yyyy-MM-dd} did not go out exactly once in {history}");
            }
        }

        // Some scan found both stages due for one expiry and caught up with the later one alone.
        Assert.True(caughtUp > 0, $"seed {seed}: no scan resumed after the 90-day reminder was missed");
    }

    /// <summary>
    /// R2 and R4 on the days America/Denver changes its clocks, the days around them and month ends, at times from
    /// just after midnight to 23:59:59 (23:30 local is already the next day in UTC): the plan starts on the first of
    /// the month after the local date, expires 30 days later, and is current from that local date.
    /// </summary>
    [Theory]
    [MemberData(nameof(PropertySeeds.All), MemberType = typeof(PropertySeeds))]
    public void R2_activation_instants_on_daylight_saving_days_and_late_evenings_count_by_the_local_date(ulong seed)
    {
        var days =
            from year in Gen.Choose(2024, 2031)
            from kind in Gen.Choose(0, 2)
            from shift in Gen.Elements(-1, 0, 0, 0, 1)
            from month in Gen.Choose(1, 12)
            select kind switch
            {
                0 => SecondSundayOfMarch(year).PlusDays(shift),
                1 => FirstSundayOfNovember(year).PlusDays(shift),
                _ => new LocalDate(year, month, 1).PlusMonths(1).PlusDays(-1 + shift),
            };
        var times = Gen.Elements(
            new LocalTime(0, 0), new LocalTime(0, 30), new LocalTime(1, 30), new LocalTime(1, 59, 59), new LocalTime(2, 30),
            new LocalTime(3, 0), new LocalTime(12, 0), new LocalTime(23, 0), new LocalTime(23, 30), new LocalTime(23, 59, 59));
        var cases = Gen.Sample(from day in days from time in times select (day, time), Samples, new Rnd(seed), Size);

        foreach (var (day, time) in cases)
        {
            // 02:30 on the spring day does not exist locally (it reads as 03:30); 01:30 on the autumn day happens twice.
            var sentAt = (day + time).InZoneLeniently(Denver).ToInstant();
            var calendar = new BusinessCalendar(new FakeClock(sentAt), Denver);
            var sentOn = calendar.DateOf(sentAt);
            var request = new ActivationRequest(Serial.Parse("SN-EDGE"), null, Given.Acme, Given.AcmeContacts, false, sentAt);
            var license = Given.Changed(PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, sentOn, sentAt, Given.Staff)).License;
            var start = new LocalDate(day.Year, day.Month, 1).PlusMonths(1);
            var because = $"seed {seed}: sent {day:yyyy-MM-dd} {time:HH:mm:ss} Denver ({sentAt} UTC)";

            Assert.True(day == sentOn, $"{because} reads as {sentOn:yyyy-MM-dd}");
            Assert.True(start == license.Terms[0].Start, $"{because} starts {license.Terms[0].Start:yyyy-MM-dd}, not {start:yyyy-MM-dd}");
            Assert.True(start.PlusDays(SpecLimits.TrialDays) == license.ExpiresOn, $"{because} expires {license.ExpiresOn:yyyy-MM-dd}");
            Assert.True(license.StatusOn(day) == PlanStatus.Current, $"{because} is not current on its activation date");
            Assert.True(license.StatusOn(day.PlusDays(-1)) == PlanStatus.Lapsed, $"{because} is current before its activation date");
        }

        Assert.Contains(cases, c => c.day == SecondSundayOfMarch(c.day.Year));
        Assert.Contains(cases, c => c.day == FirstSundayOfNovember(c.day.Year));
        Assert.Contains(cases, c => (c.day + c.time).InZoneLeniently(Denver).ToInstant().InUtc().Date != c.day);
    }

    /// <summary>United States rule since 2007: daylight saving time starts on the second Sunday of March.</summary>
    private static LocalDate SecondSundayOfMarch(int year) =>
        new LocalDate(year, 3, 1).With(DateAdjusters.NextOrSame(IsoDayOfWeek.Sunday)).PlusWeeks(1);

    /// <summary>United States rule since 2007: daylight saving time ends on the first Sunday of November.</summary>
    private static LocalDate FirstSundayOfNovember(int year) =>
        new LocalDate(year, 11, 1).With(DateAdjusters.NextOrSame(IsoDayOfWeek.Sunday));
}
