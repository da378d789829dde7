using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Licenses;

/// <summary>One event of the latest events across all licenses (SPEC section 8): the license it belongs to and the event.</summary>
public sealed record RecentLicenseEvent(Serial Serial, long Version, LicenseEvent Event);

/// <summary>
/// What the console's dashboard reads about all licenses without reading every license (SPEC section 8): the latest
/// events, and the count of licenses not yet expired.
/// </summary>
public interface ILicenseActivity
{
    /// <summary>
    /// The latest events of all licenses, newest first, at most <paramref name="count"/> (fewer while a change that
    /// recorded its place among them has not been stored yet, or never was). Reads one page of at most
    /// <paramref name="count"/> rows and at most that many events.
    /// </summary>
    Task<IReadOnlyList<RecentLicenseEvent>> ListLatestEventsAsync(int count, CancellationToken cancellationToken);

    /// <summary>
    /// How many licenses expire on or after <paramref name="date"/>: counted from the expiry index rows alone, page by
    /// page, without reading the licenses (so a row a crash left stale counts until a reader of that date removes it).
    /// </summary>
    Task<int> CountExpiringOnOrAfterAsync(LocalDate date, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the places among the latest events of changes made before <paramref name="before"/>, at most
    /// <paramref name="max"/> of them, the newest of them first (the order the store reads them in); the number removed.
    /// Fewer than <paramref name="max"/> means none older is left. The events themselves stay on their licenses.
    /// Rows are removed in steps (a storage transaction each); <paramref name="removed"/> is told the count of each
    /// step once storage committed it, so a caller whose prune fails part way still knows what was removed.
    /// </summary>
    Task<int> PruneLatestEventsAsync(Instant before, int max, Action<int>? removed, CancellationToken cancellationToken);
}
