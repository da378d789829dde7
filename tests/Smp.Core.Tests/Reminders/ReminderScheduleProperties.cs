using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Tests.Reminders;

/// <summary>R8 and R9 as properties over generated license histories and reminder configurations.</summary>
[Properties(Arbitrary = new[] { typeof(ReminderArbitraries) }, MaxTest = 200)]
public class ReminderScheduleProperties
{
    private static readonly CommandContext Timer = new("ReminderScan", "corr-property");

    /// <summary>Every day from a little before the activation to a little after the final expiry.</summary>
    private static IEnumerable<LocalDate> Days(LicenseHistory history)
    {
        for (var day = history.ActivatedOn.PlusDays(-3); day <= history.Final.ExpiresOn.PlusDays(10); day = day.PlusDays(1))
        {
            yield return day;
        }
    }

    private static License Recorded(License license, PlannedReminder reminder, LocalDate on) =>
        Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, reminder, ReminderOutcome.Sent, Guid.NewGuid().ToString("D"), LicenseFactory.Noon(on), Timer)).License;

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void Reminders_never_precede_activation(LicenseHistory history, ReminderOffsets offsets)
    {
        foreach (var license in history.States)
        {
            Assert.All(offsets.Schedule.Planned(license), p => Assert.True(p.DueOn >= history.ActivatedOn, $"{p} precedes the activation on {history.ActivatedOn}"));
        }
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void R8_every_planned_reminder_is_due_its_offset_before_expiresOn_and_never_before_activation(LicenseHistory history, ReminderOffsets offsets)
    {
        foreach (var license in history.States)
        {
            var term = license.Terms[^1];
            var planned = offsets.Schedule.Planned(license);
            Assert.NotEmpty(planned);
            Assert.All(planned, p =>
            {
                Assert.Equal(license.ExpiresOn, p.ExpiresOn);
                var activation = license.Terms[0].CoveredFrom;
                Assert.Equal(LocalDate.Max(p.ExpiresOn.PlusDays(-p.Stage.DaysBefore), activation), p.DueOn);
                Assert.True(p.DueOn >= activation && p.DueOn < term.End, $"{p} is before activation or not before the term's end {term}");
            });
            Assert.Equal(offsets.Schedule.Stages[^1], planned[^1].Stage);
        }
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void What_is_due_on_a_day_is_due_by_then_and_about_a_plan_not_yet_expired(LicenseHistory history, ReminderOffsets offsets)
    {
        foreach (var day in Days(history))
        {
            foreach (var license in new[] { history.KnownOn(day), history.Final })
            {
                if (offsets.Schedule.DueOn(license, day) is { } due)
                {
                    Assert.True(due.ExpiresOn > day, $"{due} is due on {day}, on or after its expiry");
                    Assert.True(due.DueOn <= day, $"{due} is returned on {day}, before its due date");
                    Assert.Equal(license.ExpiresOn, due.ExpiresOn);
                    Assert.Empty(offsets.Schedule.Missed(license, day));
                }
            }
        }
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void At_most_one_reminder_is_due_per_license_per_day_and_recording_it_leaves_nothing_due(LicenseHistory history, ReminderOffsets offsets)
    {
        var schedule = offsets.Schedule;
        foreach (var day in Days(history))
        {
            var license = history.KnownOn(day);
            if (schedule.DueOn(license, day) is not { } due)
            {
                continue;
            }

            var afterSending = Recorded(license, due, day);
            Assert.Null(schedule.DueOn(afterSending, day));
            Assert.DoesNotContain(schedule.Pending(afterSending), p => p.DueOn <= day);
            Assert.IsType<Decision.NoChange>(PlanDecisions.RecordReminder(afterSending, due, ReminderOutcome.Sent, Guid.NewGuid().ToString("D"), LicenseFactory.Noon(day), Timer));
        }
    }

    /// <summary>
    /// A daily scan from the activation to ten days after the final expiry, with each renewal recorded on its day:
    /// every reminder goes out at most once, and the last stage (the 30-day one by default) of an expiry goes out
    /// exactly once when some scan ran on or after its due date while the plan still expired then.
    /// </summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay)]
    public void A_daily_scan_sends_each_stage_at_most_once_and_the_last_stage_exactly_once_when_it_could(LicenseHistory history, ReminderOffsets offsets)
    {
        var schedule = offsets.Schedule;
        var lastStage = schedule.Stages[^1];
        var reminders = history.States[0].Reminders;
        var sent = new List<PlannedReminder>();
        var lastStageReachable = new HashSet<LocalDate>();

        for (var day = history.ActivatedOn; day <= history.Final.ExpiresOn.PlusDays(10); day = day.PlusDays(1))
        {
            var license = history.KnownOn(day) with { Reminders = reminders };
            var last = schedule.Planned(license)[^1];
            if (last.DueOn <= day && day < last.ExpiresOn)
            {
                lastStageReachable.Add(last.ExpiresOn);
            }

            if (schedule.DueOn(license, day) is not { } due)
            {
                continue;
            }

            Assert.Equal(license.ExpiresOn, due.ExpiresOn);
            sent.Add(due);
            reminders = Recorded(license, due, day).Reminders;
            Assert.Null(schedule.DueOn(license with { Reminders = reminders }, day));
        }

        Assert.All(sent.GroupBy(r => (r.ExpiresOn, r.Stage)), g => Assert.Single(g));
        Assert.Contains(history.Final.ExpiresOn, lastStageReachable);
        foreach (var expiry in sent.Select(r => r.ExpiresOn).Concat(lastStageReachable).Distinct())
        {
            var lastStageSends = sent.Count(r => r.ExpiresOn == expiry && r.Stage == lastStage);
            Assert.Equal(lastStageReachable.Contains(expiry) ? 1 : 0, lastStageSends);
        }
    }
}
