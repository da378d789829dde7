using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.TestSupport;
using Xunit.Abstractions;

namespace Smp.Functions.Tests;

/// <summary>
/// What one new activation (<c>POST /api/activations</c>, a serial not stored yet) asks of Table Storage through the real
/// app: no more than the bare operations it needs. Those are one request per partition of the rows written ahead of the
/// license (its index rows and its row among the latest events: a batch of inserts where a partition has several), the
/// one entity group transaction of summary and first event, and the confirm of its reminder rows; no read: the license
/// is added as new and read only when that add is refused (the serial is stored), an index row only when its insert
/// conflicts, and the 201 is answered from the license just written, not read back. At most 7 requests (issue 15).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ActivationCostTests : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);

    private readonly RequestCounter _counter = new();
    private readonly AzuriteFixture _azurite;
    private readonly ApiHarness _api;
    private readonly ITestOutputHelper _output;

    public ActivationCostTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _azurite = azurite;
        _output = output;
        var options = new TableClientOptions();
        options.AddPolicy(_counter, HttpPipelinePosition.PerCall);
        _api = new ApiHarness(azurite.ConnectionString, Now, services: services =>
            services.AddSingleton(new TableServiceClient(azurite.ConnectionString, options)));
    }

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task A_new_activation_costs_one_request_per_partition_written_ahead_its_transaction_and_its_confirm_and_no_read()
    {
        // The first request creates the tables and reads which offsets own the reminder index (then remembered for a while).
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-0000", customerId: "C-0"))).Status);

        for (var i = 1; i <= 4; i++)
        {
            var serial = $"VT-{i:D4}";
            _counter.Reset();
            var response = await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial, customerId: $"C-{i}"));
            var requests = _counter.Requests;

            Assert.Equal(201, response.Status);
            var (written, partitions) = await RowsWrittenAheadAsync(serial);
            var bare = partitions + 1 + 1;
            _output.WriteLine($"{serial}: {requests} storage requests ({_counter.OwnerReads} of them the periodic read of the reminder index's owner); {written} rows written ahead in {partitions} partitions; bare: {bare}.");
            Assert.Equal(5, partitions); // customer, expiry, reminders, search terms, latest events
            Assert.True(
                requests - _counter.OwnerReads <= bare,
                $"A new activation made {requests - _counter.OwnerReads} storage requests; the bare operations are {bare} ({partitions} partitions written ahead, a transaction, the confirm).");
            Assert.True(requests - _counter.OwnerReads <= 7, $"A new activation made {requests - _counter.OwnerReads} storage requests; at most 7.");
        }
    }

    /// <summary>The rows of the index table (index rows and the latest-events row) that point to <paramref name="serial"/>, and their partitions.</summary>
    private async Task<(int Rows, int Partitions)> RowsWrittenAheadAsync(string serial)
    {
        var index = _azurite.CreateServiceClient().GetTableClient(_api.TablePrefix + "licenseindex");
        var count = 0;
        var partitions = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Serial eq {serial}"), select: ["PartitionKey", "RowKey"]))
        {
            count++;
            partitions.Add(row.PartitionKey);
        }

        Assert.True(count >= 4, $"Expected the customer, expiry, reminder and search rows of {serial}; found {count} rows.");
        Assert.Contains("reminders", partitions);
        return (count, partitions.Count);
    }

    /// <summary>Counts the requests the app's table client sends; apart, the point reads of the record of the reminder index's owner.</summary>
    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int requests;
        private int ownerReads;

        public int Requests => Volatile.Read(ref requests);

        public int OwnerReads => Volatile.Read(ref ownerReads);

        public void Reset()
        {
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref ownerReads, 0);
        }

        public override void OnReceivedResponse(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            if (message.Request.Method == RequestMethod.Get && Uri.UnescapeDataString(message.Request.Uri.Path).Contains("PartitionKey='~meta'", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref ownerReads);
            }
        }
    }
}
