using Azure.Data.Tables;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// R9 with two configurations of <c>Smp:Reminders</c> over the same tables: the reminder index belongs to the live
/// configuration first seen most recently (a restart does not date a configuration anew; one not seen for longer than
/// the lease is gone); its state row is written under ETags only, so concurrent writers never
/// undo each other, and a store of older offsets neither scans nor removes rows.
/// </summary>
public sealed class ReminderIndexOwnershipTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly Instant Started = Instant.FromUtc(2026, 12, 1, 8, 0);

    [Fact]
    public async Task R9_the_index_state_under_concurrent_writers_of_two_configurations_ends_with_the_newest_and_the_older_is_refused()
    {
        var t = StoreUnderTest.Create(azurite);
        var older = Store(t, ReminderSchedule.Default, Started);
        var serials = new List<Serial>();
        for (var i = 0; i < 6; i++)
        {
            var activated = TestLicenses.Activate(TestLicenses.NewSerial("OW"), customerId: $"OW-{i}");
            Assert.True(await older.TryAddAsync(activated.License, activated.Event, Ct));
            serials.Add(activated.License.Serial);
        }

        await older.EnsureReminderIndexAsync(Ct);
        var newer = Store(t, new ReminderSchedule([90, 14]), Started + Duration.FromHours(2));
        var twin = Store(t, new ReminderSchedule([90, 14]), Started + Duration.FromHours(1));

        var runs = new List<Task>();
        for (var round = 0; round < 3; round++)
        {
            runs.Add(Task.Run(() => newer.EnsureReminderIndexAsync(Ct)));
            runs.Add(Task.Run(() => twin.EnsureReminderIndexAsync(Ct)));
            runs.Add(Task.Run(async () =>
            {
                try
                {
                    await older.EnsureReminderIndexAsync(Ct);
                }
                catch (ReminderOffsetsConflictException refused)
                {
                    Assert.Equal(new ReminderOffsetsConflict("90,30", "90,14"), refused.Conflict);
                }
            }));
        }

        await Task.WhenAll(runs);
        await newer.EnsureReminderIndexAsync(Ct);

        var state = (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value;
        Assert.Equal("90,14", state.GetString("BuiltFor"));
        Assert.Null(state.GetString("RebuildingFor"));

        // The 90,14 configuration is dated by whichever of its two hosts recorded it first, the 90,30 one by its first host.
        var firstSeen = (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-config|90,14")).Value.GetInt64("FirstSeen");
        Assert.Contains(firstSeen, new long?[] { (Started + Duration.FromHours(1)).ToUnixTimeTicks(), (Started + Duration.FromHours(2)).ToUnixTimeTicks() });
        Assert.Equal(Started.ToUnixTimeTicks(), (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-config|90,30")).Value.GetInt64("FirstSeen"));

        Assert.Null(await newer.CheckAsync(Ct));
        Assert.Null(await twin.CheckAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,30", "90,14"), await older.CheckAsync(Ct));

        // The older store refuses to scan, and its attempt removes none of the newer offsets' rows.
        var expiresOn = (await newer.GetAsync(serials[0], Ct))!.License.ExpiresOn;
        var fourteenDaysBefore = expiresOn.PlusDays(-14);
        var rowsBefore = await ReminderRowsAsync(t);
        await Assert.ThrowsAsync<ReminderOffsetsConflictException>(async () =>
        {
            await foreach (var unused in older.ListReminderCandidatesAsync(fourteenDaysBefore, Ct))
            {
            }
        });
        Assert.Equal(rowsBefore, await ReminderRowsAsync(t));

        var candidates = new List<Serial>();
        await foreach (var stored in newer.ListReminderCandidatesAsync(fourteenDaysBefore, Ct))
        {
            candidates.Add(stored.License.Serial);
        }

        Assert.Equal(serials.Select(s => s.Value).Order(), candidates.Select(s => s.Value).Order());
    }

    [Fact]
    public async Task R9_a_store_of_other_offsets_started_later_takes_the_index_over_and_the_earlier_one_then_refuses()
    {
        var t = StoreUnderTest.Create(azurite);
        var first = Store(t, new ReminderSchedule([90, 14]), Started);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial("OW"));
        Assert.True(await first.TryAddAsync(activated.License, activated.Event, Ct));
        await first.EnsureReminderIndexAsync(Ct);

        var later = Store(t, ReminderSchedule.Default, Started + Duration.FromMinutes(1));
        await later.EnsureReminderIndexAsync(Ct);

        await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => first.EnsureReminderIndexAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,14", "90,30"), await first.CheckAsync(Ct));
        Assert.Equal("90,30", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));
    }

    [Fact]
    public async Task R9_a_license_activated_and_renewed_by_a_host_of_other_offsets_is_found_by_the_owners_scan_with_the_owners_stage()
    {
        var t = StoreUnderTest.Create(azurite);
        var ownerOffsets = new ReminderSchedule([60, 14]);
        var owner = Store(t, ownerOffsets, Started + Duration.FromHours(1));
        await owner.EnsureReminderIndexAsync(Ct);

        // A staging slot or an instance not yet restarted with the new settings serves the activation and the renewal.
        var other = Store(t, ReminderSchedule.Default, Started);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial("OW"));
        Assert.True(await other.TryAddAsync(activated.License, activated.Event, Ct));
        var serial = activated.License.Serial;

        var dueDay = activated.License.ExpiresOn.PlusDays(-14);
        var found = Assert.Single(await CandidatesAsync(owner, dueDay));
        Assert.Equal(serial, found.License.Serial);
        Assert.Equal(14, ownerOffsets.DueOn(found.License, dueDay)?.Stage.DaysBefore);

        var current = (await other.GetAsync(serial, Ct))!;
        var renewed = TestLicenses.Renew(current.License, "SO-OW-1");
        Assert.True(await other.TryUpdateAsync(current, renewed.License, renewed.Event, Ct));
        Assert.NotEqual(activated.License.ExpiresOn, renewed.License.ExpiresOn);

        var renewedDueDay = renewed.License.ExpiresOn.PlusDays(-14);
        var afterRenewal = Assert.Single(await CandidatesAsync(owner, renewedDueDay));
        Assert.Equal(renewed.License.ExpiresOn, afterRenewal.License.ExpiresOn);
        Assert.Equal(14, ownerOffsets.DueOn(afterRenewal.License, renewedDueDay)?.Stage.DaysBefore);
        Assert.Equal(60, ownerOffsets.DueOn(afterRenewal.License, renewed.License.ExpiresOn.PlusDays(-60))?.Stage.DaysBefore);
    }

    [Fact]
    public async Task R9_a_scan_that_began_before_a_takeover_by_other_offsets_leaves_the_new_owners_rows_in_place()
    {
        var t = StoreUnderTest.Create(azurite);
        var first = Store(t, new ReminderSchedule([30]), Started);
        await first.EnsureReminderIndexAsync(Ct);
        var serials = new List<Serial>();
        for (var i = 0; i < 17; i++)
        {
            var activated = TestLicenses.Activate(TestLicenses.NewSerial("TK"), customerId: $"TK-{i}");
            Assert.True(await first.TryAddAsync(activated.License, activated.Event, Ct));
            serials.Add(activated.License.Serial);
        }

        // Written by the host of the newer offsets before it took the index over: rows for 30 (the owner's) and 14 days.
        var later = Store(t, new ReminderSchedule([14]), Started + Duration.FromHours(1));
        var written = TestLicenses.Activate(TestLicenses.NewSerial("TK"), customerId: "TK-late");
        Assert.True(await later.TryAddAsync(written.License, written.Event, Ct));
        serials.Add(written.License.Serial);
        var fourteenDaysBefore = written.License.ExpiresOn.PlusDays(-14);

        // The first host's scan checks its ownership and resolves its first batch (16 rows of 30 days) ...
        await using (var scan = first.ListReminderCandidatesAsync(fourteenDaysBefore, Ct).GetAsyncEnumerator(Ct))
        {
            Assert.True(await scan.MoveNextAsync());

            // ... the host of the newer offsets takes the index over and rebuilds it ...
            await later.EnsureReminderIndexAsync(Ct);
            Assert.NotNull(await first.CheckAsync(Ct));

            // ... and the rest of the scan, which meets the 14-day row of the license written above, removes nothing.
            while (await scan.MoveNextAsync())
            {
            }
        }

        var candidates = await CandidatesAsync(later, fourteenDaysBefore);
        Assert.Equal(serials.Select(s => s.Value).Order(), candidates.Select(c => c.License.Serial.Value).Order());
    }

    [Fact]
    public async Task R9_an_old_host_that_restarts_does_not_take_the_index_back_from_a_newer_live_configuration()
    {
        var t = StoreUnderTest.Create(azurite);
        var a = Store(t, ReminderSchedule.Default, Started);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial("RS"));
        Assert.True(await a.TryAddAsync(activated.License, activated.Event, Ct));
        await a.EnsureReminderIndexAsync(Ct);
        var b = Store(t, new ReminderSchedule([90, 14]), Started + Duration.FromHours(1));
        await b.EnsureReminderIndexAsync(Ct);

        // An instance still on the old settings recycles 30 hours later (scale-out, maintenance, crash).
        var restarted = Store(t, ReminderSchedule.Default, Started + Duration.FromHours(30));
        var refused = await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => restarted.EnsureReminderIndexAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,30", "90,14"), refused.Conflict);
        Assert.Equal("90,14", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));
        Assert.Null(await b.CheckAsync(Ct));

        // The restart refreshed its configuration's lease but did not date it anew.
        var config = (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-config|90,30")).Value;
        Assert.Equal(Started.ToUnixTimeTicks(), config.GetInt64("FirstSeen"));
        Assert.Equal((Started + Duration.FromHours(30)).ToUnixTimeTicks(), config.GetInt64("LastSeen"));
    }

    [Fact]
    public async Task R9_a_configuration_first_seen_later_takes_the_index_over_from_an_older_one_that_is_still_alive()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Started);
        var a = Store(t, ReminderSchedule.Default, clock);
        await a.EnsureReminderIndexAsync(Ct);
        clock.AdvanceHours(2);
        await a.EnsureReminderIndexAsync(Ct); // Its scan keeps its lease fresh.

        var b = Store(t, new ReminderSchedule([90, 14]), Started + Duration.FromHours(3));
        await b.EnsureReminderIndexAsync(Ct);

        clock.AdvanceHours(2);
        await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => a.EnsureReminderIndexAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,30", "90,14"), await a.CheckAsync(Ct));
        Assert.Equal("90,14", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));
    }

    [Fact]
    public async Task R9_an_owner_not_seen_for_longer_than_the_lease_loses_the_index_to_a_live_configuration()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Started);
        var production = Store(t, ReminderSchedule.Default, clock);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial("GO"));
        Assert.True(await production.TryAddAsync(activated.License, activated.Event, Ct));
        await production.EnsureReminderIndexAsync(Ct);

        // A short-lived host of other offsets (a staging slot later deleted) takes the index over with one scan, then is gone.
        var lastSeen = Started + Duration.FromHours(1);
        await Store(t, new ReminderSchedule([60, 14]), lastSeen).EnsureReminderIndexAsync(Ct);

        // Production, never restarted, is refused while the other configuration may still be alive ...
        clock.Reset(lastSeen + TableLicenseStore.ReminderConfigurationGoneAfter - Duration.FromMinutes(1));
        await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => production.EnsureReminderIndexAsync(Ct));

        // ... and takes the index back once that one has not been seen for longer than the lease.
        clock.Reset(lastSeen + TableLicenseStore.ReminderConfigurationGoneAfter + Duration.FromMinutes(1));
        Assert.Null(await production.CheckAsync(Ct));
        var candidates = await CandidatesAsync(production, activated.License.ExpiresOn.PlusDays(-30));
        Assert.Equal(activated.License.Serial, Assert.Single(candidates).License.Serial);
        var state = (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value;
        Assert.Equal("90,30", state.GetString("BuiltFor"));
        Assert.Null(state.GetString("RebuildingFor"));
    }

    [Fact]
    public async Task R9_a_live_owner_whose_scans_pause_over_a_weekend_keeps_the_index_through_its_every_minute_mail_dispatch()
    {
        var t = StoreUnderTest.Create(azurite);

        // A staging slot of 90,14 built the index on Wednesday; production's 90,30, first seen on Thursday, took it over.
        var wednesday = Instant.FromUtc(2026, 12, 2, 13, 0);
        await Store(t, new ReminderSchedule([90, 14]), wednesday).EnsureReminderIndexAsync(Ct);
        var clock = new FakeClock(wednesday + Duration.FromDays(1));
        var production = Store(t, ReminderSchedule.Default, clock);
        await production.EnsureReminderIndexAsync(Ct);

        // Production scans on weekdays only (0 0 13 * * 1-5): its last scan is Friday 13:00; its mail dispatch runs all weekend.
        clock.AdvanceDays(1);
        await production.EnsureReminderIndexAsync(Ct);
        var monday = clock.GetCurrentInstant() + Duration.FromDays(3);
        while (clock.GetCurrentInstant() < monday - Duration.FromMinutes(1))
        {
            clock.AdvanceMinutes(30);
            await production.KeepAliveAsync(Ct);
        }

        // On Monday the staging slot's scan is still refused: production's configuration is alive.
        var refused = await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => Store(t, new ReminderSchedule([90, 14]), monday).EnsureReminderIndexAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,14", "90,30"), refused.Conflict);
        Assert.Equal("90,30", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));
    }

    [Fact]
    public async Task R9_an_index_owner_recorded_by_older_code_without_a_configuration_row_is_dated_so_its_restart_does_not_take_the_index_back()
    {
        var t = StoreUnderTest.Create(azurite);
        await Store(t, ReminderSchedule.Default, Started).EnsureReminderIndexAsync(Ct);
        await t.Licenses.DeleteEntityAsync("~meta", "reminder-config|90,30"); // Data written before configurations had rows.

        // The first deploy of 90,14 takes the index over ...
        var production = Store(t, new ReminderSchedule([90, 14]), Started + Duration.FromHours(2));
        await production.EnsureReminderIndexAsync(Ct);
        Assert.Equal("90,14", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));

        // ... and a slot still on 90,30 that restarts an hour later does not date its configuration anew and take it back.
        var staging = Store(t, ReminderSchedule.Default, Started + Duration.FromHours(3));
        var refused = await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => staging.EnsureReminderIndexAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,30", "90,14"), refused.Conflict);
        Assert.Equal("90,14", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));
        Assert.NotNull((await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetInt64("ConfiguredSince"));
    }

    [Fact]
    public async Task R9_offsets_set_back_to_an_older_list_take_the_index_over_once_the_replaced_configuration_is_gone()
    {
        var t = StoreUnderTest.Create(azurite);
        await Store(t, ReminderSchedule.Default, Started).EnsureReminderIndexAsync(Ct);

        // The operator changes the offsets to 90,14: its hosts scan daily for three days.
        var changedClock = new FakeClock(Started + Duration.FromHours(1));
        var changed = Store(t, new ReminderSchedule([90, 14]), changedClock);
        for (var day = 0; day < 3; day++)
        {
            await changed.EnsureReminderIndexAsync(Ct);
            changedClock.AdvanceDays(1);
        }

        var lastScan = changedClock.GetCurrentInstant() - Duration.FromDays(1);

        // Then sets them back to 90,30: a configuration first seen earlier, so refused while 90,14 may still be alive.
        var backClock = new FakeClock(lastScan + Duration.FromHours(1));
        var back = Store(t, ReminderSchedule.Default, backClock);
        await Assert.ThrowsAsync<ReminderOffsetsConflictException>(() => back.EnsureReminderIndexAsync(Ct));
        Assert.Equal(new ReminderOffsetsConflict("90,30", "90,14"), await back.CheckAsync(Ct));

        backClock.Reset(lastScan + TableLicenseStore.ReminderConfigurationGoneAfter + Duration.FromMinutes(1));
        await back.EnsureReminderIndexAsync(Ct);
        Assert.Null(await back.CheckAsync(Ct));
        Assert.Equal("90,30", (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "reminder-index")).Value.GetString("BuiltFor"));
    }

    [Fact]
    public async Task R9_rows_confirmed_under_offsets_set_back_again_are_not_trusted_for_what_changed_in_between()
    {
        var t = StoreUnderTest.Create(azurite);
        var first = Store(t, ReminderSchedule.Default, Started);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial("FF"), customerId: "FF");
        Assert.NotNull(await first.AddAsync(activated.License, activated.Event, Ct)); // its reminder rows confirmed under 90,30
        await first.EnsureReminderIndexAsync(Ct);

        // 90,14 takes the index over and renews the license: its writes know 90,14 alone, so the 90,30 rows of the old
        // term stay as they were, confirmed with the license as it was.
        var changedClock = new FakeClock(Started + Duration.FromHours(1));
        var changed = Store(t, new ReminderSchedule([90, 14]), changedClock);
        await changed.EnsureReminderIndexAsync(Ct);
        var current = (await changed.GetAsync(activated.License.Serial, Ct))!;
        var renewal = TestLicenses.Renew(current.License, "PO-FF");
        var renewed = await changed.UpdateAsync(current, renewal.License, renewal.Event, Ct);
        Assert.NotNull(renewed);

        // Set back to 90,30 once 90,14 is gone: the scan lists the license as it is now, never the old term's copy.
        var back = Store(t, ReminderSchedule.Default, changedClock.GetCurrentInstant() + TableLicenseStore.ReminderConfigurationGoneAfter + Duration.FromMinutes(1));
        var candidates = await CandidatesAsync(back, new LocalDate(2099, 1, 1));

        var only = Assert.Single(candidates);
        Assert.Equal(renewed.ConcurrencyToken, only.ConcurrencyToken);
        Assert.Equal(renewed.License.ExpiresOn, only.License.ExpiresOn);
    }

    private static async Task<List<StoredLicense>> CandidatesAsync(TableLicenseStore store, LocalDate dueOnOrBefore)
    {
        var candidates = new List<StoredLicense>();
        await foreach (var stored in store.ListReminderCandidatesAsync(dueOnOrBefore, Ct))
        {
            candidates.Add(stored);
        }

        return candidates;
    }

    private TableLicenseStore Store(StoreUnderTest t, ReminderSchedule reminders, Instant startedAt) =>
        Store(t, reminders, new FakeClock(startedAt));

    private TableLicenseStore Store(StoreUnderTest t, ReminderSchedule reminders, IClock clock) =>
        new(azurite.CreateServiceClient(), new TableLicenseStoreOptions
        {
            LicensesTable = t.Options.LicensesTable,
            IndexTable = t.Options.IndexTable,
            Reminders = reminders,
            ReminderRebuildPageSize = 1,
            Clock = clock,
        });

    private static async Task<List<string>> ReminderRowsAsync(StoreUnderTest t)
    {
        var rows = new List<string>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"reminders"}")))
        {
            rows.Add(row.RowKey);
        }

        return rows;
    }
}
