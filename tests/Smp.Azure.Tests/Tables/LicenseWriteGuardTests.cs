using System.Collections.Concurrent;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Smp.Core.Licenses;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// A license change is one entity group transaction guarded twice: the summary is replaced only under the ETag that
/// was read (If-Match), and the event row keyed by the new version is inserted, so a second writer from the same
/// version collides on it. Each test here holds with one guard alone and fails when that guard is taken away, so
/// neither guard can be lost silently behind the other.
/// </summary>
public sealed class LicenseWriteGuardTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task The_update_batch_replaces_the_summary_only_under_the_ETag_that_was_read()
    {
        var recorder = new BatchRecorder();
        var t = StoreUnderTest.Create(azurite, recorder.Options());
        var read = await ActivatedAsync(t);

        var change = TestLicenses.Renew(read.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(read, change.License, change.Event, Ct));

        var summary = Assert.Single(recorder.Operations(t.Options.LicensesTable), o => o.RowKey == "license|" + read.License.Serial.Value);
        Assert.True(summary.Method is "PUT" or "MERGE", $"the summary is written with {summary.Method}, not as a replace or merge");
        Assert.Equal(read.ConcurrencyToken, summary.IfMatch);
    }

    [Fact]
    public async Task The_update_batch_inserts_the_event_row_keyed_by_the_new_version()
    {
        var recorder = new BatchRecorder();
        var t = StoreUnderTest.Create(azurite, recorder.Options());
        var read = await ActivatedAsync(t);

        var change = TestLicenses.Renew(read.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(read, change.License, change.Event, Ct));

        var eventRow = Assert.Single(recorder.Operations(t.Options.LicensesTable), o => o.RowKey != "license|" + read.License.Serial.Value);

        // An insert is a POST to the table with the row in the body: it fails when the row exists. A PUT or MERGE to
        // the row's address without If-Match would be an upsert and overwrite another writer's event.
        Assert.Equal("POST", eventRow.Method);
        Assert.Null(eventRow.IfMatch);
        Assert.Equal("event|" + read.License.Serial.Value + "|0000000000000000002", eventRow.RowKey);
    }

    [Fact]
    public async Task A_writer_holding_the_current_ETag_but_an_old_version_is_refused_by_the_event_row_alone()
    {
        // The ETag is the current one, so If-Match lets the summary through: only the insert of the event row
        // for version 2, which the first writer already wrote, can stop this batch.
        var t = StoreUnderTest.Create(azurite);
        var first = await ActivatedAsync(t);
        var winner = TestLicenses.Renew(first.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(first, winner.License, winner.Event, Ct));
        var current = (await t.Store.GetAsync(first.License.Serial, Ct))!;
        var before = await t.PartitionAsync(first.License.Serial.Value);

        var loser = TestLicenses.Renew(first.License, "PO-2");
        var sameVersionFreshETag = first with { ConcurrencyToken = current.ConcurrencyToken };
        Assert.False(await t.Store.TryUpdateAsync(sameVersionFreshETag, loser.License, loser.Event, Ct));

        var after = await t.PartitionAsync(first.License.Serial.Value);
        Assert.Equal(before.Select(r => (r.RowKey, r.ETag)), after.Select(r => (r.RowKey, r.ETag)));
    }

    [Fact]
    public async Task A_writer_holding_a_stale_ETag_but_the_current_version_is_refused_by_If_Match_alone()
    {
        // The version is the current one, so the event row for the next version is free: only If-Match on the
        // summary, whose ETag moved since it was read, can stop this batch.
        var t = StoreUnderTest.Create(azurite);
        var first = await ActivatedAsync(t);
        var winner = TestLicenses.Renew(first.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(first, winner.License, winner.Event, Ct));
        var current = (await t.Store.GetAsync(first.License.Serial, Ct))!;
        var before = await t.PartitionAsync(first.License.Serial.Value);

        var loser = TestLicenses.Renew(first.License, "PO-2");
        var currentVersionStaleETag = first with { Version = current.Version };
        Assert.False(await t.Store.TryUpdateAsync(currentVersionStaleETag, loser.License, loser.Event, Ct));

        var after = await t.PartitionAsync(first.License.Serial.Value);
        Assert.Equal(before.Select(r => (r.RowKey, r.ETag)), after.Select(r => (r.RowKey, r.ETag)));
    }

    private static async Task<StoredLicense> ActivatedAsync(StoreUnderTest t)
    {
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
        return (await t.Store.GetAsync(activated.License.Serial, Ct))!;
    }

    /// <summary>One operation of a recorded <c>$batch</c>: its method, row key and If-Match header.</summary>
    private sealed record BatchOperation(string Method, string RowKey, string? IfMatch);

    /// <summary>Keeps the body of every <c>$batch</c> request the store sends, as it goes on the wire.</summary>
    private sealed class BatchRecorder : HttpPipelinePolicy
    {
        private readonly ConcurrentQueue<string> batches = new();

        public TableClientOptions Options()
        {
            var options = new TableClientOptions();
            options.AddPolicy(this, HttpPipelinePosition.PerRetry);
            return options;
        }

        /// <summary>The operations of the last transaction sent to <paramref name="table"/> (the index table has transactions of its own).</summary>
        public List<BatchOperation> Operations(string table)
        {
            var body = Assert.Single(batches.Where(b => System.Text.RegularExpressions.Regex.IsMatch(b, "/" + table + "[^A-Za-z0-9]")).TakeLast(1));
            var operations = new List<BatchOperation>();
            foreach (var part in body.Split("Content-Type: application/http", StringSplitOptions.None).Skip(1))
            {
                var lines = part.Split("\r\n", StringSplitOptions.None).SkipWhile(l => !l.Contains(" HTTP/1.1", StringComparison.Ordinal)).ToList();
                var requestLine = lines[0].Split(' ');
                var ifMatch = lines.TakeWhile(l => l.Length > 0).FirstOrDefault(l => l.StartsWith("If-Match:", StringComparison.OrdinalIgnoreCase));
                var rowKey = RowKeyOf(requestLine[1]) ?? RowKeyOfBody(string.Join("\n", lines.SkipWhile(l => l.Length > 0)));
                operations.Add(new BatchOperation(requestLine[0], rowKey, ifMatch?["If-Match:".Length..].Trim()));
            }

            return operations;
        }

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

        private static string? RowKeyOf(string url)
        {
            const string marker = "RowKey='";
            var decoded = Uri.UnescapeDataString(url);
            var start = decoded.IndexOf(marker, StringComparison.Ordinal);
            return start < 0 ? null : decoded[(start + marker.Length)..decoded.IndexOf('\'', start + marker.Length)];
        }

        private static string RowKeyOfBody(string body)
        {
            const string marker = "\"RowKey\":\"";
            var start = body.IndexOf(marker, StringComparison.Ordinal);
            Assert.True(start >= 0, "an insert names its row key in its body");
            return body[(start + marker.Length)..body.IndexOf('"', start + marker.Length)];
        }

        private void Record(HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && message.Request.Content is { } content)
            {
                using var buffer = new MemoryStream();
                content.WriteTo(buffer, CancellationToken.None);
                batches.Enqueue(Encoding.UTF8.GetString(buffer.ToArray()));
            }
        }
    }
}
