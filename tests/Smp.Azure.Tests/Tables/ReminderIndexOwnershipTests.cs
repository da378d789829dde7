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
