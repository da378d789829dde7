using Azure.Core;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Azure.Tests.Faults;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// SPEC section 8, the dashboard's latest events and count of current licenses, answered from rows kept for them
/// (never by reading every license), and safe across a crash at the write that records an event's place.
/// </summary>
public sealed class LatestEventsOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 3, 14, 16, 0);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Section8_the_latest_events_are_newest_first_and_at_most_the_number_asked_for()
    {
        var t = StoreUnderTest.Create(azurite);
        var serials = new List<Serial>();
        for (var i = 0; i < 5; i++)
        {
            var activated = TestLicenses.Activate(TestLicenses.NewSerial());
            Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event with { At = T0 + Duration.FromMinutes(i) }, Ct));
            serials.Add(activated.License.Serial);
        }

        var latest = await t.Store.ListLatestEventsAsync(3, Ct);

        Assert.Equal([serials[4], serials[3], serials[2]], latest.Select(e => e.Serial));
        Assert.Equal(T0 + Duration.FromMinutes(4), latest[0].Event.At);
        Assert.All(latest, e => Assert.Equal(LicenseEventTypes.Activated, e.Event.Type));
    }

    [Fact]
    public async Task Section8_a_read_of_the_latest_events_prunes_the_rows_older_than_the_retention_before_the_newest()
    {
        var t = StoreUnderTest.Create(azurite);
        var old = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(old.License, old.Event with { At = T0 - TableLicenseStore.RecentRetention - Duration.FromDays(1) }, Ct));
        var kept = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(kept.License, kept.Event with { At = T0 - TableLicenseStore.RecentRetention + Duration.FromDays(1) }, Ct));
        var latest = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(latest.License, latest.Event with { At = T0 }, Ct));

        Assert.Equal([latest.License.Serial], (await t.Store.ListLatestEventsAsync(1, Ct)).Select(e => e.Serial));

        Assert.Equal([latest.License.Serial.Value, kept.License.Serial.Value], (await RecentRowsAsync(t)).Select(r => r.GetString("Serial")));
        Assert.NotNull(await t.Store.GetAsync(old.License.Serial, Ct));
    }

    [Fact]
    public async Task Section8_a_prune_whose_transaction_meets_a_row_another_pruner_removed_deletes_the_rest_one_by_one()
    {
        var t = StoreUnderTest.Create(azurite);
        var before = T0 - TableLicenseStore.RecentRetention;

        // 105 rows older than the retention (one more than a transaction deletes) and one within it.
        await t.Index.CreateIfNotExistsAsync(Ct);
        var old = Enumerable.Range(0, 105).Select(i => RecentRow(before - Duration.FromMinutes(i + 1), TestLicenses.NewSerial())).ToList();
        foreach (var chunk in old.Chunk(100))
        {
            await t.Index.SubmitTransactionAsync(chunk.Select(row => new TableTransactionAction(TableTransactionActionType.Add, row)), Ct);
        }

        var kept = RecentRow(before + Duration.FromMinutes(1), TestLicenses.NewSerial());
        await t.Index.AddEntityAsync(kept, Ct);

        // The rows are read newest first; once the first transaction (100 rows) committed, another pruner removes one of
        // the five left, so the second transaction names a row that is gone and storage refuses it as a whole.
        var reported = new List<int>();
        void Removed(int count)
        {
            reported.Add(count);
            if (reported.Count == 1)
            {
                t.Index.DeleteEntity(TableLicenseStore.RecentPartition, old[102].RowKey, global::Azure.ETag.All, Ct);
            }
        }

        var total = await t.Store.PruneLatestEventsAsync(before, 1000, Removed, Ct);

        Assert.Equal(105, total);
        Assert.Equal([100, 1, 1, 1, 1, 1], reported);
        Assert.Equal([kept.RowKey], (await RecentRowsAsync(t)).Select(r => r.RowKey));
    }

    [Fact]
    public async Task Section8_a_change_that_crashed_after_recording_its_place_is_not_shown_and_shows_once_when_run_again()
    {
        var t = StoreUnderTest.Create(azurite);
        var first = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(first.License, first.Event, Ct));

        // How many writes an activation makes: its last is the confirm of its reminder rows, the one before it the
        // transaction, written after the event's place.
        var counter = new ProcessCrashPolicy();
        var counted = new TableLicenseStore(azurite.CreateServiceClient(Through(counter)), t.Options);
        var other = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await counted.TryAddAsync(other.License, other.Event with { At = T0 - Duration.FromHours(1) }, Ct));
        counter.Reset();
        var probe = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await counted.TryAddAsync(probe.License, probe.Event with { At = T0 - Duration.FromHours(2) }, Ct));
        var writes = counter.Writes;

        // The process dies just before the transaction: the event's place is written, the event is not.
        var crash = new ProcessCrashPolicy();
        var dying = new TableLicenseStore(azurite.CreateServiceClient(Through(crash)), t.Options);
        var second = TestLicenses.Activate(TestLicenses.NewSerial());
        var late = second.Event with { At = T0 + Duration.FromHours(1) };
        Assert.Null(await dying.GetAsync(second.License.Serial, Ct));
        crash.Arm(writes - 1, CrashTiming.BeforeWrite);
        await Assert.ThrowsAnyAsync<Exception>(() => dying.TryAddAsync(second.License, late, Ct));
        Assert.True(crash.Crashed);
        Assert.Null(await t.Store.GetAsync(second.License.Serial, Ct));
        Assert.Contains(await RecentRowsAsync(t), row => row.GetString("Serial") == second.License.Serial.Value);

        var restarted = new TableLicenseStore(azurite.CreateServiceClient(), t.Options);
        Assert.Equal([first.License.Serial, other.License.Serial, probe.License.Serial], (await restarted.ListLatestEventsAsync(10, Ct)).Select(e => e.Serial));

        // Run again: the change is stored and its event shown once, first.
        Assert.True(await restarted.TryAddAsync(second.License, late, Ct));
        Assert.Equal([second.License.Serial, first.License.Serial, other.License.Serial, probe.License.Serial], (await restarted.ListLatestEventsAsync(10, Ct)).Select(e => e.Serial));
    }

    [Fact]
    public async Task Section8_a_change_that_lost_the_race_for_its_version_is_never_shown_and_its_row_is_removed()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
        var current = (await t.Store.GetAsync(activated.License.Serial, Ct))!;

        var training = TestLicenses.RecordTraining(current.License);
        var contacts = TestLicenses.ReplaceContacts(current.License, "new.buyer@acme.example");
        Assert.True(await t.Store.TryUpdateAsync(current, training.License, training.Event, Ct));
        Assert.False(await t.Store.TryUpdateAsync(current, contacts.License, contacts.Event, Ct));
        Assert.Equal(3, (await RecentRowsAsync(t)).Count);

        var latest = await t.Store.ListLatestEventsAsync(10, Ct);

        Assert.Equal([LicenseEventTypes.TrainingRecorded, LicenseEventTypes.Activated], latest.Select(e => e.Event.Type));
        Assert.Equal(2, (await RecentRowsAsync(t)).Count);
    }

    [Fact]
    public async Task Section8_the_count_of_current_licenses_reads_only_expiry_index_rows_and_counts_each_license_once()
    {
        var t = StoreUnderTest.Create(azurite);
        var expiring = new List<LocalDate>();
        foreach (var sentAt in new[] { Instant.FromUtc(2025, 12, 14, 17, 0), T0, T0, T0 + Duration.FromDays(40) })
        {
            var activated = TestLicenses.Activate(TestLicenses.Activation(TestLicenses.NewSerial()) with { ActivationEmailSentAt = sentAt });
            Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
            expiring.Add(activated.License.ExpiresOn);
        }

        var today = new LocalDate(2026, 3, 20);

        // A renewal interrupted before its old expiry row was retired leaves two rows of one license.
        var renewedSerial = (await t.Store.ListExpiringAsync(today, LocalDate.MaxIsoValue, Ct).FirstAsync()).License;
        var stored = (await t.Store.GetAsync(renewedSerial.Serial, Ct))!;
        var renewal = TestLicenses.Renew(stored.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(stored, renewal.License, renewal.Event, Ct));
        await t.Index.UpsertEntityAsync(new TableEntity("expires", $"{stored.License.ExpiresOn:yyyy-MM-dd}|{TableKey.Encode(stored.License.Serial.Value)}") { ["Serial"] = stored.License.Serial.Value, ["Version"] = 1L }, cancellationToken: Ct);

        Assert.Equal(expiring.Count(d => d >= today), await t.Store.CountExpiringOnOrAfterAsync(today, Ct));
        Assert.Equal(3, await t.Store.CountExpiringOnOrAfterAsync(today, Ct));
    }

    /// <summary>A row among the latest events as a change writes it: its key sorts newest first (inverted ticks, serial, version).</summary>
    private static TableEntity RecentRow(Instant at, Serial serial) =>
        new(TableLicenseStore.RecentPartition, $"{long.MaxValue - at.ToUnixTimeTicks():D19}|{TableKey.Encode(serial.Value)}|{1L:D19}")
        {
            ["Serial"] = serial.Value,
            ["Version"] = 1L,
        };

    private static TableClientOptions Through(ProcessCrashPolicy policy)
    {
        var options = new TableClientOptions();
        options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        return options;
    }

    private static async Task<List<TableEntity>> RecentRowsAsync(StoreUnderTest t)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {TableLicenseStore.RecentPartition}"), cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }
}
