using System.Diagnostics;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>One timed run: how many operations completed, in how long, and their latencies.</summary>
internal sealed record LoadResult(int Concurrency, long Completed, TimeSpan Elapsed, double MedianLatencyMs, double P95LatencyMs)
{
    public double PerSecond => Completed / Elapsed.TotalSeconds;
}

/// <summary>Runs an operation from a fixed number of concurrent workers for a fixed time (closed loop).</summary>
internal static class LoadDriver
{
    /// <summary>
    /// Starts <paramref name="concurrency"/> workers that each call <paramref name="operation"/> with a fresh
    /// sequence number until <paramref name="duration"/> has passed; the run ends when the last call returns.
    /// </summary>
    public static async Task<LoadResult> RunAsync(int concurrency, TimeSpan duration, Func<long, Task> operation, Func<long> nextNumber)
    {
        var started = Stopwatch.GetTimestamp();
        var latencies = new List<double>[concurrency];
        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var mine = latencies[w] = [];
            workers[w] = Task.Run(async () =>
            {
                while (Stopwatch.GetElapsedTime(started) < duration)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await operation(nextNumber());
                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            });
        }

        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(
            concurrency,
            all.Length,
            elapsed,
            all.Length == 0 ? double.NaN : all[all.Length / 2],
            all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(all.Length * 0.95) - 1)]);
    }
}
