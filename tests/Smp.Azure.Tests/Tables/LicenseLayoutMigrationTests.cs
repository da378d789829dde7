using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Tables;
using Smp.Azure.Tests.Faults;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// The licenses table's first layout (every summary under row key <c>license</c>, every event under
/// <c>event-{version}</c>) moves to the current one (row keys that name the serial) with
/// <see cref="LicenseLayoutMigration"/>: the store reads the old rows until then, a move that dies at any write is
/// finished by running it again, and every reading gives the same answer before, during and after.
/// </summary>
public sealed class LicenseLayoutMigrationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 14, 16, 0);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task New_rows_have_row_keys_unique_across_the_table_and_a_new_store_records_the_layout()
    {
        var (source, _) = await SourceAsync();

        var rows = await RowsAsync(source.Licenses);
        var licenseRows = rows.Where(r => r.PartitionKey != LicenseLayoutMigration.MetaPartition).ToList();
        Assert.NotEmpty(licenseRows);
        Assert.Equal(licenseRows.Count, licenseRows.Select(r => r.RowKey).Distinct(StringComparer.Ordinal).Count());
        Assert.All(licenseRows, r => Assert.Contains(r.PartitionKey, r.RowKey, StringComparison.Ordinal));
        Assert.True(await LicenseLayoutMigration.IsRecordedAsync(source.Licenses, Ct));
    }

    [Fact]
    public async Task A_store_on_the_first_layout_reads_every_license_the_same_and_moves_each_one_it_writes()
    {
        var (source, serials) = await SourceAsync();
        var expected = await ReadAllAsync(source.Store, serials);
        var old = await OldLayoutCopyAsync(source);

        var store = new TableLicenseStore(azurite.CreateServiceClient(), old.Options);

        // A listing hands out a license under its old keys; a write from it is refused and the license moved, and the
        // write made again from a fresh read lands in the current layout with the whole history.
        var listed = await store.ListAllAsync(null, 100, _ => { }, Ct).FirstAsync(l => l.License.Serial == serials[1]);
        var renewal = TestLicenses.Renew(listed.License, "PO-MOVE");
        Assert.False(await store.TryUpdateAsync(listed, renewal.License, renewal.Event, Ct));
        var fresh = (await store.GetAsync(serials[1], Ct))!;
        Assert.Equal(listed.Version, fresh.Version);
        Assert.True(await store.TryUpdateAsync(fresh, renewal.License, renewal.Event, Ct));
        var rows = await old.PartitionAsync(serials[1].Value);
        Assert.Equal(
            [LicenseEntities.EventRowKey(serials[1], 1), LicenseEntities.EventRowKey(serials[1], 2), LicenseEntities.SummaryRowKey(serials[1])],
            rows.Select(r => r.RowKey).Order(StringComparer.Ordinal));

        // Every reading of a store still wholly on the old keys gives what the same licenses read before.
        var untouched = new TableLicenseStore(azurite.CreateServiceClient(), (await OldLayoutCopyAsync(source)).Options);
        Assert.Equal(expected, await ReadAllAsync(untouched, serials));

        // Adding a serial stored under the old keys is refused, as for any stored serial.
        var other = new TableLicenseStore(azurite.CreateServiceClient(), (await OldLayoutCopyAsync(source)).Options);
        var duplicate = TestLicenses.Activate(serials[0]);
        Assert.False(await other.TryAddAsync(duplicate.License, duplicate.Event, Ct));
        Assert.Equal(expected, await ReadAllAsync(other, serials));
    }

    [Fact]
    public async Task The_migration_interrupted_at_any_write_and_run_again_moves_every_license_once_and_everything_reads_the_same()
    {
        var (source, serials) = await SourceAsync();
        var expected = await ReadAllAsync(source.Store, serials);

        // How many writes a whole run makes.
        var counting = await OldLayoutCopyAsync(source);
        var counter = new ProcessCrashPolicy();
        Assert.Equal(serials.Length, await Migration(counting, counter).RunAsync(null, Ct));
        var writes = counter.Writes;
        Assert.True(writes > serials.Length * 3, $"only {writes} writes");
        await AssertCurrentLayoutAsync(counting, serials, expected);

        foreach (var timing in new[] { CrashTiming.BeforeWrite, CrashTiming.AfterWrite })
        {
            for (var write = 1; write <= writes; write++)
            {
                var t = await OldLayoutCopyAsync(source);
                var crash = new ProcessCrashPolicy();
                crash.Arm(write, timing);
                await Assert.ThrowsAsync<SimulatedCrashException>(() => Migration(t, crash).RunAsync(null, Ct));

                // Half moved: a store (a new process) reads every license as before.
                var during = new TableLicenseStore(azurite.CreateServiceClient(), t.Options);
                Assert.Equal(expected, await ReadAllAsync(during, serials));

                // Run again: done, and a third run finds nothing to do.
                await Migration(t, new ProcessCrashPolicy()).RunAsync(null, Ct);
                await AssertCurrentLayoutAsync(t, serials, expected);
                var before = await RowsAsync(t.Licenses);
                Assert.Equal(0, await Migration(t, new ProcessCrashPolicy()).RunAsync(null, Ct));
                Assert.Equal(Keys(before), Keys(await RowsAsync(t.Licenses)));
            }
        }
    }

    private LicenseLayoutMigration Migration(StoreUnderTest t, HttpPipelinePolicy policy)
    {
        var options = new TableClientOptions();
        options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        options.Retry.MaxRetries = 0;
        return new LicenseLayoutMigration(azurite.CreateServiceClient(options), t.Options.LicensesTable);
    }

    private async Task AssertCurrentLayoutAsync(StoreUnderTest t, Serial[] serials, List<string> expected)
    {
        var rows = await RowsAsync(t.Licenses);
        Assert.DoesNotContain(rows, r => r.RowKey == LicenseEntities.LegacySummaryRowKey || r.RowKey.StartsWith(LicenseEntities.LegacyEventRowKeyPrefix, StringComparison.Ordinal));
        foreach (var serial in serials)
        {
            Assert.Single(rows, r => r.RowKey == LicenseEntities.SummaryRowKey(serial));
        }

        Assert.True(await LicenseLayoutMigration.IsRecordedAsync(t.Licenses, Ct));
        var after = new TableLicenseStore(azurite.CreateServiceClient(), t.Options);
        Assert.Equal(expected, await ReadAllAsync(after, serials));
    }

    /// <summary>Licenses with a few histories, written by the store in the current layout: one with more events than one transaction copies.</summary>
    private async Task<(StoreUnderTest Store, Serial[] Serials)> SourceAsync()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Start);
        var service = new LicenseService(t.Store, new BusinessCalendar(clock, TestLicenses.Zone), new PlanOptions(PlanOptions.DefaultProductName));
        var serials = new[] { TestLicenses.NewSerial("MIG"), TestLicenses.NewSerial("MIG"), TestLicenses.NewSerial("MIG") };
        await service.ActivateAsync(TestLicenses.Activation(serials[0], customerId: "MIG-A", onSiteTraining: true), TestLicenses.Context, Ct);
        await service.ActivateAsync(TestLicenses.Activation(serials[1], customerId: "MIG-A"), TestLicenses.Context, Ct);
        await service.ActivateAsync(TestLicenses.Activation(serials[2], customerId: "MIG-B"), TestLicenses.Context, Ct);
        await service.RecordTrainingAsync(serials[0], TestLicenses.Context, Ct);
        for (var i = 0; i < 27; i++)
        {
            var renewal = new RenewalRequest(string.Create(CultureInfo.InvariantCulture, $"PO-{i:D2}"), 12, null);
            Assert.Equal(CommandOutcome.Updated, (await service.RenewAsync(serials[2], renewal, TestLicenses.Context, Ct)).Outcome);
        }

        return (t, serials);
    }

    /// <summary>The source's rows in new tables, as the first layout stored them (no layout record); index rows as they are.</summary>
    private async Task<StoreUnderTest> OldLayoutCopyAsync(StoreUnderTest source)
    {
        var copy = StoreUnderTest.Create(azurite);
        await copy.Licenses.CreateAsync(Ct);
        await copy.Index.CreateAsync(Ct);
        foreach (var row in await RowsAsync(source.Licenses))
        {
            if (row.PartitionKey == LicenseLayoutMigration.MetaPartition && row.RowKey == LicenseLayoutMigration.LayoutRow)
            {
                continue;
            }

            var rowKey = row.RowKey == LicenseEntities.SummaryRowKeyOf(row.PartitionKey)
                ? LicenseEntities.LegacySummaryRowKey
                : row.RowKey.StartsWith("event|", StringComparison.Ordinal)
                    ? LicenseEntities.LegacyEventRowKey(row.GetInt64(LicenseEntities.VersionColumn)!.Value)
                    : row.RowKey;
            await copy.Licenses.AddEntityAsync(Copy(row, rowKey), Ct);
        }

        foreach (var row in await RowsAsync(source.Index))
        {
            await copy.Index.AddEntityAsync(Copy(row, row.RowKey), Ct);
        }

        Assert.Contains(await RowsAsync(copy.Licenses), r => r.RowKey == LicenseEntities.LegacySummaryRowKey);
        return copy;
    }

    /// <summary>Everything a reader sees of the licenses, as text: each license with its version and events, the listings.</summary>
    private static async Task<List<string>> ReadAllAsync(TableLicenseStore store, Serial[] serials)
    {
        var seen = new List<string>();
        foreach (var serial in serials)
        {
            var stored = (await store.GetAsync(serial, Ct))!;
            var events = await store.GetEventsAsync(serial, Ct);
            seen.Add($"{serial} v{stored.Version} v{await store.GetVersionAsync(serial, Ct)} {LicenseJsonMapper.Serialize(stored.License)} "
                + string.Join(" / ", events.Select(e => $"{e.Type} {e.At} {e.Actor} {e.CorrelationId} {LicenseJsonMapper.SerializeEventData(e.Data)}")));
        }

        var all = await store.ListAllAsync(null, 2, _ => throw new InvalidOperationException("unreadable"), Ct).ToListAsync();
        seen.Add("all: " + string.Join(' ', all.Select(l => $"{l.License.Serial} v{l.Version}")));
        foreach (var customer in new[] { "MIG-A", "MIG-B" })
        {
            var listed = await store.ListByCustomerAsync(customer, Ct).ToListAsync();
            seen.Add($"{customer}: " + string.Join(' ', listed.Select(l => $"{l.License.Serial} v{l.Version}").Order(StringComparer.Ordinal)));
        }

        return seen;
    }

    private static TableEntity Copy(TableEntity row, string rowKey)
    {
        var entity = new TableEntity(row.PartitionKey, rowKey);
        foreach (var (name, value) in row)
        {
            if (name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
            {
                entity[name] = value;
            }
        }

        return entity;
    }

    private static async Task<List<TableEntity>> RowsAsync(TableClient table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }

    private static string[] Keys(List<TableEntity> rows) =>
        [.. rows.Select(r => $"{r.PartitionKey} {r.RowKey} {r.ETag}").Order(StringComparer.Ordinal)];
}
