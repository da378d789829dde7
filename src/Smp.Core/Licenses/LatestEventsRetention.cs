using NodaTime;

namespace Smp.Core.Licenses;

/// <summary>
/// How long a change keeps its place among the console dashboard's latest events (SPEC section 8), and the daily
/// pruning of older places, run with the daily reminder scan: the places of a busy system no longer grow without
/// bound while nobody reads the dashboard. Bounded work per run; what is left is pruned by the next run (or a read).
/// </summary>
public sealed class LatestEventsRetention(ILicenseActivity activity, IClock clock)
{
    /// <summary>How long a change keeps its place among the latest events.</summary>
    public static readonly Duration Retention = Duration.FromDays(400);

    /// <summary>At most this many places are removed per run (a few thousand storage calls, well within a timer's run).</summary>
    public const int MaxPrunedPerRun = 5000;

    /// <summary>Removes the places of changes older than <see cref="Retention"/>, at most <see cref="MaxPrunedPerRun"/>; the number removed.</summary>
    public Task<int> PruneAsync(CancellationToken cancellationToken) =>
        activity.PruneLatestEventsAsync(clock.GetCurrentInstant() - Retention, MaxPrunedPerRun, cancellationToken);
}
