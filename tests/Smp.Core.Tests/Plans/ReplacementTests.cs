using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Tests.Reminders;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Plans;

/// <summary>SPEC section 10: replacing a dongle moves its plan to the new serial; the old license is replaced.</summary>
public class ReplacementTests
{
    private static readonly Serial Old = Serial.Parse(SerialNumber);
    private static readonly Serial New = Serial.Parse("VT-20077");
    private static readonly CommandContext Support = new("key:support", "corr-replace-1");
    private static readonly LocalDate ReplacedOn = Date("2026-09-15");

    /// <summary>Begin, create and complete, as the service does them: the old license replaced and the new one.</summary>
    private static (License Old, License New, LicenseEvent Started, LicenseEvent Created, LicenseEvent Completed) Replace(License license, string? reason = "broken")
    {
        var begun = Changed(PlanDecisions.BeginReplacement(license, New, reason, NoonOn(ReplacedOn), Support));
        var created = Changed(PlanDecisions.CreateReplacement(begun.License, null));
        var completed = Changed(PlanDecisions.CompleteReplacement(begun.License, NoonOn(ReplacedOn)));
        return (completed.License, created.License, begun.Event, created.Event, completed.Event);
    }

    [Fact]
    public void Section10_the_new_license_carries_the_plan_and_the_old_one_is_replaced()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: false).WithTrainingRecordedOn("2026-04-20").RenewedOn("2027-03-01", months: 6);

        var (old, replacement, _, _, _) = Replace(license);

        Assert.Equal(license.Product, replacement.Product);
        Assert.Equal(license.Customer, replacement.Customer);
        Assert.Equal(license.Contacts, replacement.Contacts);
        Assert.True(replacement.OnSiteTraining);
        Assert.Equal<Term>(license.Terms, replacement.Terms);
        Assert.Equal(license.ExpiresOn, replacement.ExpiresOn);
        Assert.Equal(Old, replacement.ReplacementOf);
        Assert.Null(replacement.Replacement);
        Assert.Equal(PlanStatus.Current, replacement.StatusOn(ReplacedOn));

        Assert.True(old.IsReplaced);
        Assert.Equal(New, old.Replacement!.NewSerial);
        Assert.Equal(PlanStatus.Replaced, old.StatusOn(ReplacedOn));
        Assert.Equal(PlanStatus.Replaced, old.StatusOn(Date("2026-03-14")));
    }

    [Fact]
    public void Section10_events_replacementOf_first_on_the_new_and_replacedBy_on_the_old()
    {
        var (_, _, started, created, completed) = Replace(ActivatedOn("2026-03-14", onSiteTraining: true), reason: "lost in transit");

        Assert.Equal(LicenseEventTypes.ReplacementStarted, started.Type);
        Assert.Equal(New.Value, started.Data[LicenseEventData.NewSerial]);
        Assert.Equal(LicenseEventTypes.ReplacementOf, created.Type);
        Assert.Equal(Old.Value, created.Data[LicenseEventData.OldSerial]);
        Assert.Equal("lost in transit", created.Data[LicenseEventData.Reason]);
        Assert.Equal(LicenseEventTypes.ReplacedBy, completed.Type);
        Assert.Equal(New.Value, completed.Data[LicenseEventData.NewSerial]);
        Assert.All([started, created, completed], e => Assert.Equal((Support.Actor, Support.CorrelationId), (e.Actor, e.CorrelationId)));
    }

    [Fact]
    public void Section10_the_replaced_license_gets_no_reminders_and_no_update_password()
    {
        var (old, _, _, _, _) = Replace(ActivatedOn("2026-03-14", onSiteTraining: true));
        var release = Date("2026-09-01");

        Assert.Empty(ReminderSchedule.Default.Planned(old));
        Assert.Empty(ReminderSchedule.Default.Pending(old));
        Assert.Null(ReminderSchedule.Default.DueOn(old, Date("2027-03-02")));
        Assert.False(Entitlement.IsEntitled(old, release, ReplacedOn, EntitlementPolicy.CurrentPlan));
        Assert.False(Entitlement.IsEntitled(old, release, ReplacedOn, EntitlementPolicy.ReleasedDuringCover));
    }

    [Fact]
    public void Section10_R9_reminders_already_sent_for_that_expiresOn_count_as_sent_on_the_new_license()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true); // expires 2027-04-01; 90-day reminder due 2027-01-01.
        var ninetyDay = ReminderSchedule.Default.DueOn(license, Date("2027-01-01"))!;
        license = Changed(PlanDecisions.RecordReminder(license, ninetyDay, ReminderOutcome.Sent, "mail-90", NoonOn(Date("2027-01-01")), Support)).License;

        var (_, replacement, _, _, _) = Replace(license);

        var pending = Assert.Single(ReminderSchedule.Default.Pending(replacement));
        Assert.Equal(30, pending.Stage.DaysBefore);
        Assert.Null(ReminderSchedule.Default.DueOn(replacement, Date("2027-01-02")));
    }

    [Fact]
    public void Section10_R9_a_reminder_queued_for_the_old_serial_and_not_recorded_on_it_counts_as_sent_on_the_new_license_once()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true); // expires 2027-04-01; 90-day reminder due 2027-01-01.
        var begun = Changed(PlanDecisions.BeginReplacement(license, New, null, NoonOn(ReplacedOn), Support)).License;
        var queued = new ReminderRecord(new ReminderStage(90), license.ExpiresOn, ReminderOutcome.Sent, NoonOn(ReplacedOn), "mail-90", Date("2027-01-01"));

        var replacement = Changed(PlanDecisions.CreateReplacement(begun, null, [queued, queued with { MailId = "mail-other" }])).License;

        var record = Assert.Single(replacement.Reminders);
        Assert.Equal(("mail-90", ReminderOutcome.Sent), (record.MailId, record.Outcome));
        Assert.Equal(30, Assert.Single(ReminderSchedule.Default.Pending(replacement)).Stage.DaysBefore);
    }

    [Fact]
    public void Section10_R13_a_dongle_being_replaced_gets_no_update_password_from_the_intent_on()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true);
        var begun = Changed(PlanDecisions.BeginReplacement(license, New, null, NoonOn(ReplacedOn), Support)).License;

        Assert.True(Entitlement.IsEntitled(license, Date("2026-09-01"), ReplacedOn, EntitlementPolicy.CurrentPlan));
        Assert.False(Entitlement.IsEntitled(begun, Date("2026-09-01"), ReplacedOn, EntitlementPolicy.CurrentPlan));
        Assert.False(Entitlement.IsEntitled(begun, Date("2026-09-01"), ReplacedOn, EntitlementPolicy.ReleasedDuringCover));
    }

    [Fact]
    public void Section10_every_change_to_the_replaced_license_is_refused_naming_the_new_serial()
    {
        var (old, _, _, _, _) = Replace(ActivatedOn("2026-03-14"));

        var refused = Assert.IsType<Decision.Refuse>(PlanDecisions.RefuseIfReplaced(old));
        Assert.Contains(New.Value, refused.Detail, StringComparison.Ordinal);
        Assert.Null(PlanDecisions.RefuseIfReplaced(ActivatedOn("2026-03-14")));
    }

    [Fact]
    public void Section10_the_same_replacement_again_changes_nothing_and_another_serial_is_refused()
    {
        var (old, _, _, _, _) = Replace(ActivatedOn("2026-03-14"));

        Assert.IsType<Decision.NoChange>(PlanDecisions.BeginReplacement(old, New, "broken", NoonOn(ReplacedOn), Support));
        var refused = Assert.IsType<Decision.Refuse>(PlanDecisions.BeginReplacement(old, Serial.Parse("VT-30000"), null, NoonOn(ReplacedOn), Support));
        Assert.Contains(New.Value, refused.Detail, StringComparison.Ordinal);
        Assert.IsType<Decision.NoChange>(PlanDecisions.CompleteReplacement(old, NoonOn(ReplacedOn)));
        Assert.Throws<ArgumentException>(() => PlanDecisions.BeginReplacement(ActivatedOn("2026-03-14"), Old, null, NoonOn(ReplacedOn), Support));
    }

    [Fact]
    public void Section10_a_new_serial_that_already_exists_refuses_the_creation_and_the_intent_can_be_undone()
    {
        var begun = Changed(PlanDecisions.BeginReplacement(ActivatedOn("2026-03-14", onSiteTraining: true), New, null, NoonOn(ReplacedOn), Support)).License;
        var other = ActivatedOn("2026-05-02") with { Serial = New };

        Assert.IsType<Decision.Refuse>(PlanDecisions.CreateReplacement(begun, other));
        var created = Changed(PlanDecisions.CreateReplacement(begun, null)).License;
        Assert.IsType<Decision.NoChange>(PlanDecisions.CreateReplacement(begun, created));

        var undone = Changed(PlanDecisions.AbandonReplacement(begun, NoonOn(ReplacedOn)));
        Assert.Null(undone.License.Replacement);
        Assert.Equal(LicenseEventTypes.ReplacementAbandoned, undone.Event.Type);
        Assert.Equal(PlanStatus.Current, undone.License.StatusOn(ReplacedOn));
    }

    [Fact]
    public async Task Section10_the_service_replaces_once_and_repeats_return_the_new_license()
    {
        var (store, service) = ServiceWith(ActivatedOn("2026-03-14", onSiteTraining: true));

        var first = await service.ReplaceAsync(Old, New, "broken", Support, CancellationToken.None);
        var again = await service.ReplaceAsync(Old, New, "broken", Support, CancellationToken.None);
        var other = await service.ReplaceAsync(Old, Serial.Parse("VT-30000"), null, Support, CancellationToken.None);

        Assert.Equal(CommandOutcome.Created, first.Outcome);
        Assert.Equal(New, first.License!.License.Serial);
        Assert.Equal(CommandOutcome.Unchanged, again.Outcome);
        Assert.Equal(first.License, again.License);
        Assert.Equal(CommandOutcome.Conflict, other.Outcome);
        Assert.Contains(New.Value, other.Detail, StringComparison.Ordinal);
        Assert.True((await store.GetAsync(Old, CancellationToken.None))!.License.IsReplaced);
        Assert.Null(await store.GetAsync(Serial.Parse("VT-30000"), CancellationToken.None));
    }

    [Fact]
    public async Task Section10_the_service_refuses_a_change_to_the_replaced_license_with_a_conflict_naming_the_new_serial()
    {
        var (_, service) = ServiceWith(ActivatedOn("2026-03-14"));
        await service.ReplaceAsync(Old, New, null, Support, CancellationToken.None);

        var training = await service.RecordTrainingAsync(Old, Support, CancellationToken.None);
        var renewal = await service.RenewAsync(Old, new RenewalRequest("PO-9", 12, null), Support, CancellationToken.None);
        var contacts = await service.ReplaceContactsAsync(Old, [EmailAddress.Parse("x@acme.example")], Support, CancellationToken.None);

        Assert.All([training, renewal, contacts], r =>
        {
            Assert.Equal(CommandOutcome.Conflict, r.Outcome);
            Assert.Contains(New.Value, r.Detail, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Section10_the_service_refuses_a_replacement_onto_a_serial_that_exists()
    {
        var (store, service) = ServiceWith(ActivatedOn("2026-03-14"));
        await store.TryAddAsync(ActivatedOn("2026-05-02") with { Serial = New }, new LicenseEvent("activated", NoonOn(ReplacedOn), "x", "y", System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty), CancellationToken.None);

        var result = await service.ReplaceAsync(Old, New, null, Support, CancellationToken.None);

        Assert.Equal(CommandOutcome.Conflict, result.Outcome);
        Assert.Null((await store.GetAsync(Old, CancellationToken.None))!.License.Replacement);
    }

    [Fact]
    public async Task Section10_a_replacement_left_begun_by_a_crash_is_finished_by_the_next_reader()
    {
        var (store, service) = ServiceWith(ActivatedOn("2026-03-14"));
        var stored = (await store.GetAsync(Old, CancellationToken.None))!;
        var begun = Changed(PlanDecisions.BeginReplacement(stored.License, New, null, NoonOn(ReplacedOn), Support));
        Assert.True(await store.TryUpdateAsync(stored, begun.License, begun.Event, CancellationToken.None));

        var read = await service.GetAsync(Old, CancellationToken.None);

        Assert.Equal(PlanStatus.Replaced, read!.License.StatusOn(ReplacedOn));
        Assert.Equal(Old, (await store.GetAsync(New, CancellationToken.None))!.License.ReplacementOf);
    }

    private static (InMemoryLicenseStore Store, LicenseService Service) ServiceWith(License license)
    {
        var store = new InMemoryLicenseStore(ReminderSchedule.Default);
        store.TryAddAsync(license, new LicenseEvent("activated", NoonOn(ReplacedOn), "x", "y", System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty), CancellationToken.None).GetAwaiter().GetResult();
        var service = new LicenseService(store, new BusinessCalendar(new NodaTime.Testing.FakeClock(NoonOn(ReplacedOn)), BusinessZone), new PlanOptions(PlanOptions.DefaultProductName));
        return (store, service);
    }
}
