using System.Globalization;
using Azure;
using Azure.Data.Tables;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Azure.Tables;

/// <summary>
/// The dashboard's reads (<see cref="ILicenseActivity"/>). The latest events: every change writes, ahead of its
/// transaction and by the same write-ahead protocol as the index rows, a row in the <see cref="RecentPartition"/>
/// partition of the index table whose key sorts newest first (<c>invertedTicks|SERIAL|version</c>, the ticks of the
/// event's time). A reader takes the first page of those rows and reads the event each one names; a row whose event
/// is missing (its change not stored yet, or a crash between the row and the transaction) is skipped, and one whose
/// version holds another event (written by a change that lost the race for that version) is removed. Rows older than
/// <see cref="RecentRetention"/> are pruned by the readers, <see cref="RecentPrunedPerRead"/> at a time (a change's
/// write touches its own rows only), and daily by <see cref="LatestEventsRetention"/> whether or not anyone reads them.
/// </summary>
public sealed partial class TableLicenseStore : ILicenseActivity
{
    /// <summary>The partition of the index table holding one row per stored change, newest first.</summary>
    internal const string RecentPartition = "recent";

    /// <summary>How long a change keeps its row among the latest events.</summary>
    internal static readonly Duration RecentRetention = LatestEventsRetention.Retention;

    private const int RecentPrunedPerRead = 50;

    /// <summary>The most rows one storage transaction deletes (the service's limit per entity group transaction).</summary>
    private const int RecentDeletedPerTransaction = 100;
    private static readonly string[] RecentColumns = ["PartitionKey", "RowKey", LicenseEntities.SerialColumn, LicenseEntities.VersionColumn];
    private static readonly string[] KeyOnly = ["RowKey"];

    public async Task<IReadOnlyList<RecentLicenseEvent>> ListLatestEventsAsync(int count, CancellationToken cancellationToken)
    {
        count = Math.Clamp(count, 1, 1000);
        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {RecentPartition}");
        var rows = new List<TableEntity>();
        await foreach (var page in index.QueryAsync<TableEntity>(filter, maxPerPage: count, select: RecentColumns, cancellationToken: cancellationToken).AsPages(pageSizeHint: count))
        {
            rows.AddRange(page.Values.Take(count));
            break;
        }

        var found = await Task.WhenAll(rows.Select(row => ReadRecentAsync(row, cancellationToken)));
        if (rows.Count > 0)
        {
            await PruneRecentRowsAsync(LatestOf(rows) - RecentRetention, cancellationToken);
        }

        var seen = new HashSet<(Serial, long)>();
        return [.. found.OfType<RecentLicenseEvent>().Where(e => seen.Add((e.Serial, e.Version)))];
    }

    public async Task<int> CountExpiringOnOrAfterAsync(LocalDate date, CancellationToken cancellationToken)
    {
        date = LocalDate.Max(date, EarliestIndexedDate);
        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LicenseIndex.ExpiresPartition} and RowKey ge {LicenseIndex.ExpiresLowerBound(date)}");

        // A license whose renewal was interrupted before its old row was retired has two rows: it counts once.
        var serials = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in index.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: KeyOnly, cancellationToken: cancellationToken))
        {
            var separator = row.RowKey.IndexOf('|', StringComparison.Ordinal);
            serials.Add(separator >= 0 ? row.RowKey[(separator + 1)..] : row.RowKey);
        }

        return serials.Count;
    }

    /// <summary>Step 1 of a change: its row among the latest events, before the transaction that stores the event.</summary>
    private async Task WriteRecentRowAsync(Serial serial, long version, LicenseEvent licenseEvent, CancellationToken cancellationToken) =>
        await indexRows.InsertAsync(RecentRow(serial, version, licenseEvent), cancellationToken);

    private static TableEntity RecentRow(Serial serial, long version, LicenseEvent licenseEvent) =>
        new(RecentPartition, RecentRowKey(licenseEvent.At, serial, version))
        {
            [LicenseEntities.SerialColumn] = serial.Value,
            [LicenseEntities.VersionColumn] = version,
        };

    /// <summary>The time of the newest of the rows read (the first).</summary>
    private static Instant LatestOf(List<TableEntity> rows) =>
        Instant.FromUnixTimeTicks(long.MaxValue - long.Parse(rows[0].RowKey.AsSpan(0, 19), CultureInfo.InvariantCulture));

    /// <summary>
    /// Rows of changes before <paramref name="before"/>, at most <paramref name="max"/> read and removed (the newest of
    /// them first: the partition sorts newest first), in transactions of up to <see cref="RecentDeletedPerTransaction"/>
    /// rows (all in the one <see cref="RecentPartition"/> partition), each committed one reported to
    /// <paramref name="removed"/> before the next starts. A row removed meanwhile by another pruner counts as removed.
    /// </summary>
    public async Task<int> PruneLatestEventsAsync(Instant before, int max, Action<int>? removed, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {RecentPartition} and RowKey ge {RecentTicks(before - Duration.Epsilon)}");
        var total = 0;
        var keys = new List<string>(RecentDeletedPerTransaction);
        await foreach (var row in index.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), select: KeyOnly, cancellationToken: cancellationToken))
        {
            keys.Add(row.RowKey);
            if (keys.Count == RecentDeletedPerTransaction || total + keys.Count >= max)
            {
                total += await DeleteRecentRowsAsync(keys, removed, cancellationToken);
                keys.Clear();
                if (total >= max)
                {
                    return total;
                }
            }
        }

        if (keys.Count > 0)
        {
            total += await DeleteRecentRowsAsync(keys, removed, cancellationToken);
        }

        return total;
    }

    /// <summary>
    /// Deletes the rows in one transaction and reports them once it committed. When one of them is gone already
    /// (removed by another pruner meanwhile) the transaction is refused as a whole; the rows are then deleted one by
    /// one (a row already gone counts as removed), each reported once deleted.
    /// </summary>
    private async Task<int> DeleteRecentRowsAsync(List<string> keys, Action<int>? removed, CancellationToken cancellationToken)
    {
        try
        {
            await index.SubmitTransactionAsync(
                keys.Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(RecentPartition, key), ETag.All)),
                cancellationToken);
            removed?.Invoke(keys.Count);
            return keys.Count;
        }
        catch (TableTransactionFailedException e) when (e.Status == 404)
        {
            foreach (var key in keys)
            {
                await index.DeleteEntityAsync(RecentPartition, key, ETag.All, cancellationToken);
                removed?.Invoke(1);
            }

            return keys.Count;
        }
    }

    /// <summary>Removes up to <see cref="RecentPrunedPerRead"/> rows of changes before <paramref name="before"/>. Best effort.</summary>
    private async Task PruneRecentRowsAsync(Instant before, CancellationToken cancellationToken)
    {
        try
        {
            await PruneLatestEventsAsync(before, RecentPrunedPerRead, removed: null, cancellationToken);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            // The old rows are pruned by a later read.
        }
    }

    private async Task<RecentLicenseEvent?> ReadRecentAsync(TableEntity row, CancellationToken cancellationToken)
    {
        if (!Serial.TryParse(row.GetString(LicenseEntities.SerialColumn), out var serial) || row.GetInt64(LicenseEntities.VersionColumn) is not { } version)
        {
            return null;
        }

        var stored = await licenses.GetEntityIfExistsAsync<TableEntity>(LicenseEntities.PartitionKey(serial), LicenseEntities.EventRowKey(serial, version), cancellationToken: cancellationToken);
        if (!stored.HasValue && oldLayoutRows)
        {
            stored = await licenses.GetEntityIfExistsAsync<TableEntity>(LicenseEntities.PartitionKey(serial), LicenseEntities.LegacyEventRowKey(version), cancellationToken: cancellationToken);
        }

        if (!stored.HasValue)
        {
            // Written ahead of a change still under way, or one that a crash stopped: nothing to show.
            return null;
        }

        LicenseEvent licenseEvent;
        try
        {
            licenseEvent = LicenseEntities.ToEvent(stored.Value!);
        }
        catch (Exception e) when (IsUnreadableRecord(e))
        {
            // An event this version cannot read: the license page reports it; the dashboard shows the others.
            return null;
        }

        if (row.RowKey.StartsWith(RecentTicks(licenseEvent.At) + "|", StringComparison.Ordinal))
        {
            return new RecentLicenseEvent(serial, version, licenseEvent);
        }

        // The version holds the event of another change (this row's change lost the race for it): never to be shown.
        await indexRows.RemoveStaleAsync(row, cancellationToken);
        return null;
    }

    private static string RecentRowKey(Instant at, Serial serial, long version) =>
        string.Join('|', RecentTicks(at), TableKey.Encode(serial.Value), version.ToString("D19", CultureInfo.InvariantCulture));

    /// <summary>The time as a key part that sorts newest first.</summary>
    private static string RecentTicks(Instant at) =>
        (long.MaxValue - Math.Max(0, at.ToUnixTimeTicks())).ToString("D19", CultureInfo.InvariantCulture);
}
