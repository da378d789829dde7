using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;
using Xunit.Abstractions;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// An activation on Table Storage adds a new serial's license without reading its summary first; a serial already
/// stored (in either layout of the licenses table) is read only after the add is refused, and answers what a read first
/// answered; what the refused add wrote ahead is removed again. What a replay costs is counted here.
/// </summary>
public sealed class ActivationWithoutReadOnTablesTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 14, 16, 5);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_new_activation_reads_no_summary_and_a_replay_or_a_conflicting_one_reads_it_twice_and_leaves_storage_as_it_was()
    {
        var counter = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var t = StoreUnderTest.Create(azurite, options);
        var clock = new FakeClock(Start);
        var service = Service(t.Store, clock);

        // First use: the tables, the records of the store, the owner of the reminder index.
        Assert.Equal(CommandOutcome.Created, (await service.ActivateAsync(TestLicenses.Activation(TestLicenses.NewSerial("WARM")), TestLicenses.Context, Ct)).Outcome);

        var serial = TestLicenses.NewSerial("NEW");
        var request = TestLicenses.Activation(serial, customerId: "ACME-RPL", onSiteTraining: true);
        counter.Reset();
        var created = await service.ActivateAsync(request, TestLicenses.Context, Ct);
        var newRequests = counter.Describe();

        Assert.Equal(CommandOutcome.Created, created.Outcome);
        Assert.Equal(0, counter.SummaryReads(t.Options.LicensesTable, serial));

        var before = await t.SnapshotAsync();
        var ahead = before.Keys.Count(k => k.Table == t.Options.IndexTable && before[k].GetString("Serial") == serial.Value);

        // The same activation again, a few minutes later: the add's first batch (the search rows) is refused, the summary
        // found, and nothing written; then the summary is read and decided on.
        clock.Advance(Duration.FromMinutes(3));
        counter.Reset();
        var replay = await service.ActivateAsync(request, TestLicenses.Context, Ct);
        var replayRequests = counter.Describe();

        Assert.Equal(CommandOutcome.Unchanged, replay.Outcome);
        Assert.Equal((created.License!.Version, created.License.ConcurrencyToken), (replay.License!.Version, replay.License.ConcurrencyToken));
        Assert.Equal(LicenseJsonMapper.Serialize(created.License.License), LicenseJsonMapper.Serialize(replay.License.License));
        // Once by the add, whose search batch was refused (is the serial stored?), once by the activation to decide.
        Assert.Equal(2, counter.SummaryReads(t.Options.LicensesTable, serial));
        await AssertUnchangedAsync(t, before);

        // Another customer, name and contacts for the same serial: a conflict, and again nothing of it stays.
        clock.Advance(Duration.FromMinutes(3));
        counter.Reset();
        var other = TestLicenses.Activation(serial, customerId: "GLOBEX-RPL", customerName: "Globex Gears") with { Contacts = [EmailAddress.Parse("ops@globex.example")] };
        var conflict = await service.ActivateAsync(other, TestLicenses.Context, Ct);
        var conflictRequests = counter.Describe();

        Assert.Equal(CommandOutcome.Conflict, conflict.Outcome);
        Assert.Equal(created.License.ConcurrencyToken, conflict.License!.ConcurrencyToken);
        Assert.Equal(2, counter.SummaryReads(t.Options.LicensesTable, serial));
        await AssertUnchangedAsync(t, before);

        output.WriteLine($"{ahead} rows written ahead of a new license. A new activation: {newRequests}. Its replay: {replayRequests}. A conflicting one: {conflictRequests}.");
    }

    [Fact]
    public async Task A_repeated_or_conflicting_large_activation_costs_a_small_constant_and_a_new_one_seven_requests()
    {
        var counter = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var t = StoreUnderTest.Create(azurite, options);
        var clock = new FakeClock(Start);
        var service = Service(t.Store, clock);
        Assert.Equal(CommandOutcome.Created, (await service.ActivateAsync(TestLicenses.Activation(TestLicenses.NewSerial("WARM")), TestLicenses.Context, Ct)).Outcome);

        // A large license: 66 name words and 20 contacts, each a row of the search partition.
        var serial = TestLicenses.NewSerial("BIG");
        var name = string.Join(' ', Enumerable.Range(1, 66).Select(i => $"Word{i:D2}"));
        var request = TestLicenses.Activation(serial, customerId: "ACME-BIG", customerName: name)
            with { Contacts = [.. Enumerable.Range(1, 20).Select(i => EmailAddress.Parse($"c{i:D2}@acme.example"))] };
        counter.Reset();
        Assert.Equal(CommandOutcome.Created, (await service.ActivateAsync(request, TestLicenses.Context, Ct)).Outcome);
        var newCost = counter.Describe();
        Assert.True(counter.Requests == 7, newCost);
        var before = await t.SnapshotAsync();

        // The identical repeat: the search batch refused, the summary found, the license read and decided on.
        clock.Advance(Duration.FromMinutes(3));
        counter.Reset();
        Assert.Equal(CommandOutcome.Unchanged, (await service.ActivateAsync(request, TestLicenses.Context, Ct)).Outcome);
        var repeatCost = counter.Describe();
        Assert.True(counter.Requests == 3, repeatCost);
        await AssertUnchangedAsync(t, before);

        // A conflicting one (other customer, name and contacts): the same.
        clock.Advance(Duration.FromMinutes(3));
        counter.Reset();
        var other = TestLicenses.Activation(serial, customerId: "GLOBEX-BIG", customerName: "Globex " + name)
            with { Contacts = [.. Enumerable.Range(1, 20).Select(i => EmailAddress.Parse($"g{i:D2}@globex.example"))] };
        Assert.Equal(CommandOutcome.Conflict, (await service.ActivateAsync(other, TestLicenses.Context, Ct)).Outcome);
        var conflictCost = counter.Describe();
        Assert.True(counter.Requests == 3, conflictCost);
        await AssertUnchangedAsync(t, before);

        output.WriteLine($"A new large activation: {newCost}. Its repeat: {repeatCost}. A conflicting one: {conflictCost}.");
    }

    /// <summary>Every row as it was: the same keys with the same ETags.</summary>
    private static async Task AssertUnchangedAsync(StoreUnderTest t, Dictionary<(string Table, string PartitionKey, string RowKey), TableEntity> before)
    {
        var now = await t.SnapshotAsync();
        Assert.Equal(before.Keys.Order(), now.Keys.Order());
        Assert.All(before, row => Assert.Equal(row.Value.ETag, now[row.Key].ETag));
    }

    [Fact]
    public async Task An_activation_of_a_serial_stored_under_the_first_layout_answers_what_a_read_first_answers_and_moves_it()
    {
        var source = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Start);
        var serial = TestLicenses.NewSerial("OLD");
        var request = TestLicenses.Activation(serial, customerId: "ACME-OLD");
        var stored = (await Service(source.Store, clock).ActivateAsync(request, TestLicenses.Context, Ct)).License!;

        foreach (var (other, expected) in new[] { (request, CommandOutcome.Unchanged), (request with { OnSiteTraining = true }, CommandOutcome.Conflict) })
        {
            var old = await FirstLayoutCopyAsync(source);
            var store = new TableLicenseStore(azurite.CreateServiceClient(), old.Options);
            clock.Advance(Duration.FromMinutes(1));

            var result = await Service(store, clock).ActivateAsync(other, TestLicenses.Context, Ct);

            Assert.Equal(expected, result.Outcome);
            Assert.Equal(expected == CommandOutcome.Conflict, result.Detail?.Contains(serial.Value, StringComparison.Ordinal) == true);
            Assert.Equal((1L, LicenseJsonMapper.Serialize(stored.License)), (result.License!.Version, LicenseJsonMapper.Serialize(result.License.License)));

            // The license was moved to the current layout on the way, and no second license or event was stored.
            var rows = await old.PartitionAsync(serial.Value);
            Assert.Equal(
                [LicenseEntities.EventRowKey(serial, 1), LicenseEntities.SummaryRowKey(serial)],
                rows.Select(r => r.RowKey).Order(StringComparer.Ordinal));
        }
    }

    private static LicenseService Service(ILicenseStore store, IClock clock) =>
        new(store, new BusinessCalendar(clock, TestLicenses.Zone), new PlanOptions(PlanOptions.DefaultProductName));

    /// <summary>The source's rows in new tables, as the licenses table's first layout stored them (no layout record); index rows as they are.</summary>
    private async Task<StoreUnderTest> FirstLayoutCopyAsync(StoreUnderTest source)
    {
        var copy = StoreUnderTest.Create(azurite);
        await copy.Licenses.CreateAsync(Ct);
        await copy.Index.CreateAsync(Ct);
        foreach (var ((table, _, _), row) in await source.SnapshotAsync())
        {
            if (row.PartitionKey == LicenseLayoutMigration.MetaPartition && row.RowKey == LicenseLayoutMigration.LayoutRow)
            {
                continue;
            }

            var rowKey = table != source.Options.LicensesTable ? row.RowKey
                : row.RowKey == LicenseEntities.SummaryRowKeyOf(row.PartitionKey) ? LicenseEntities.LegacySummaryRowKey
                : row.RowKey.StartsWith("event|", StringComparison.Ordinal) ? LicenseEntities.LegacyEventRowKey(row.GetInt64(LicenseEntities.VersionColumn)!.Value)
                : row.RowKey;
            var entity = new TableEntity(row.PartitionKey, rowKey);
            foreach (var (name, value) in row)
            {
                if (name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
                {
                    entity[name] = value;
                }
            }

            await (table == source.Options.LicensesTable ? copy.Licenses : copy.Index).AddEntityAsync(entity, Ct);
        }

        return copy;
    }

    /// <summary>Counts the requests the store's client sends, by method and kind.</summary>
    private sealed class RequestCounter : HttpPipelinePolicy
    {
        private readonly ConcurrentQueue<(string Method, string Uri)> requests = new();

        public int Requests => requests.Count;

        public void Reset() => requests.Clear();

        /// <summary>Point reads of the summary of <paramref name="serial"/>.</summary>
        public int SummaryReads(string licensesTable, Serial serial) =>
            requests.Count(r => r.Method == "GET" && r.Uri.Contains($"/{licensesTable}(PartitionKey='{LicenseEntities.PartitionKey(serial)}',RowKey='{LicenseEntities.SummaryRowKey(serial)}')", StringComparison.Ordinal));

        public string Describe() =>
            $"{requests.Count} requests (" + string.Join(", ", requests.GroupBy(r => r.Method + " " + Kind(r.Uri)).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}")) + ")";

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Record(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Record(message);
            return ProcessNextAsync(message, pipeline);
        }

        private static string Kind(string uri) =>
            uri.Contains("$batch", StringComparison.Ordinal) ? "transaction"
            : uri.Contains("PartitionKey='~meta'", StringComparison.Ordinal) ? "record"
            : uri.Contains("(PartitionKey=", StringComparison.Ordinal) ? "row" : "table";

        private void Record(HttpMessage message) =>
            requests.Enqueue((message.Request.Method.Method, Uri.UnescapeDataString(message.Request.Uri.ToString())));
    }
}
