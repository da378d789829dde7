using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>What went over the wire to Table Storage for one table (or for entity group transactions).</summary>
internal sealed record TableCounts(long Requests, long PointReads, long PointReadHits, long Queries, long QueryEntities, long Writes, long Batches)
{
    public static TableCounts Zero { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>Entities read: each point read counts as one, each query counts the entities its pages returned.</summary>
    public long EntitiesRead => PointReads + QueryEntities;

    public static TableCounts operator +(TableCounts a, TableCounts b) => new(
        a.Requests + b.Requests,
        a.PointReads + b.PointReads,
        a.PointReadHits + b.PointReadHits,
        a.Queries + b.Queries,
        a.QueryEntities + b.QueryEntities,
        a.Writes + b.Writes,
        a.Batches + b.Batches);
}

/// <summary>A snapshot of <see cref="TableTrafficPolicy"/>: counts per table name.</summary>
internal sealed class TableTraffic(IReadOnlyDictionary<string, TableCounts> byTable)
{
    /// <summary>Entity group transactions go to the account's <c>$batch</c> endpoint, so they are counted under this name.</summary>
    public const string BatchEndpoint = "$batch";

    public IReadOnlyDictionary<string, TableCounts> ByTable { get; } = byTable;

    public TableCounts Total => ByTable.Values.Aggregate(TableCounts.Zero, (sum, c) => sum + c);

    /// <summary>The counts of every table whose name ends with <paramref name="suffix"/> (tables carry a per-run prefix).</summary>
    public TableCounts For(string suffix) =>
        ByTable.Where(t => t.Key.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)).Aggregate(TableCounts.Zero, (sum, t) => sum + t.Value);
}

/// <summary>
/// Counts the requests a <c>TableServiceClient</c> sends and the entities they read. A point read (GET of
/// <c>table(PartitionKey=..,RowKey=..)</c>) counts as one entity read; a query page counts the entities of its
/// response's <c>value</c> array. Added per retry, so a retried request counts each time it went out.
/// </summary>
internal sealed class TableTrafficPolicy : HttpPipelinePolicy
{
    private ConcurrentDictionary<string, Counter> tables = new(StringComparer.Ordinal);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Record(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Record(message);
    }

    /// <summary>Starts counting from zero.</summary>
    public void Reset() => Interlocked.Exchange(ref tables, new ConcurrentDictionary<string, Counter>(StringComparer.Ordinal));

    public TableTraffic Snapshot() =>
        new(tables.ToDictionary(t => t.Key, t => t.Value.ToCounts(), StringComparer.Ordinal));

    private static (string Table, string Resource) Target(string path)
    {
        // Azurite paths are /account/resource; Azure's are /resource.
        var segments = path.Trim('/').Split('/');
        var resource = Uri.UnescapeDataString(segments[^1]);
        var paren = resource.IndexOf('(', StringComparison.Ordinal);
        return (paren < 0 ? resource : resource[..paren], resource);
    }

    private static long CountQueryEntities(Response response)
    {
        if (response.ContentStream is not { CanSeek: true } stream)
        {
            return 0;
        }

        var start = stream.Position;
        try
        {
            stream.Position = 0;
            using var document = JsonDocument.Parse(stream);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("value", out var value)
                && value.ValueKind == JsonValueKind.Array
                ? value.GetArrayLength()
                : 0;
        }
        catch (JsonException)
        {
            return 0;
        }
        finally
        {
            stream.Position = start;
        }
    }

    private void Record(HttpMessage message)
    {
        if (!message.HasResponse)
        {
            return;
        }

        var request = message.Request;
        var (table, resource) = Target(request.Uri.Path);
        var counter = tables.GetOrAdd(table, _ => new Counter());
        Interlocked.Increment(ref counter.Requests);
        var method = request.Method;
        if (method == RequestMethod.Get && resource.Contains("PartitionKey=", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref counter.PointReads);
            if (message.Response.Status == 200)
            {
                Interlocked.Increment(ref counter.PointReadHits);
            }
        }
        else if (method == RequestMethod.Get && !string.Equals(table, "Tables", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref counter.Queries);
            Interlocked.Add(ref counter.QueryEntities, CountQueryEntities(message.Response));
        }
        else if (string.Equals(table, TableTraffic.BatchEndpoint, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref counter.Batches);
        }
        else if (method != RequestMethod.Get)
        {
            Interlocked.Increment(ref counter.Writes);
        }
    }

    private sealed class Counter
    {
        public long Requests;
        public long PointReads;
        public long PointReadHits;
        public long Queries;
        public long QueryEntities;
        public long Writes;
        public long Batches;

        public TableCounts ToCounts() => new(
            Interlocked.Read(ref Requests),
            Interlocked.Read(ref PointReads),
            Interlocked.Read(ref PointReadHits),
            Interlocked.Read(ref Queries),
            Interlocked.Read(ref QueryEntities),
            Interlocked.Read(ref Writes),
            Interlocked.Read(ref Batches));
    }
}
