using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Licenses;
using Smp.TestSupport;
using Xunit.Abstractions;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// R9 "one scan must not read every license": the app's own table client counts what it asks of storage, and a
/// scan over many stored licenses, few of them due, must read in proportion to the reminders due.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReminderScanCostTests : IDisposable
{
    private const int Stored = 200;
    private const int Due = 5;

    /// <summary>Per reminder due, a scan may read the license a few times (candidate, then read-modify-write) and its index rows.</summary>
    private const int ReadsPerReminder = 10;

    private readonly StorageCounter _counter = new();
    private readonly ApiHarness _api;

    private readonly ITestOutputHelper _output;

    private readonly string _azuriteConnection;

    public ReminderScanCostTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _output = output;
        _azuriteConnection = azurite.ConnectionString;
        var options = new TableClientOptions();
        options.AddPolicy(_counter, HttpPipelinePosition.PerCall);
        _api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 12, 1), services: services =>
            services.AddSingleton(new TableServiceClient(azurite.ConnectionString, options)));
    }

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task R9_a_scan_reads_in_proportion_to_the_reminders_due_not_to_the_licenses_stored()
    {
        // 195 one-year plans expiring from May to December 2027 (no reminder due in January), and 5 expiring on
        // 1 April 2027 whose 90-day reminder is due on 1 January 2027; all of different customers.
        var licenses = Enumerable.Range(0, Stored).Select(i => (
            Serial: $"VT-{i:D4}",
            Start: i < Due ? new LocalDate(2026, 4, 1) : new LocalDate(2026, 5 + (i % 8), 1),
            Customer: $"C-{i:D4}")).ToList();
        foreach (var chunk in licenses.Chunk(8))
        {
            await Task.WhenAll(chunk.Select(l => ActivateAsync(_api, l.Serial, l.Start, l.Customer, [$"{l.Customer.ToLowerInvariant()}@example.com"])));
        }

        _api.Clock.Reset(InDenver(2027, 1, 1));
        _counter.Reset();
        await RunScanAsync(_api);
        var scan = _counter.Snapshot();
        _output.WriteLine($"Scan with {Due} reminders due among {Stored} licenses: {scan}.");

        Assert.Equal(Due, (await UndeliveredAsync(_api)).Count);
        Assert.True(scan.EntitiesRead <= ReadsPerReminder * Due, $"The scan read {scan}; {Due} reminders were due among {Stored} licenses.");
        Assert.True(scan.Requests <= 2 * ReadsPerReminder * Due, $"The scan made {scan}; {Due} reminders were due among {Stored} licenses.");

        // Nothing is due any more today: a second scan reads next to nothing.
        _counter.Reset();
        await RunScanAsync(_api);
        var idle = _counter.Snapshot();
        _output.WriteLine($"Scan with nothing due: {idle}.");
        // One entity: the record of which offsets the reminder index was built for, read once per scan. The daily run
        // also makes one query for the latest events past their retention (SPEC section 8), which finds none here.
        Assert.InRange(idle.EntitiesRead, 0, 1);
        Assert.True(idle.Requests <= 3, $"An idle scan made {idle}.");
        Assert.Equal(Due, (await UndeliveredAsync(_api)).Count);
    }

    /// <summary>
    /// R9, the whole scan reads one entity per reminder due (its reminder row) besides the index record: the listing
    /// takes the license from the confirmed reminder row, proven current by a write under its copied ETag, and reads no
    /// license, the recording starts from it and writes
    /// under its ETag, the write's own answer gives the new state, and the reminder row is removed under the ETag the
    /// recording's own unconfirm answered. The same counts at two stored sizes.
    /// </summary>
    [Fact]
    public async Task R9_the_whole_scan_reads_one_entity_per_reminder_due_whatever_the_licenses_stored()
    {
        var small = await MeasureWholeScanAsync(stored: 2 * WholeScanDue);
        var large = await MeasureWholeScanAsync(stored: 6 * WholeScanDue);
        _output.WriteLine($"Whole scan, {WholeScanDue} reminders due: {small} at {2 * WholeScanDue} stored, {large} at {6 * WholeScanDue} stored.");

        // Flat: what the scan asks of storage for the licenses follows the reminders due, not the licenses stored.
        // (The reminder index's record and configuration rows are counted apart: the store rereads them on a timer.)
        Assert.Equal(small with { MetaRequests = 0, MetaEntities = 0 }, large with { MetaRequests = 0, MetaEntities = 0 });

        foreach (var scan in new[] { small, large })
        {
            // Per reminder due: its index row, read by the listing, and nothing else: no license is read.
            var entities = scan.EntitiesRead - scan.MetaEntities;
            Assert.True(
                entities <= WholeScanDue,
                $"The whole scan read {entities} entities besides the index record for {WholeScanDue} reminders due ({(double)entities / WholeScanDue:0.00} per reminder).");
            Assert.Equal(0, scan.LicenseReads);

            // Per reminder due: the listing's proof that the row's copy is the license as stored (a merge of nothing into
            // the summary under the copied ETag: a write, no entity read), the recording's unconfirm of its reminder rows
            // (one batch), its row among the latest events, its transaction, and the confirm of the rows kept with the
            // removal of the one sent (one batch); per mail the enqueue (one transaction); the index query, the daily
            // query for the latest events past their retention, and the outbox table's creation on its first use by the
            // process.
            var requests = scan.Requests - scan.MetaRequests;
            Assert.True(
                requests <= (5 * WholeScanDue) + (WholeScanDue / 4) + 3,
                $"The whole scan made {requests} storage requests besides the index record for {WholeScanDue} reminders due.");

            // The index record, read by the scan and, on a timer, by the writes; the configuration's lease.
            Assert.InRange(scan.MetaRequests, 0, 4);
        }
    }

    /// <summary>
    /// R9, the same through a store that wraps the table store (the crash tests' <see cref="CrashingLicenseStore"/>, set
    /// never to crash): the wrapper forwards the write that answers with the state it stored, so the scan reads no
    /// license back there either, and the crash tests run the scan's own write path.
    /// </summary>
    [Fact]
    public async Task R9_the_whole_scan_through_a_store_wrapper_reads_what_it_reads_without_one()
    {
        var direct = await MeasureWholeScanAsync(stored: 2 * WholeScanDue);
        var wrapped = await MeasureWholeScanAsync(stored: 2 * WholeScanDue, wrap: true);
        _output.WriteLine($"Whole scan, {WholeScanDue} reminders due: {direct} on the store, {wrapped} through a wrapper.");

        Assert.Equal(direct with { MetaRequests = 0, MetaEntities = 0 }, wrapped with { MetaRequests = 0, MetaEntities = 0 });
    }

    private const int WholeScanDue = 8;

    /// <summary>
    /// <paramref name="stored"/> licenses in a harness of their own, <see cref="WholeScanDue"/> of them due (four per
    /// customer, so mails carry several), and what one scan asked of storage.
    /// </summary>
    /// <param name="wrap">Whether the license store is wrapped (see <see cref="CrashingLicenseStore"/>, never crashing).</param>
    private async Task<StorageCounts> MeasureWholeScanAsync(int stored, bool wrap = false)
    {
        var counter = new StorageCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        using var api = new ApiHarness(_azuriteConnection, InDenver(2026, 12, 1), services: services =>
        {
            services.AddSingleton(new TableServiceClient(_azuriteConnection, options));
            if (wrap)
            {
                services.Decorate<ILicenseStore>((store, _) => new CrashingLicenseStore(store, crashOnUpdate: int.MaxValue));
            }
        });
        var licenses = Enumerable.Range(0, stored).Select(i => (
            Serial: $"WS-{i:D4}",
            Start: i < WholeScanDue ? new LocalDate(2026, 4, 1) : new LocalDate(2026, 5 + (i % 8), 1),
            Customer: i < WholeScanDue ? $"D-{i / 4:D2}" : $"C-{i:D4}")).ToList();
        foreach (var chunk in licenses.Chunk(8))
        {
            await Task.WhenAll(chunk.Select(l => ActivateAsync(api, l.Serial, l.Start, l.Customer, [$"{l.Customer.ToLowerInvariant()}@example.com"])));
        }

        api.Clock.Reset(InDenver(2027, 1, 1));
        counter.Reset();
        await RunScanAsync(api);
        var counts = counter.Snapshot();
        Assert.Equal(WholeScanDue / 4, (await UndeliveredAsync(api)).Count);
        return counts;
    }

    /// <param name="MetaRequests">Of <paramref name="Requests"/>, those on the reminder index's record and configuration rows.</param>
    /// <param name="MetaEntities">Of <paramref name="EntitiesRead"/>, those rows.</param>
    /// <param name="LicenseReads">Of <paramref name="Reads"/>, the point reads of a license's record (its summary row).</param>
    public sealed record StorageCounts(int Requests, int Reads, int EntitiesRead, int MetaRequests = 0, int MetaEntities = 0, int LicenseReads = 0)
    {
        public override string ToString() => $"{Requests} requests, {Reads} of them reads returning {EntitiesRead} entities ({MetaRequests} requests and {MetaEntities} entities on the index record; {LicenseReads} license reads)";
    }

    /// <summary>Counts requests, reads (GET) and the entities they returned: one for a point read, the rows of a query page.</summary>
    private sealed class StorageCounter : HttpPipelineSynchronousPolicy
    {
        private int requests;
        private int reads;
        private int entities;
        private int metaRequests;
        private int metaEntities;
        private int licenseReads;

        public void Reset()
        {
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref reads, 0);
            Interlocked.Exchange(ref entities, 0);
            Interlocked.Exchange(ref metaRequests, 0);
            Interlocked.Exchange(ref metaEntities, 0);
            Interlocked.Exchange(ref licenseReads, 0);
        }

        public StorageCounts Snapshot() => new(Volatile.Read(ref requests), Volatile.Read(ref reads), Volatile.Read(ref entities), Volatile.Read(ref metaRequests), Volatile.Read(ref metaEntities), Volatile.Read(ref licenseReads));

        public override void OnReceivedResponse(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            var meta = IsMeta(message.Request.Uri.ToString());
            if (meta)
            {
                Interlocked.Increment(ref metaRequests);
            }

            if (message.Request.Method != RequestMethod.Get)
            {
                return;
            }

            Interlocked.Increment(ref reads);
            if (Uri.UnescapeDataString(message.Request.Uri.ToString()).Contains("RowKey='license|", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref licenseReads);
            }

            if (message.Response.Status == 200)
            {
                var read = EntitiesIn(message.Response.Content);
                Interlocked.Add(ref entities, read);
                if (meta)
                {
                    Interlocked.Add(ref metaEntities, read);
                }
            }
        }

        /// <summary>A point read or write of the licenses table's "~meta" partition (the reminder index's record and configuration rows).</summary>
        private static bool IsMeta(string uri) =>
            Uri.UnescapeDataString(uri).Contains("PartitionKey='~meta'", StringComparison.Ordinal);

        private static int EntitiesIn(BinaryData content)
        {
            using var json = JsonDocument.Parse(content);
            return json.RootElement.TryGetProperty("value", out var rows) && rows.ValueKind == JsonValueKind.Array
                ? rows.GetArrayLength()
                : 1;
        }
    }
}
