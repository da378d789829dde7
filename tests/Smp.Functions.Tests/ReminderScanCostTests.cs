using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
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

    public ReminderScanCostTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _output = output;
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

    public sealed record StorageCounts(int Requests, int Reads, int EntitiesRead)
    {
        public override string ToString() => $"{Requests} requests, {Reads} of them reads returning {EntitiesRead} entities";
    }

    /// <summary>Counts requests, reads (GET) and the entities they returned: one for a point read, the rows of a query page.</summary>
    private sealed class StorageCounter : HttpPipelineSynchronousPolicy
    {
        private int requests;
        private int reads;
        private int entities;

        public void Reset()
        {
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref reads, 0);
            Interlocked.Exchange(ref entities, 0);
        }

        public StorageCounts Snapshot() => new(Volatile.Read(ref requests), Volatile.Read(ref reads), Volatile.Read(ref entities));

        public override void OnReceivedResponse(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            if (message.Request.Method != RequestMethod.Get)
            {
                return;
            }

            Interlocked.Increment(ref reads);
            if (message.Response.Status == 200)
            {
                Interlocked.Add(ref entities, EntitiesIn(message.Response.Content));
            }
        }

        private static int EntitiesIn(BinaryData content)
        {
            using var json = JsonDocument.Parse(content);
            return json.RootElement.TryGetProperty("value", out var rows) && rows.ValueKind == JsonValueKind.Array
                ? rows.GetArrayLength()
                : 1;
        }
    }
}
