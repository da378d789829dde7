using NodaTime;
using Smp.Core.Observability;

namespace Smp.Core.Licenses;

/// <summary>What one daily pruning of the latest events did.</summary>
/// <param name="Pruned">Places removed.</param>
/// <param name="Complete">True when no place older than the retention was left.</param>
/// <param name="Failure">The kind of storage error that stopped it (the next run prunes what is left); null when none did.</param>
public sealed record LatestEventsPruning(int Pruned, bool Complete, string? Failure);

/// <summary>
/// How long a change keeps its place among the console dashboard's latest events (SPEC section 8), and the daily
/// pruning of older places, run with the daily reminder scan: the places of a busy system no longer grow without
/// bound while nobody reads the dashboard. Each run removes batch after batch until no older place is left, so a
/// system that makes more changes a day than one batch still catches up in one run; the run stops early when the
/// host shuts down or after <see cref="MaxPrunedPerRun"/>, and the next run (or a read) prunes what is left.
/// </summary>
public sealed class LatestEventsRetention(ILicenseActivity activity, IClock clock, SmpMetrics metrics, IStorageFailures? storageFailures = null)
{
    /// <summary>How long a change keeps its place among the latest events.</summary>
    public static readonly Duration Retention = Duration.FromDays(400);

    /// <summary>Places removed per batch (one page of the query that finds them).</summary>
    public const int PrunedPerBatch = 1000;

    /// <summary>
    /// A bound on one run: twenty times the changes one run could prune before, so any install base's day is pruned
    /// by its run, while a run after a long backlog (or a pruner gone wrong) still ends in minutes of deletes, well
    /// within the timer's time limit; the next run goes on where it stopped.
    /// </summary>
    public const int MaxPrunedPerRun = 100_000;

    /// <summary>
    /// Removes the places of changes older than <see cref="Retention"/>, batch by batch, counting every removal storage
    /// committed in the metrics and the result, also those of a batch that then failed. A storage failure stops it and
    /// is counted and reported, never thrown (tidying must not hide the scan's outcome); any other error is thrown, and
    /// so is a cancellation of <paramref name="cancellationToken"/> while a batch runs. Between batches a cancellation
    /// ends it quietly.
    /// </summary>
    public async Task<LatestEventsPruning> PruneAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetCurrentInstant() - Retention;
        var pruned = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested && pruned < MaxPrunedPerRun)
            {
                var batch = Math.Min(PrunedPerBatch, MaxPrunedPerRun - pruned);
                // Counted as storage commits them: a batch that fails part way still counts what it removed.
                var removed = await activity.PruneLatestEventsAsync(before, batch, Count, cancellationToken);
                if (removed < batch)
                {
                    return new LatestEventsPruning(pruned, Complete: true, Failure: null);
                }
            }

            return new LatestEventsPruning(pruned, Complete: false, Failure: null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && storageFailures?.IsStorageFailure(e) == true)
        {
            metrics.LatestEventsPruneFailed();
            return new LatestEventsPruning(pruned, Complete: false, Failure: e.GetType().Name);
        }

        void Count(int removed)
        {
            pruned += removed;
            metrics.LatestEventsPruned(removed);
        }
    }
}
