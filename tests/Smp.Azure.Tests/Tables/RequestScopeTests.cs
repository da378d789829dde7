using Smp.Core.Reminders;
using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Smp.Azure.Tables;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>A change or a lookup touches one license's partition and its index rows, never a whole table.</summary>
public sealed class RequestScopeTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_renewal_reads_and_writes_only_its_license_partition_and_its_index_rows()
    {
        var recorder = new RequestRecorder();
        var t = StoreUnderTest.Create(azurite, recorder.Options());
        var target = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "ACME");
        var neighbour = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "ACME");
        Assert.True(await t.Store.TryAddAsync(target.License, target.Event, Ct));
        Assert.True(await t.Store.TryAddAsync(neighbour.License, neighbour.Event, Ct));
        var before = await t.SnapshotAsync();
        recorder.Clear();

        var read = (await t.Store.GetAsync(target.License.Serial, Ct))!;
        var renewal = TestLicenses.Renew(read.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(read, renewal.License, renewal.Event, Ct));

        var requests = recorder.Requests;

        // The license's transaction, and two of its reminder rows (before it: unconfirmed and added; after it: confirmed
        // and removed), each within one partition.
        Assert.Equal(3, requests.Count(r => r.IsBatch));
        Assert.All(requests.Where(r => r.IsBatch), r => Assert.Single(PartitionsNamedIn(r.Body)));
        Assert.All(requests, r =>
        {
            Assert.True(r.IsBatch || r.IsPointRequest || r.IsInsert, $"Neither one entity nor one partition's transaction: {r}");
            Assert.Contains(target.License.Serial.Value, r.Target + r.Body, StringComparison.Ordinal);
        });
        // A read, the transaction, and per index row that changes (a new expiry row, the old one, the trial's
        // reminder row and the two reminders of the renewed term) at most a version read and one write.
        Assert.InRange(requests.Count, 4, 14);

        var after = await t.SnapshotAsync();
        var touched = before.Keys.Union(after.Keys)
            .Where(k => !before.TryGetValue(k, out var old) || !after.TryGetValue(k, out var now) || old.ETag != now.ETag)
            .ToList();
        var allowedIndexRows = LicenseIndex.KeysFor(read.License, ReminderSchedule.Default).Union(LicenseIndex.KeysFor(renewal.License, ReminderSchedule.Default)).ToHashSet();
        Assert.NotEmpty(touched);
        Assert.All(touched, k =>
        {
            if (k.Table == t.Options.LicensesTable)
            {
                Assert.Equal(target.License.Serial.Value, k.PartitionKey);
            }
            else if (k.PartitionKey == TableLicenseStore.RecentPartition)
            {
                // The renewal's own row among the latest events (section 8).
                Assert.EndsWith("|" + target.License.Serial.Value + "|0000000000000000002", k.RowKey, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains(new IndexKey(k.PartitionKey, k.RowKey), allowedIndexRows);
            }
        });
        Assert.Contains(touched, k => k.RowKey == "event|" + target.License.Serial.Value + "|0000000000000000002");
    }

    [Fact]
    public async Task Lookups_query_one_partition_and_read_single_licenses()
    {
        var recorder = new RequestRecorder();
        var t = StoreUnderTest.Create(azurite, recorder.Options());
        var serial = TestLicenses.NewSerial();
        var change = TestLicenses.Activate(serial, customerId: "ACME");
        Assert.True(await t.Store.TryAddAsync(change.License, change.Event, Ct));
        recorder.Clear();

        await t.Store.GetEventsAsync(serial, Ct);
        await foreach (var unused in t.Store.ListByCustomerAsync("ACME", Ct))
        {
        }

        await foreach (var unused in t.Store.ListExpiringAsync(new NodaTime.LocalDate(2026, 1, 1), new NodaTime.LocalDate(2026, 12, 31), Ct))
        {
        }

        Assert.All(recorder.Requests, r => Assert.True(r.IsPointRequest || r.HasPartitionFilter, $"Reads more than one partition: {r}"));
        Assert.Equal(3, recorder.Requests.Count(r => r.HasPartitionFilter));
    }

    /// <summary>Records every request the store's client sends (after retries, as they go on the wire).</summary>
    private sealed class RequestRecorder : HttpPipelinePolicy
    {
        private readonly ConcurrentQueue<RecordedRequest> requests = new();

        public List<RecordedRequest> Requests => [.. requests];

        public TableClientOptions Options()
        {
            var options = new TableClientOptions();
            options.AddPolicy(this, HttpPipelinePosition.PerRetry);
            return options;
        }

        public void Clear() => requests.Clear();

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

        private void Record(HttpMessage message)
        {
            var uri = message.Request.Uri.ToUri();
            var body = string.Empty;
            if (message.Request.Content is { } content)
            {
                using var buffer = new MemoryStream();
                content.WriteTo(buffer, CancellationToken.None);
                body = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
            }

            requests.Enqueue(new RecordedRequest(message.Request.Method.Method, Uri.UnescapeDataString(uri.AbsolutePath), Uri.UnescapeDataString(uri.Query), body));
        }
    }

    private static HashSet<string> PartitionsNamedIn(string batchBody) =>
    [
        .. System.Text.RegularExpressions.Regex.Matches(Uri.UnescapeDataString(batchBody), "PartitionKey='([^']*)'|\"PartitionKey\":\"([^\"]*)\"")
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value),
    ];

    private sealed record RecordedRequest(string Method, string Path, string Query, string Body)
    {
        public bool IsBatch => Method == "POST" && Path.EndsWith("/$batch", StringComparison.Ordinal);

        /// <summary>Inserts one entity (its keys are in the body).</summary>
        public bool IsInsert => Method == "POST" && !IsBatch && !Path.Contains('(', StringComparison.Ordinal);

        /// <summary>Addresses one entity: <c>table(PartitionKey='..',RowKey='..')</c>.</summary>
        public bool IsPointRequest => Path.Contains("(PartitionKey='", StringComparison.Ordinal) && Path.Contains("',RowKey='", StringComparison.Ordinal);

        /// <summary>A query restricted to one partition by an equality filter.</summary>
        public bool HasPartitionFilter => Query.Contains("$filter=PartitionKey eq '", StringComparison.Ordinal);

        public string Target => Path + Query;

        public override string ToString() => $"{Method} {Path}{Query}";
    }
}
