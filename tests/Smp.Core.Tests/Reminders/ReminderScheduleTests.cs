using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using static Smp.Core.Tests.Reminders.LicenseFactory;

namespace Smp.Core.Tests.Reminders;

public class ReminderScheduleTests
{
    private static readonly ReminderSchedule Schedule = ReminderSchedule.Default;
    private static readonly ReminderStage NinetyDay = new(90);
    private static readonly ReminderStage ThirtyDay = new(30);

    /// <summary>Activated 14 March 2026 with training: the plan runs from 1 April 2026 to 1 April 2027.</summary>
    private static readonly License OneYear = Activated(Date("2026-03-14"), training: true);

    /// <summary>Activated 14 March 2026 without training: the plan runs from 1 April 2026 to 1 May 2026.</summary>
    private static readonly License ThirtyDays = Activated(Date("2026-03-14"), training: false);

    private static PlannedReminder Reminder(ReminderStage stage, string dueOn, string expiresOn) =>
        new(stage, Date(dueOn), Date(expiresOn));

    [Fact]
    public void Stages_are_named_after_their_offset()
    {
        Assert.Equal("90-day", NinetyDay.Name);
        Assert.Equal("30-day", ThirtyDay.ToString());
        Assert.Equal([NinetyDay, ThirtyDay], Schedule.Stages.AsEnumerable());
        Assert.Equal(90, Schedule.MaxDaysBefore);
    }

    [Fact]
    public void R8_a_year_from_1_April_2026_expires_1_April_2027_with_reminders_on_1_January_and_2_March()
    {
        Assert.Equal(Date("2026-04-01"), OneYear.Terms[^1].Start);
        Assert.Equal(Date("2027-04-01"), OneYear.ExpiresOn);
        Assert.Equal(
            [Reminder(NinetyDay, "2027-01-01", "2027-04-01"), Reminder(ThirtyDay, "2027-03-02", "2027-04-01")],
            Schedule.Planned(OneYear).AsEnumerable());
    }

    [Fact]
    public void R8_a_30_day_term_has_only_the_30_day_reminder_due_on_its_start_date()
    {
        Assert.Equal(Date("2026-04-01"), ThirtyDays.Terms[^1].Start);
        Assert.Equal(Date("2026-05-01"), ThirtyDays.ExpiresOn);
        Assert.Equal([Reminder(ThirtyDay, "2026-04-01", "2026-05-01")], Schedule.Planned(ThirtyDays).AsEnumerable());
    }

    [Fact]
    public void R8_a_30_day_term_covered_from_activation_is_not_reminded_before_it_starts()
    {
        Assert.Null(Schedule.DueOn(ThirtyDays, Date("2026-03-14")));
        Assert.Null(Schedule.DueOn(ThirtyDays, Date("2026-03-31")));
        Assert.Equal(Reminder(ThirtyDay, "2026-04-01", "2026-05-01"), Schedule.DueOn(ThirtyDays, Date("2026-04-01")));
    }

    [Fact]
    public void R8_a_one_month_renewal_to_1_March_2027_is_due_exactly_30_days_before_on_30_January_2027()
    {
        // Plan 2026-02-01 to 2027-02-01, renewed by one month before it expires: the new term is 2027-02-01 to 2027-03-01.
        var renewed = Activated(Date("2026-01-14"), training: true).RenewedOn(Date("2027-01-15"), 1);

        Assert.Equal(Date("2027-03-01"), renewed.ExpiresOn);
        Assert.Equal([Reminder(ThirtyDay, "2027-01-30", "2027-03-01")], Schedule.Planned(renewed).AsEnumerable());
        Assert.Equal(Reminder(ThirtyDay, "2027-01-30", "2027-03-01"), Schedule.DueOn(renewed, Date("2027-01-30")));
    }

    [Theory]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(24)]
    [InlineData(60)]
    public void R8_a_renewal_term_of_twelve_months_or_more_plans_the_90_day_reminder(int months)
    {
        var renewed = OneYear.RenewedOn(Date("2027-02-15"), months);

        Assert.Equal([NinetyDay, ThirtyDay], Schedule.Planned(renewed).Select(p => p.Stage));
        Assert.Equal(renewed.ExpiresOn.PlusDays(-90), Schedule.Planned(renewed)[0].DueOn);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(11)]
    public void R8_a_renewal_term_shorter_than_twelve_months_plans_only_the_30_day_reminder(int months)
    {
        var renewed = OneYear.RenewedOn(Date("2027-02-15"), months);

        var planned = Assert.Single(Schedule.Planned(renewed).AsEnumerable());
        Assert.Equal(ThirtyDay, planned.Stage);
        Assert.Equal(renewed.ExpiresOn.PlusDays(-30), planned.DueOn);
    }

    [Fact]
    public void R8_a_6_month_renewal_from_1_April_2027_is_reminded_30_days_before_1_October_2027()
    {
        var renewed = OneYear.RenewedOn(Date("2027-02-15"), 6);

        Assert.Equal([Reminder(ThirtyDay, "2027-09-01", "2027-10-01")], Schedule.Planned(renewed).AsEnumerable());
    }

    [Fact]
    public void R9_the_90_day_reminder_is_due_from_its_due_date_until_the_30_day_one_takes_over()
    {
        var ninety = Reminder(NinetyDay, "2027-01-01", "2027-04-01");
        var thirty = Reminder(ThirtyDay, "2027-03-02", "2027-04-01");

        Assert.Null(Schedule.DueOn(OneYear, Date("2026-12-31")));
        Assert.Equal(ninety, Schedule.DueOn(OneYear, Date("2027-01-01")));
        Assert.Equal(ninety, Schedule.DueOn(OneYear, Date("2027-03-01")));
        Assert.Equal(thirty, Schedule.DueOn(OneYear, Date("2027-03-02")));
        Assert.Equal(thirty, Schedule.DueOn(OneYear.WithReminder(ninety), Date("2027-03-02")));
        Assert.Equal(thirty, Schedule.DueOn(OneYear.WithReminder(ninety), Date("2027-03-31")));
    }

    [Theory]
    [InlineData("2027-03-02")]
    [InlineData("2027-03-15")]
    [InlineData("2027-03-31")]
    public void R9_catch_up_when_both_stages_are_due_and_unsent_sends_only_the_30_day_reminder(string today)
    {
        Assert.Equal(Reminder(ThirtyDay, "2027-03-02", "2027-04-01"), Schedule.DueOn(OneYear, Date(today)));
    }

    [Theory]
    [InlineData("2027-04-01")]
    [InlineData("2027-04-02")]
    [InlineData("2030-01-01")]
    public void R9_nothing_is_due_on_or_after_expiresOn_and_the_unsent_reminders_are_then_missed(string today)
    {
        Assert.Null(Schedule.DueOn(OneYear, Date(today)));
        Assert.Equal(Schedule.Planned(OneYear), Schedule.Missed(OneYear, Date(today)).AsEnumerable());
    }

    [Fact]
    public void R9_nothing_is_missed_while_the_plan_has_not_expired()
    {
        Assert.Empty(Schedule.Missed(OneYear, Date("2027-03-31")).AsEnumerable());
        Assert.Empty(Schedule.Missed(OneYear, Date("2027-01-15")).AsEnumerable());
    }

    [Fact]
    public void R9_once_the_30_day_reminder_is_recorded_the_90_day_one_is_superseded()
    {
        var sent = OneYear.WithReminder(Reminder(ThirtyDay, "2027-03-02", "2027-04-01"));

        Assert.Empty(Schedule.Pending(sent).AsEnumerable());
        Assert.Null(Schedule.DueOn(sent, Date("2027-03-02")));
        Assert.Null(Schedule.DueOn(sent, Date("2027-03-20")));
        Assert.Empty(Schedule.Missed(sent, Date("2027-04-01")).AsEnumerable());
    }

    [Fact]
    public void R9_once_the_90_day_reminder_is_recorded_only_the_30_day_one_is_pending()
    {
        var sent = OneYear.WithReminder(Reminder(NinetyDay, "2027-01-01", "2027-04-01"));

        Assert.Equal([Reminder(ThirtyDay, "2027-03-02", "2027-04-01")], Schedule.Pending(sent).AsEnumerable());
        Assert.Null(Schedule.DueOn(sent, Date("2027-01-01")));
        Assert.Null(Schedule.DueOn(sent, Date("2027-03-01")));
        Assert.Equal([Reminder(ThirtyDay, "2027-03-02", "2027-04-01")], Schedule.Missed(sent, Date("2027-04-01")).AsEnumerable());
    }

    [Fact]
    public void R9_a_missed_reminder_is_as_final_as_a_sent_one()
    {
        var missed = OneYear.WithReminder(Reminder(ThirtyDay, "2027-03-02", "2027-04-01"), ReminderOutcome.Missed);

        Assert.Empty(Schedule.Pending(missed));
        Assert.Empty(Schedule.Missed(missed, Date("2027-04-02")));
    }

    [Fact]
    public void R9_a_renewal_recorded_before_the_reminder_moves_expiresOn_and_only_the_new_expiry_is_reminded()
    {
        var renewed = OneYear.RenewedOn(Date("2026-12-15"));

        Assert.Equal(Date("2028-04-01"), renewed.ExpiresOn);
        Assert.Equal(
            [Reminder(NinetyDay, "2028-01-02", "2028-04-01"), Reminder(ThirtyDay, "2028-03-02", "2028-04-01")],
            Schedule.Planned(renewed).AsEnumerable());
        Assert.Null(Schedule.DueOn(renewed, Date("2027-01-01")));
        Assert.Null(Schedule.DueOn(renewed, Date("2027-03-02")));
        Assert.Null(Schedule.DueOn(renewed, Date("2027-03-31")));
        Assert.Empty(Schedule.Missed(renewed, Date("2027-04-01")));
        Assert.Equal(Reminder(NinetyDay, "2028-01-02", "2028-04-01"), Schedule.DueOn(renewed, Date("2028-01-02")));
    }

    [Fact]
    public void R9_a_renewal_between_the_two_reminders_drops_the_old_30_day_reminder_and_arms_the_new_ones()
    {
        var renewed = OneYear
            .WithReminder(Reminder(NinetyDay, "2027-01-01", "2027-04-01"))
            .RenewedOn(Date("2027-02-10"));

        Assert.Equal(
            [Reminder(NinetyDay, "2028-01-02", "2028-04-01"), Reminder(ThirtyDay, "2028-03-02", "2028-04-01")],
            Schedule.Pending(renewed).AsEnumerable());
        Assert.Null(Schedule.DueOn(renewed, Date("2027-03-02")));
    }

    [Fact]
    public void R9_a_renewal_after_a_lapse_plans_reminders_for_the_new_term_only()
    {
        var lapsed = OneYear.WithReminder(Reminder(ThirtyDay, "2027-03-02", "2027-04-01"));

        var renewed = lapsed.RenewedOn(Date("2027-06-15"));

        Assert.Equal(Date("2028-07-01"), renewed.ExpiresOn);
        Assert.Equal(
            [Reminder(NinetyDay, "2028-04-02", "2028-07-01"), Reminder(ThirtyDay, "2028-06-01", "2028-07-01")],
            Schedule.Pending(renewed).AsEnumerable());
        Assert.Null(Schedule.DueOn(renewed, Date("2027-06-15")));
    }

    [Fact]
    public void R5_a_late_training_purchase_rearms_reminders_for_the_new_expiresOn()
    {
        var sent = ThirtyDays.WithReminder(Reminder(ThirtyDay, "2026-04-01", "2026-05-01"));
        Assert.Empty(Schedule.Pending(sent).AsEnumerable());

        var trained = sent.TrainedOn(Date("2026-04-20"));

        Assert.Equal(Date("2027-04-01"), trained.ExpiresOn);
        Assert.Equal(
            [Reminder(NinetyDay, "2027-01-01", "2027-04-01"), Reminder(ThirtyDay, "2027-03-02", "2027-04-01")],
            Schedule.Pending(trained).AsEnumerable());
        Assert.Null(Schedule.DueOn(trained, Date("2026-04-20")));
        Assert.Equal(Reminder(NinetyDay, "2027-01-01", "2027-04-01"), Schedule.DueOn(trained, Date("2027-01-01")));
    }

    [Fact]
    public void R5_training_bought_after_the_30_day_term_lapsed_rearms_reminders_too()
    {
        var missed = ThirtyDays.WithReminder(Reminder(ThirtyDay, "2026-04-01", "2026-05-01"), ReminderOutcome.Missed);

        var trained = missed.TrainedOn(Date("2026-08-10"));

        Assert.Equal(Reminder(NinetyDay, "2027-01-01", "2027-04-01"), Schedule.DueOn(trained, Date("2027-01-01")));
    }

    [Fact]
    public void Custom_offsets_are_sorted_and_deduplicated()
    {
        var schedule = new ReminderSchedule([7, 60, 14, 14]);

        Assert.Equal([new ReminderStage(60), new ReminderStage(14), new ReminderStage(7)], schedule.Stages.AsEnumerable());
        Assert.Equal(60, schedule.MaxDaysBefore);
    }

    [Fact]
    public void Custom_offsets_plan_every_stage_for_a_year_and_only_the_last_for_a_30_day_term()
    {
        var schedule = new ReminderSchedule([60, 14, 7]);

        Assert.Equal(
            [
                Reminder(new ReminderStage(60), "2027-01-31", "2027-04-01"),
                Reminder(new ReminderStage(14), "2027-03-18", "2027-04-01"),
                Reminder(new ReminderStage(7), "2027-03-25", "2027-04-01"),
            ],
            schedule.Planned(OneYear).AsEnumerable());
        Assert.Equal([Reminder(new ReminderStage(7), "2026-04-24", "2026-05-01")], schedule.Planned(ThirtyDays).AsEnumerable());
    }

    [Fact]
    public void Custom_offsets_catch_up_with_the_latest_due_stage_which_supersedes_the_earlier_ones()
    {
        var schedule = new ReminderSchedule([60, 14, 7]);
        var fourteen = Reminder(new ReminderStage(14), "2027-03-18", "2027-04-01");

        Assert.Equal(fourteen, schedule.DueOn(OneYear, Date("2027-03-20")));

        var sent = OneYear.WithReminder(fourteen);
        Assert.Equal([Reminder(new ReminderStage(7), "2027-03-25", "2027-04-01")], schedule.Pending(sent).AsEnumerable());
        Assert.Null(schedule.DueOn(sent, Date("2027-03-24")));
    }

    [Fact]
    public void An_offset_longer_than_a_short_term_is_due_on_the_first_covered_day_never_before_activation()
    {
        var schedule = new ReminderSchedule([60]);

        Assert.Equal([Reminder(new ReminderStage(60), "2026-03-14", "2026-05-01")], schedule.Planned(ThirtyDays).AsEnumerable());
        Assert.Null(schedule.DueOn(ThirtyDays, Date("2026-03-13")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(366)]
    public void Offsets_from_1_to_366_days_are_accepted(int offset)
    {
        Assert.Equal([new ReminderStage(offset)], new ReminderSchedule([offset]).Stages.AsEnumerable());
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { -30 })]
    [InlineData(new[] { 367 })]
    [InlineData(new[] { 90, 30, 0 })]
    [InlineData(new[] { 400, 30 })]
    public void Invalid_offsets_are_refused(int[] offsets)
    {
        Assert.Throws<ArgumentException>(() => new ReminderSchedule(offsets));
    }
}
