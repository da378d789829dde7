using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Observability;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// R9 "changing <c>Smp:Reminders</c> applies to every stored license from the next run on": licenses are stored by a
/// host with one set of offsets, then a host with other offsets (a changed app setting restarts the app) scans the
/// same tables on Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReminderOffsetChangeTests(AzuriteFixture azurite)
{
    /// <summary>Activation mails of 2026-03-14 with training: the plans expire on 2027-04-01.</summary>
    private static readonly LocalDate April2026 = new(2026, 4, 1);

    [Fact]
    public async Task R9_moving_the_last_stage_from_30_to_14_days_sends_the_14_day_reminder_on_18_March_and_no_30_day_one()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            await ActivateAsync(before, "VT-7001", April2026);
            before.Clock.Reset(InDenver(2027, 1, 1));
            await RunScanAsync(before);
            Assert.Single(await UndeliveredAsync(before));
        }

        using var after = Harness(prefix, "90,14", InDenver(2027, 3, 2));
        await RunScanAsync(after);
        Assert.Single(await UndeliveredAsync(after));

        after.Clock.Reset(InDenver(2027, 3, 18));
        await RunScanAsync(after);
        var messages = await UndeliveredAsync(after);
        Assert.Equal(2, messages.Count);
        var final = Assert.Single(messages, m => m.Mail.Subject.StartsWith("Final reminder", StringComparison.Ordinal));
        ReminderScanTests.AssertReminder(final, ["VT-7001"], DefaultContacts);
        Assert.Equal(["90-day", "14-day"], (await EventsAsync(after, "VT-7001", "reminderSent")).Select(e => Data(e, "stage")));

        after.Clock.Reset(InDenver(2027, 3, 25));
        await RunScanAsync(after);
        Assert.Equal(2, (await UndeliveredAsync(after)).Count);
    }

    [Fact]
    public async Task R9_a_stage_added_to_the_offsets_is_sent_when_due_for_a_license_stored_before_the_change()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            await ActivateAsync(before, "VT-7101", April2026);
            before.Clock.Reset(InDenver(2027, 1, 1));
            await RunScanAsync(before);
        }

        // 1 April 2027 - 60 days = 31 January 2027.
        using var after = Harness(prefix, "90,60,30", InDenver(2027, 1, 30));
        await RunScanAsync(after);
        Assert.Single(await UndeliveredAsync(after));

        after.Clock.Reset(InDenver(2027, 1, 31));
        await RunScanAsync(after);
        Assert.Equal(2, (await UndeliveredAsync(after)).Count);

        after.Clock.Reset(InDenver(2027, 3, 2));
        await RunScanAsync(after);
        Assert.Equal(3, (await UndeliveredAsync(after)).Count);
        Assert.Equal(["90-day", "60-day", "30-day"], (await EventsAsync(after, "VT-7101", "reminderSent")).Select(e => Data(e, "stage")));
    }

    [Fact]
    public async Task R9_a_stage_removed_from_the_offsets_is_not_sent_for_a_license_stored_before_the_change()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            await ActivateAsync(before, "VT-7201", April2026);
        }

        using var after = Harness(prefix, "30", InDenver(2027, 1, 1));
        await RunScanAsync(after);
        Assert.Empty(await UndeliveredAsync(after));

        after.Clock.Reset(InDenver(2027, 3, 2));
        await RunScanAsync(after);
        var message = Assert.Single(await UndeliveredAsync(after));
        ReminderScanTests.AssertReminder(message, ["VT-7201"], DefaultContacts);
        Assert.Equal("30-day", Data(Assert.Single(await EventsAsync(after, "VT-7201", "reminderSent")), "stage"));
    }

    [Fact]
    public async Task R9_a_reminder_queued_for_a_stage_since_removed_from_the_offsets_is_not_delivered_and_staff_see_why()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string reminderId;
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            await ActivateAsync(before, "VT-7501", April2026);
            await ActivateAsync(before, "VT-7502", April2026);
            before.Clock.Reset(InDenver(2027, 1, 1, 6));
            await RunScanAsync(before);
            var queued = Assert.Single(await UndeliveredAsync(before));
            ReminderScanTests.AssertReminder(queued, ["VT-7501", "VT-7502"], DefaultContacts);
            reminderId = queued.Id;
        }

        // Held back (throttling, backoff) until the app runs with the 90-day stage removed: it goes out for none.
        using var after = Harness(prefix, "30", InDenver(2027, 1, 1, 11));
        await DispatchAsync(after);

        Assert.Empty(PickedUpFiles(after));
        var stored = await MessageAsync(after, reminderId);
        Assert.Equal(MailStatus.Superseded, stored.Status);
        Assert.Contains("VT-7501", stored.Note, StringComparison.Ordinal);
        Assert.Contains("VT-7502", stored.Note, StringComparison.Ordinal);
        Assert.Contains("90-day reminder is no longer configured", stored.Note, StringComparison.Ordinal);
        var listed = await MailApiTests.ListAsync(after, "status=superseded");
        Assert.Equal(reminderId, Assert.Single(listed.Json().GetProperty("mail").EnumerateArray()).GetProperty("id").GetString());
        foreach (var serial in new[] { "VT-7501", "VT-7502" })
        {
            var withdrawn = Assert.Single(await EventsAsync(after, serial, "reminderWithdrawn"));
            Assert.Equal(reminderId, Data(withdrawn, "mailId"));
            Assert.Equal("90-day", Data(withdrawn, "stage"));
            Assert.Contains("no longer configured", Data(withdrawn, "reason"), StringComparison.Ordinal);
        }

        // The stage still configured goes out when due.
        after.Clock.Reset(InDenver(2027, 3, 2, 6));
        await RunScanAsync(after);
        await DispatchAsync(after);
        var delivered = PickedUp(after, Assert.Single(await UndeliveredOrSentReminderIdsAsync(after, reminderId)));
        Assert.Contains("VT-7501", delivered.TextBody, StringComparison.Ordinal);
        Assert.Contains("VT-7502", delivered.TextBody, StringComparison.Ordinal);
        Assert.Single(PickedUpFiles(after));
    }

    /// <summary>The ids of the reminder mails stored other than <paramref name="except"/>, read through each license's events.</summary>
    private static async Task<IReadOnlyList<string>> UndeliveredOrSentReminderIdsAsync(ApiHarness api, string except) =>
        [.. (await EventsAsync(api, "VT-7501", "reminderSent")).Select(e => Data(e, "mailId")).Where(id => id != except).Distinct()];

    [Fact]
    public async Task R9_a_rebuild_for_new_offsets_that_dies_half_way_is_resumed_and_each_reminder_is_sent_exactly_once()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string[] serials = ["VT-7301", "VT-7302", "VT-7303", "VT-7304", "VT-7305"];
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            foreach (var (serial, i) in serials.Select((s, i) => (s, i)))
            {
                await ActivateAsync(before, serial, April2026, customerId: $"C-73{i}");
            }

            before.Clock.Reset(InDenver(2027, 1, 1));
            await RunScanAsync(before);
            Assert.Equal(serials.Length, (await UndeliveredAsync(before)).Count);
        }

        // The first host on the new offsets dies at its third reminder-row write: the rebuild is half done.
        var crash = new CrashOnIndexWrite(crashOn: 3);
        using (var crashing = Harness(prefix, "90,14", InDenver(2027, 3, 18), services => RebuildingStore(services, crash)))
        {
            await Assert.ThrowsAsync<SimulatedCrashException>(() => RunScanAsync(crashing));
            Assert.Equal(serials.Length, (await UndeliveredAsync(crashing)).Count);
        }

        using var restarted = Harness(prefix, "90,14", InDenver(2027, 3, 18, 15));
        await RunScanAsync(restarted);
        await RunScanAsync(restarted);

        var finals = (await UndeliveredAsync(restarted)).Where(m => m.Mail.Subject.StartsWith("Final reminder", StringComparison.Ordinal)).ToList();
        Assert.Equal(serials.Length, finals.Count);
        foreach (var serial in serials)
        {
            Assert.Single(finals, m => m.Mail.PlainText.Contains(serial, StringComparison.Ordinal));
            Assert.Equal(["90-day", "14-day"], (await EventsAsync(restarted, serial, "reminderSent")).Select(e => Data(e, "stage")));
        }
    }

    [Fact]
    public async Task R9_scans_of_two_hosts_that_both_meet_new_offsets_send_each_reminder_exactly_once()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string[] serials = ["VT-7401", "VT-7402", "VT-7403", "VT-7404"];
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            foreach (var (serial, i) in serials.Select((s, i) => (s, i)))
            {
                await ActivateAsync(before, serial, April2026, customerId: $"C-74{i}");
            }
        }

        using var first = Harness(prefix, "60,14", InDenver(2027, 1, 31));
        using var second = Harness(prefix, "60,14", InDenver(2027, 1, 31), services => RebuildingStore(services, new CrashOnIndexWrite(crashOn: int.MaxValue)));
        await Task.WhenAll(
            Task.Run(() => RunScanAsync(first)),
            Task.Run(() => RunScanAsync(second)),
            Task.Run(() => RunScanAsync(first)));

        var messages = await UndeliveredAsync(first);
        Assert.Equal(serials.Length, messages.Count);
        foreach (var serial in serials)
        {
            Assert.Equal("60-day", Data(Assert.Single(await EventsAsync(first, serial, "reminderSent")), "stage"));
        }
    }

    [Fact]
    public async Task R9_a_license_that_cannot_be_read_is_skipped_by_the_rebuild_which_completes_on_its_first_run()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string[] serials = ["VT-7501", "VT-7502", "VT-7503", "VT-7504", "VT-7505"];
        const string Corrupt = "VT-7503";
        string? original;
        using (var before = Harness(prefix, "90,30", InDenver(2026, 3, 20)))
        {
            foreach (var (serial, i) in serials.Select((s, i) => (s, i)))
            {
                await ActivateAsync(before, serial, April2026, customerId: $"C-75{i}");
            }

            // The middle license's record is no longer JSON (damaged by hand or by a bad tool).
            var table = before.Services.GetRequiredService<TableServiceClient>().GetTableClient(prefix + "licenses");
            var row = (await table.GetEntityAsync<TableEntity>(Corrupt, "license|" + Corrupt)).Value;
            original = row.GetString("License");
            row["License"] = "{\"serial\": \"VT-75";
            await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
        }

        // The new offsets meet the stored licenses on 18 March 2027, the day the 14-day reminders are due.
        var counter = new LicenseReadCounter(prefix + "licenses");
        using var after = Harness(prefix, "90,14", InDenver(2027, 3, 18), services => RebuildingStore(services, counter));
        using var failed = new MetricCollector<long>(after.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, SmpMetrics.Instruments.RemindersFailed);
        await RunScanAsync(after);

        var messages = await UndeliveredAsync(after);
        Assert.Equal(serials.Length - 1, messages.Count);
        foreach (var serial in serials.Where(s => s != Corrupt))
        {
            Assert.Equal("14-day", Data(Assert.Single(await EventsAsync(after, serial, "reminderSent")), "stage"));
        }

        Assert.DoesNotContain(messages, m => m.Mail.PlainText.Contains(Corrupt, StringComparison.Ordinal));
        Assert.True(failed.GetMeasurementSnapshot().EvaluateAsCounter() >= 1, "The unreadable license was not counted as failed.");
        Assert.Contains(Corrupt, counter.Read);
        var state = (await after.Services.GetRequiredService<TableServiceClient>().GetTableClient(prefix + "licenses").GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value;
        Assert.Equal("90,14", state.GetString("BuiltFor"));

        // The next scan reads no license but the unreadable one (tried again, and reported again).
        counter.Reset();
        failed.Clear();
        after.Clock.Reset(InDenver(2027, 3, 19));
        await RunScanAsync(after);
        Assert.DoesNotContain(counter.Read, s => s != Corrupt);
        Assert.True(failed.GetMeasurementSnapshot().EvaluateAsCounter() >= 1, "The unreadable license was not reported again.");
        Assert.Equal(serials.Length - 1, (await UndeliveredAsync(after)).Count);

        // Once the record is corrected, the next scan gives it its rows for the new offsets and its reminder goes out.
        var licensesTable = after.Services.GetRequiredService<TableServiceClient>().GetTableClient(prefix + "licenses");
        var damaged = (await licensesTable.GetEntityAsync<TableEntity>(Corrupt, "license|" + Corrupt)).Value;
        damaged["License"] = original;
        await licensesTable.UpdateEntityAsync(damaged, damaged.ETag, TableUpdateMode.Replace);
        failed.Clear();
        after.Clock.Reset(InDenver(2027, 3, 20));
        await RunScanAsync(after);
        Assert.Single(await UndeliveredAsync(after), m => m.Mail.PlainText.Contains(Corrupt, StringComparison.Ordinal));
        Assert.Equal("14-day", Data(Assert.Single(await EventsAsync(after, Corrupt, "reminderSent")), "stage"));
        Assert.Equal(0, failed.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task R9_a_license_activated_by_a_host_of_older_offsets_after_the_newer_configuration_took_the_index_gets_the_newer_stages_sent()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var old = Harness(prefix, "90,30", InDenver(2026, 3, 20));
        await RunScanAsync(old);
        using var @new = Harness(prefix, "60,14", InDenver(2026, 3, 20));
        await RunScanAsync(@new);
        Assert.Equal("60,14", (await IndexStateAsync(@new, prefix)).GetString("BuiltFor"));

        // The host not yet restarted with the new settings (or a staging slot) serves the activation.
        await ActivateAsync(old, "VT-7801", April2026);

        // 1 April 2027 - 60 days = 31 January 2027; - 14 days = 18 March 2027.
        @new.Clock.Reset(InDenver(2027, 1, 31, 6));
        await RunScanAsync(@new);
        ReminderScanTests.AssertReminder(Assert.Single(await UndeliveredAsync(@new)), ["VT-7801"], DefaultContacts);

        @new.Clock.Reset(InDenver(2027, 3, 18, 6));
        await RunScanAsync(@new);
        var messages = await UndeliveredAsync(@new);
        Assert.Equal(2, messages.Count);
        var final = Assert.Single(messages, m => m.Mail.Subject.StartsWith("Final reminder", StringComparison.Ordinal));
        ReminderScanTests.AssertReminder(final, ["VT-7801"], DefaultContacts);
        Assert.Equal(["60-day", "14-day"], (await EventsAsync(@new, "VT-7801", "reminderSent")).Select(e => Data(e, "stage")));
    }

    [Fact]
    public async Task R9_a_host_with_older_offsets_that_scans_and_dispatches_after_the_newer_configuration_destroys_none_of_its_rows_or_mail()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var old = Harness(prefix, "90,30", InDenver(2026, 3, 20));
        await ActivateAsync(old, "VT-7601", April2026);
        old.Clock.Reset(InDenver(2027, 1, 1, 6));
        await RunScanAsync(old);
        await DispatchAsync(old);

        // The changed setting reaches a newer host first; it sends the 14-day reminder due on 18 March 2027.
        using var @new = Harness(prefix, "90,14", InDenver(2027, 3, 18, 6));
        await RunScanAsync(@new);
        var final = Assert.Single(await UndeliveredAsync(@new));
        ReminderScanTests.AssertReminder(final, ["VT-7601"], DefaultContacts);

        // The old host, still running, scans and dispatches later that day: it refuses to scan, says so, and withdraws nothing.
        using var conflicts = new MetricCollector<long>(old.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.reminders.offsets_conflicts");
        old.Clock.Reset(InDenver(2027, 3, 18, 7));
        await RunScanAsync(old);
        await DispatchAsync(old);
        AssertConflictCounted(conflicts, own: "90,30", index: "90,14");
        Assert.Equal(MailStatus.Sent, (await MessageAsync(old, final.Id)).Status);
        Assert.Empty(await EventsAsync(old, "VT-7601", "reminderWithdrawn"));
        Assert.Equal(["90-day", "14-day"], (await EventsAsync(old, "VT-7601", "reminderSent")).Select(e => Data(e, "stage")));
        Assert.Equal("90,14", (await IndexStateAsync(@new, prefix)).GetString("BuiltFor"));

        // The newer host goes on as before: nothing more, and no 30-day reminder from either.
        @new.Clock.Reset(InDenver(2027, 3, 19, 6));
        await RunScanAsync(@new);
        await DispatchAsync(@new);
        Assert.Empty(await UndeliveredAsync(@new));
        Assert.Equal(["90-day", "14-day"], (await EventsAsync(@new, "VT-7601", "reminderSent")).Select(e => Data(e, "stage")));
    }

    [Fact]
    public async Task R9_a_host_with_older_offsets_that_scans_first_on_the_day_a_newer_stage_is_due_leaves_that_reminder_to_the_newer_configuration()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var old = Harness(prefix, "90,30", InDenver(2026, 3, 20));
        await ActivateAsync(old, "VT-7701", April2026);
        old.Clock.Reset(InDenver(2026, 4, 20));
        await ActivateAsync(old, "VT-7702", new LocalDate(2026, 5, 1), customerId: "C-77");
        old.Clock.Reset(InDenver(2027, 1, 1, 6));
        await RunScanAsync(old);
        await DispatchAsync(old);
        old.Clock.Reset(InDenver(2027, 1, 31, 6));
        await RunScanAsync(old);
        await DispatchAsync(old);

        // The newer configuration takes the index over on 17 March: the 14-day reminder of VT-7701 is due the next day.
        using var @new = Harness(prefix, "90,14", InDenver(2027, 3, 17, 6));
        await RunScanAsync(@new);
        Assert.Empty(await UndeliveredAsync(@new));

        // On 18 March the old host scans first: it would have sent a 30-day reminder and removed the 14-day row.
        using var conflicts = new MetricCollector<long>(old.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.reminders.offsets_conflicts");
        old.Clock.Reset(InDenver(2027, 3, 18, 6));
        await RunScanAsync(old);
        await DispatchAsync(old);
        AssertConflictCounted(conflicts, own: "90,30", index: "90,14");
        Assert.Empty(await UndeliveredAsync(old));

        @new.Clock.Reset(InDenver(2027, 3, 18, 7));
        await RunScanAsync(@new);
        var final = Assert.Single(await UndeliveredAsync(@new));
        ReminderScanTests.AssertReminder(final, ["VT-7701"], DefaultContacts);
        await DispatchAsync(@new);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(@new, final.Id)).Status);
        Assert.Equal(["90-day", "14-day"], (await EventsAsync(@new, "VT-7701", "reminderSent")).Select(e => Data(e, "stage")));

        // VT-7702's 14-day reminder (17 April) is still indexed: the old host's scans removed no row of the newer offsets.
        old.Clock.Reset(InDenver(2027, 4, 17, 6));
        await RunScanAsync(old);
        @new.Clock.Reset(InDenver(2027, 4, 17, 7));
        await RunScanAsync(@new);
        Assert.Single(await UndeliveredAsync(@new), m => m.Mail.PlainText.Contains("VT-7702", StringComparison.Ordinal));
        Assert.Equal(["90-day", "14-day"], (await EventsAsync(@new, "VT-7702", "reminderSent")).Select(e => Data(e, "stage")));
        Assert.Empty(await EventsAsync(@new, "VT-7702", "reminderWithdrawn"));
    }

    [Fact]
    public async Task R9_a_reminder_an_older_host_queued_for_a_stage_the_index_owner_removed_is_superseded_when_that_host_dispatches_it()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var old = Harness(prefix, "90,30", InDenver(2026, 3, 20));
        await ActivateAsync(old, "VT-7801", April2026);
        old.Clock.Reset(InDenver(2027, 1, 1, 6));
        await RunScanAsync(old);
        var queued = Assert.Single(await UndeliveredAsync(old));

        // The operator removed the 90-day stage; a newer host scans at 07:00 and takes the index over.
        using var @new = Harness(prefix, "30", InDenver(2027, 1, 1, 7));
        await RunScanAsync(@new);
        Assert.Equal("30", (await IndexStateAsync(@new, prefix)).GetString("BuiltFor"));

        // The old host's dispatcher leases the held-back mail at 11:00: the index owner has no 90-day stage.
        using var conflicts = new MetricCollector<long>(old.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.reminders.offsets_conflicts");
        old.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(old);

        Assert.Empty(PickedUpFiles(old));
        var stored = await MessageAsync(old, queued.Id);
        Assert.Equal(MailStatus.Superseded, stored.Status);
        Assert.Contains("90-day reminder is no longer configured", stored.Note, StringComparison.Ordinal);
        var withdrawn = Assert.Single(await EventsAsync(old, "VT-7801", "reminderWithdrawn"));
        Assert.Equal(queued.Id, Data(withdrawn, "mailId"));
        AssertConflictCounted(conflicts, own: "90,30", index: "30");
    }

    [Fact]
    public async Task R9_a_reminder_a_stray_configuration_withdrew_as_not_configured_is_queued_again_and_mailed_once_when_the_configuration_with_that_stage_takes_the_index_back()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var main = Harness(prefix, "90,30", InDenver(2026, 3, 20), StoreOnAppClock);
        await ActivateAsync(main, "VT-7901", April2026);
        main.Clock.Reset(InDenver(2027, 1, 1, 6));
        await RunScanAsync(main);
        await DispatchAsync(main);

        // 1 April 2027 - 30 days = 2 March 2027: queued at 06:00, held back (throttling, backoff).
        main.Clock.Reset(InDenver(2027, 3, 2, 6));
        await RunScanAsync(main);
        var queued = Assert.Single(await UndeliveredAsync(main));

        // A staging slot with other offsets, first seen later, takes the index and its dispatcher leases the held-back mail.
        using (var stray = Harness(prefix, "90,14", InDenver(2027, 3, 2, 7), StoreOnAppClock))
        {
            await RunScanAsync(stray);
            Assert.Equal("90,14", (await IndexStateAsync(stray, prefix)).GetString("BuiltFor"));
            await DispatchAsync(stray);
            var withdrawn = await MessageAsync(stray, queued.Id);
            Assert.Equal(MailStatus.Superseded, withdrawn.Status);
            Assert.Contains("30-day reminder is no longer configured", withdrawn.Note, StringComparison.Ordinal);
        }

        // The slot stops. The 90,30 host runs on; its scans leave the index alone while the slot's lease lasts.
        main.Clock.Reset(InDenver(2027, 3, 3, 6));
        await RunScanAsync(main);
        await DispatchAsync(main);
        Assert.Empty(await UndeliveredAsync(main));

        // Past the slot's lease the 90,30 configuration takes the index back: the 30-day reminder is due again.
        main.Clock.Reset(InDenver(2027, 3, 2, 7) + TableLicenseStore.ReminderConfigurationGoneAfter + Duration.FromHours(1));
        await RunScanAsync(main);
        Assert.Equal("90,30", (await IndexStateAsync(main, prefix)).GetString("BuiltFor"));
        var again = Assert.Single(await UndeliveredAsync(main));
        Assert.NotEqual(queued.Id, again.Id);
        ReminderScanTests.AssertReminder(again, ["VT-7901"], DefaultContacts);
        await DispatchAsync(main);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(main, again.Id)).Status);
        Assert.Contains("VT-7901", PickedUp(main, again.Id).TextBody, StringComparison.Ordinal);

        // Mailed once: later scans queue nothing more.
        main.Clock.Reset(InDenver(2027, 3, 6, 6));
        await RunScanAsync(main);
        Assert.Empty(await UndeliveredAsync(main));
        Assert.Equal([queued.Id, again.Id], (await EventsAsync(main, "VT-7901", "reminderSent")).Where(e => Data(e, "stage") == "30-day").Select(e => Data(e, "mailId")));
        Assert.Equal(2, PickedUpFiles(main).Count); // The 90-day reminder of 1 January and this one.
    }

    [Fact]
    public async Task R9_a_mail_a_stray_configuration_withdrew_whose_dispatcher_died_before_storing_that_is_not_sent_beside_the_mail_that_queued_the_reminder_again()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var main = Harness(prefix, "90,30", InDenver(2026, 3, 20), StoreOnAppClock);
        await ActivateAsync(main, "VT-7902", April2026);
        main.Clock.Reset(InDenver(2027, 1, 1, 6));
        await RunScanAsync(main);
        await DispatchAsync(main);
        main.Clock.Reset(InDenver(2027, 3, 2, 6));
        await RunScanAsync(main);
        var queued = Assert.Single(await UndeliveredAsync(main));

        // The staging slot's dispatcher withdraws the 30-day reminder as not configured, then dies before it stores the
        // mail as superseded: the mail stays leased.
        using (var stray = Harness(prefix, "90,14", InDenver(2027, 3, 2, 7), services => { StoreOnAppClock(services); DiesBeforeStoringASupersededMail(services); }))
        {
            await RunScanAsync(stray);
            await Assert.ThrowsAsync<SimulatedCrashException>(() => DispatchAsync(stray));
            Assert.Equal(MailStatus.Sending, (await MessageAsync(stray, queued.Id)).Status);
            Assert.Single(await EventsAsync(stray, "VT-7902", "reminderWithdrawn"));
        }

        // Past the slot's lease the 90,30 configuration takes the index back and queues the reminder again; then one
        // dispatch finds both mails: the first one's lease ran out long ago.
        main.Clock.Reset(InDenver(2027, 3, 2, 7) + TableLicenseStore.ReminderConfigurationGoneAfter + Duration.FromHours(1));
        await RunScanAsync(main);
        var again = Assert.Single(await UndeliveredAsync(main), m => m.Id != queued.Id);
        await DispatchAsync(main);

        Assert.Equal(MailStatus.Sent, (await MessageAsync(main, again.Id)).Status);
        var first = await MessageAsync(main, queued.Id);
        Assert.Equal(MailStatus.Superseded, first.Status);
        Assert.Contains(again.Id, first.Note, StringComparison.Ordinal);
        Assert.Equal(2, PickedUpFiles(main).Count); // The 90-day reminder of 1 January and the 30-day one, once.
        Assert.Contains("VT-7902", PickedUp(main, again.Id).TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task R9_the_every_minute_mail_dispatch_keeps_the_index_owners_lease_alive_while_its_scans_pause()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using var old = Harness(prefix, "90,30", InDenver(2026, 3, 20), StoreOnAppClock);
        await RunScanAsync(old);
        using var owner = Harness(prefix, "90,14", InDenver(2026, 3, 21), StoreOnAppClock);
        await RunScanAsync(owner);
        Assert.Equal("90,14", (await IndexStateAsync(owner, prefix)).GetString("BuiltFor"));

        // The owner's scans pause for days (a schedule with gaps); only its mail dispatch runs.
        var dispatchedAt = InDenver(2026, 3, 21) + TableLicenseStore.ReminderConfigurationGoneAfter - Duration.FromHours(1);
        owner.Clock.Reset(dispatchedAt);
        await DispatchAsync(owner);
        var seen = (await owner.Services.GetRequiredService<TableServiceClient>().GetTableClient(prefix + "licenses").GetEntityAsync<TableEntity>("~meta", "reminder-config|90,14")).Value;
        Assert.Equal(dispatchedAt.ToUnixTimeTicks(), seen.GetInt64("LastSeen"));

        // Past the lease counted from its last scan, but not from its last dispatch: the other configuration stays out.
        using var conflicts = new MetricCollector<long>(old.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.reminders.offsets_conflicts");
        old.Clock.Reset(InDenver(2026, 3, 21) + TableLicenseStore.ReminderConfigurationGoneAfter + Duration.FromHours(1));
        await RunScanAsync(old);
        AssertConflictCounted(conflicts, own: "90,30", index: "90,14");
        Assert.Equal("90,14", (await IndexStateAsync(old, prefix)).GetString("BuiltFor"));
    }

    /// <summary>
    /// The app's license store dating this host's reminder configuration (first seen, last seen) by the harness clock
    /// instead of the system clock, so that a test can move past a configuration's lease.
    /// </summary>
    private static void StoreOnAppClock(IServiceCollection services) =>
        services.AddSingleton(sp =>
        {
            var prefix = TableStorageServiceCollectionExtensions.TablePrefix(sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>());
            return new TableLicenseStore(sp.GetRequiredService<TableServiceClient>(), new TableLicenseStoreOptions
            {
                LicensesTable = prefix + "licenses",
                IndexTable = prefix + "licenseindex",
                Reminders = sp.GetRequiredService<ReminderSchedule>(),
                Clock = sp.GetRequiredService<IClock>(),
            });
        });

    /// <summary>
    /// The app's outbox, except that storing a mail as superseded makes the process "die" before the write is sent: the
    /// dispatcher's check has recorded its withdrawals, the mail stays leased.
    /// </summary>
    private static void DiesBeforeStoringASupersededMail(IServiceCollection services) =>
        services.AddSingleton<IMailOutbox>(sp => new CrashOnSupersede(new TableMailOutbox(
            sp.GetRequiredService<TableServiceClient>(),
            TableStorageServiceCollectionExtensions.TablePrefix(sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()) + "mailoutbox")));

    private sealed class CrashOnSupersede(IMailOutbox inner) : ForwardingMailOutbox(inner)
    {
        public override Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken) =>
            updated.Status == MailStatus.Superseded ? throw new SimulatedCrashException() : base.TryUpdateAsync(current, updated, cancellationToken);
    }

    private static void AssertConflictCounted(MetricCollector<long> conflicts, string own, string index)
    {
        var measured = conflicts.GetMeasurementSnapshot();
        Assert.NotEmpty(measured);
        Assert.All(measured, m =>
        {
            Assert.Equal(own, m.Tags["own_offsets"]);
            Assert.Equal(index, m.Tags["index_offsets"]);
        });
    }

    private static async Task<TableEntity> IndexStateAsync(ApiHarness api, string prefix) =>
        (await api.Services.GetRequiredService<TableServiceClient>().GetTableClient(prefix + "licenses").GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value;

    private ApiHarness Harness(string prefix, string offsets, Instant now, Action<IServiceCollection>? services = null) =>
        new(azurite.ConnectionString, now, new Dictionary<string, string?> { ["Smp:TablePrefix"] = prefix, ["Smp:Reminders"] = offsets }, services);

    /// <summary>The app's license store, rebuilding one license per page, on a client that "dies" as <paramref name="crash"/> says.</summary>
    private void RebuildingStore(IServiceCollection services, CrashOnIndexWrite crash) => RebuildingStore(services, (HttpPipelinePolicy)crash);

    /// <summary>The app's license store, rebuilding one license per page, on a client with <paramref name="policy"/>.</summary>
    private void RebuildingStore(IServiceCollection services, HttpPipelinePolicy policy)
    {
        var options = new TableClientOptions();
        options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        var client = new TableServiceClient(azurite.ConnectionString, options);
        services.AddSingleton(sp =>
        {
            var prefix = TableStorageServiceCollectionExtensions.TablePrefix(sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>());
            return new TableLicenseStore(client, new TableLicenseStoreOptions
            {
                LicensesTable = prefix + "licenses",
                IndexTable = prefix + "licenseindex",
                Reminders = sp.GetRequiredService<ReminderSchedule>(),
                ReminderRebuildPageSize = 1,
            });
        });
    }

    /// <summary>Throws, as a dying process would stop, before the <c>crashOn</c>-th write of a reminder index row is sent.</summary>
    private sealed class CrashOnIndexWrite(int crashOn) : HttpPipelineSynchronousPolicy
    {
        private int writes;

        public override void OnSendingRequest(HttpMessage message)
        {
            var uri = message.Request.Uri.ToString();
            if (message.Request.Method != RequestMethod.Get
                && uri.Contains("licenseindex", StringComparison.Ordinal)
                && (uri.Contains("reminders", StringComparison.Ordinal) || message.Request.Method == RequestMethod.Post)
                && Interlocked.Increment(ref writes) == crashOn)
            {
                throw new SimulatedCrashException();
            }
        }
    }

    /// <summary>The licenses (by partition, the encoded serial) whose records came back from reads of the licenses table.</summary>
    private sealed class LicenseReadCounter(string licensesTable) : HttpPipelineSynchronousPolicy
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> read = new();

        public IReadOnlyList<string> Read => [.. read];

        public void Reset() => read.Clear();

        public override void OnReceivedResponse(HttpMessage message)
        {
            var path = message.Request.Uri.Path;
            if (message.Request.Method != RequestMethod.Get || message.Response.Status != 200
                || !path.Contains("/" + licensesTable, StringComparison.Ordinal) || path.Contains(licensesTable + "index", StringComparison.Ordinal))
            {
                return;
            }

            using var json = System.Text.Json.JsonDocument.Parse(message.Response.Content);
            IEnumerable<System.Text.Json.JsonElement> rows = json.RootElement.TryGetProperty("value", out var values) ? values.EnumerateArray() : [json.RootElement];
            foreach (var row in rows)
            {
                if (row.TryGetProperty("PartitionKey", out var partition) && partition.GetString() is { } key && !key.StartsWith('~')
                    && row.TryGetProperty("RowKey", out var rowKey) && rowKey.GetString() == "license|" + key)
                {
                    read.Enqueue(key);
                }
            }
        }
    }
}
