using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Smp.Azure.Tests.Faults;

/// <summary>The ways a storage call fails in <see cref="FaultInjectionPolicy"/>.</summary>
public enum StorageFault
{
    /// <summary>The service answers 503 without doing anything.</summary>
    Unavailable,

    /// <summary>The call times out before the request reaches the service.</summary>
    TimeoutBeforeSending,

    /// <summary>The service does the work, but the call times out before its answer arrives.</summary>
    TimeoutAfterProcessing,

    /// <summary>The service does the work, then the connection dies while the answer is on its way.</summary>
    ResponseLost,
}

/// <summary>
/// Fails a share of the storage calls that pass through it, as the network and the service would. Installed at
/// <see cref="HttpPipelinePosition.PerRetry"/>, so Azure.Core's retry policy sees each fault and retries it as it
/// would in production, and its retries can fail too.
/// </summary>
/// <remarks>
/// Whether a call fails, and how, is drawn from a <see cref="Random"/> seeded with the run's seed and the call's
/// identity: method, path and query (with the random part of test table names removed) and how many times that
/// same call was made before. So a seed gives the same faults to the same sequence of calls, however the calls of
/// different entities interleave (index reads run in parallel), and a failing seed can be replayed.
/// </remarks>
public sealed partial class FaultInjectionPolicy(int seed = 0, double rate = 0) : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, int> calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<StorageFault, int> injected = new();
    private readonly ConcurrentQueue<StorageFault?> script = new();
    private int requests;

    public int Seed { get; } = seed;

    public double Rate { get; } = rate is >= 0 and < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate));

    /// <summary>While false, every call goes through untouched (and is not counted).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Calls seen while enabled.</summary>
    public int Requests => Volatile.Read(ref requests);

    /// <summary>The next calls get these faults (null: no fault), in order, before the seeded draw resumes.</summary>
    public void Script(params StorageFault?[] faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        foreach (var fault in faults)
        {
            script.Enqueue(fault);
        }
    }

    /// <summary>
    /// A fault for every call it picks, given the call's identity (method, path and query, without the random part of
    /// test table names); null for the others, which go on to the script and the seeded draw.
    /// </summary>
    public Func<string, StorageFault?>? Rule { get; set; }

    public int Injected(StorageFault fault) => injected.TryGetValue(fault, out var n) ? n : 0;

    public int InjectedTotal => injected.Values.Sum();

    public string Summary()
    {
        var kinds = string.Join(", ", Enum.GetValues<StorageFault>().Select(f => string.Create(CultureInfo.InvariantCulture, $"{f} {Injected(f)}")));
        return string.Create(CultureInfo.InvariantCulture, $"{Requests} storage calls, {InjectedTotal} failed ({kinds})");
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var fault = Decide(message);
        if (fault is StorageFault.Unavailable)
        {
            message.Response = new StubResponse(503, "Service Unavailable", message.Request.ClientRequestId);
            return;
        }

        if (fault is StorageFault.TimeoutBeforeSending)
        {
            throw Timeout();
        }

        ProcessNext(message, pipeline);
        AfterProcessing(message, fault);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var fault = Decide(message);
        if (fault is StorageFault.Unavailable)
        {
            message.Response = new StubResponse(503, "Service Unavailable", message.Request.ClientRequestId);
            return;
        }

        if (fault is StorageFault.TimeoutBeforeSending)
        {
            throw Timeout();
        }

        await ProcessNextAsync(message, pipeline);
        AfterProcessing(message, fault);
    }

    private static void AfterProcessing(HttpMessage message, StorageFault? fault)
    {
        switch (fault)
        {
            case StorageFault.TimeoutAfterProcessing:
                message.Response.ContentStream?.Dispose();
                throw Timeout();
            case StorageFault.ResponseLost:
                message.Response.ContentStream?.Dispose();
                throw ConnectionReset(message);
        }
    }

    /// <summary>What HttpClient throws when its timeout elapses: a cancellation the caller did not ask for.</summary>
    private static TaskCanceledException Timeout() =>
        new("The request was canceled due to the configured HttpClient.Timeout elapsing.", new TimeoutException("The operation was canceled."));

    /// <summary>
    /// What a dead connection looks like above the transport: Azure.Core's HttpClient transport wraps the
    /// <see cref="HttpRequestException"/> in a <see cref="RequestFailedException"/> without a status; while the body
    /// is being read it is a bare <see cref="IOException"/>. Both are retried by Azure.Core; both kinds are used.
    /// </summary>
    private static Exception ConnectionReset(HttpMessage message)
    {
        var reset = new IOException("Unable to read data from the transport connection: Connection reset by peer.");
        return message.Request.Method == RequestMethod.Get
            ? reset
            : new RequestFailedException(
                "An error occurred while sending the request.",
                new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely.", reset));
    }

    private StorageFault? Decide(HttpMessage message)
    {
        if (!Enabled)
        {
            return null;
        }

        Interlocked.Increment(ref requests);
        if (Rule?.Invoke(Identity(message)) is { } ruled)
        {
            return Count(ruled);
        }

        if (script.TryDequeue(out var scripted))
        {
            return scripted is { } f ? Count(f) : null;
        }

        var identity = Identity(message);
        var occurrence = calls.AddOrUpdate(identity, 1, (_, n) => n + 1);
        var random = new Random(StableHash($"{Seed.ToString(CultureInfo.InvariantCulture)}\n{occurrence.ToString(CultureInfo.InvariantCulture)}\n{identity}"));
        if (random.NextDouble() >= Rate)
        {
            return null;
        }

        return Count((StorageFault)random.Next(Enum.GetValues<StorageFault>().Length));
    }

    private StorageFault Count(StorageFault fault)
    {
        injected.AddOrUpdate(fault, 1, (_, n) => n + 1);
        return fault;
    }

    /// <summary>Method, path and query, without the host (a free port) or the random suffix of test table names.</summary>
    private static string Identity(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        return message.Request.Method.Method + " " + RandomTableSuffix().Replace(Uri.UnescapeDataString(uri.AbsolutePath + uri.Query), string.Empty);
    }

    /// <summary>FNV-1a over UTF-8, folded to 31 bits: unlike <see cref="string.GetHashCode()"/>, the same in every process.</summary>
    private static int StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (int)((hash ^ (hash >> 32)) & int.MaxValue);
    }

    [GeneratedRegex("[0-9a-f]{32}")]
    private static partial Regex RandomTableSuffix();
}
