using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// R9 with two configurations of <c>Smp:Reminders</c> over the same tables: the reminder index belongs to the newest
/// configuration that started its rebuild; its state row is written under ETags only, so concurrent writers never
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
        Assert.Equal((Started + Duration.FromHours(2)).ToUnixTimeTicks(), state.GetInt64("ConfiguredSince"));

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

    private static async Task<List<StoredLicense>> CandidatesAsync(TableLicenseStore store, LocalDate dueOnOrBefore)
    {
        var candidates = new List<StoredLicense>();
        await foreach (var stored in store.ListReminderCandidatesAsync(dueOnOrBefore, Ct))
        {
            candidates.Add(stored);
        }

        return candidates;
    }

    private TableLicenseStore Store(StoreUnderTest t, ReminderSchedule reminders, Instant configuredAt) =>
        new(azurite.CreateServiceClient(), new TableLicenseStoreOptions
        {
            LicensesTable = t.Options.LicensesTable,
            IndexTable = t.Options.IndexTable,
            Reminders = reminders,
            ReminderRebuildPageSize = 1,
            ConfiguredAt = configuredAt,
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
