using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using static Smp.Core.Tests.Reminders.LicenseFactory;

namespace Smp.Core.Tests.Reminders;

public class RecordReminderTests
{
    private const string MailId = "6f1c9a52-3b0e-4c1f-9d8a-2e4b5c6d7e8f";

    private static readonly Instant Now = Instant.FromUtc(2027, 1, 1, 13, 5);
    private static readonly CommandContext Timer = new("ReminderScan", "corr-42");
    private static readonly PlannedReminder NinetyDay = new(new ReminderStage(90), Date("2027-01-01"), Date("2027-04-01"));

    private readonly License license = Activated(Date("2026-03-14"), training: true);

    [Fact]
    public void R9_a_sent_reminder_is_recorded_with_its_mail()
    {
        var change = Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, NinetyDay, ReminderOutcome.Sent, MailId, Now, Timer));

        var record = Assert.Single(change.License.Reminders);
        Assert.Equal(new ReminderRecord(NinetyDay.Stage, Date("2027-04-01"), ReminderOutcome.Sent, Now, MailId, NinetyDay.DueOn), record);

        // Nothing else about the license changes.
        Assert.Same(license.Activation, change.License.Activation);
        Assert.Equal(license.Contacts.AsEnumerable(), change.License.Contacts);
        Assert.Equal(license.Renewals.AsEnumerable(), change.License.Renewals);
        Assert.Equal(license.TrainingRecordedOn, change.License.TrainingRecordedOn);
        Assert.Equal(license.Terms.AsEnumerable(), change.License.Terms);
    }

    [Fact]
    public void R15_recording_a_sent_reminder_is_audited_as_reminderSent_with_stage_dates_and_mail_id()
    {
        var change = Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, NinetyDay, ReminderOutcome.Sent, MailId, Now, Timer));

        Assert.Equal(LicenseEventTypes.ReminderSent, change.Event.Type);
        Assert.Equal("reminderSent", change.Event.Type);
        Assert.Equal(Now, change.Event.At);
        Assert.Equal("ReminderScan", change.Event.Actor);
        Assert.Equal("corr-42", change.Event.CorrelationId);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["dueOn"] = "2027-01-01",
                ["expiresOn"] = "2027-04-01",
                ["mailId"] = MailId,
                ["stage"] = "90-day",
            }.ToImmutableSortedDictionary(StringComparer.Ordinal),
            change.Event.Data);
    }

    [Fact]
    public void R15_a_missed_reminder_is_audited_as_reminderMissed_without_a_mail_id()
    {
        var change = Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, NinetyDay, ReminderOutcome.Missed, null, Now, Timer));

        Assert.Equal(LicenseEventTypes.ReminderMissed, change.Event.Type);
        Assert.Equal(["dueOn", "expiresOn", "stage"], change.Event.Data.Keys);
        Assert.Equal(ReminderOutcome.Missed, Assert.Single(change.License.Reminders).Outcome);
    }

    [Fact]
    public void R9_recording_the_same_reminder_again_changes_nothing_whatever_the_mail_or_outcome()
    {
        var recorded = Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, NinetyDay, ReminderOutcome.Sent, MailId, Now, Timer)).License;

        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordReminder(recorded, NinetyDay, ReminderOutcome.Sent, MailId, Now, Timer));
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordReminder(recorded, NinetyDay, ReminderOutcome.Sent, Guid.NewGuid().ToString("D"), Now + Duration.FromDays(1), Timer));
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordReminder(recorded, NinetyDay, ReminderOutcome.Missed, null, Now, Timer));
    }

    [Fact]
    public void R9_another_stage_or_another_expiry_is_a_different_reminder()
    {
        var recorded = Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, NinetyDay, ReminderOutcome.Sent, MailId, Now, Timer)).License;

        var thirty = NinetyDay with { Stage = new ReminderStage(30), DueOn = Date("2027-03-02") };
        var nextYear = NinetyDay with { DueOn = Date("2028-01-02"), ExpiresOn = Date("2028-04-01") };
        Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(recorded, thirty, ReminderOutcome.Sent, MailId, Now, Timer));
        Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(recorded, nextYear, ReminderOutcome.Sent, MailId, Now, Timer));
    }
}
