using Azure;
using Azure.Data.Tables;

namespace Smp.Azure.Tables;

/// <summary>
/// Moves the licenses table from its first layout (summary row key <c>license</c>, event row keys
/// <c>event-{version:D19}</c>, shared by every license) to the current one (<c>license|SERIAL</c>,
/// <c>event|SERIAL|{version:D19}</c>; see <see cref="LicenseEntities"/>). Partition keys, columns and the index
/// table do not change.
/// </summary>
/// <remarks>
/// <para>
/// One license at a time, each step idempotent: its events are copied to their new row keys (upserts of the same
/// content), then one entity group transaction deletes the old summary under the ETag it was read with and adds
/// the new one, then the old event rows are deleted. Until that transaction the license reads from its old rows;
/// from it on, from its new ones; event listings read both key ranges and keep one row per version, so a license
/// between the steps reads the same. A run that dies at any point is simply run again: it finds the licenses still
/// to move (and old event rows left behind) with the same queries. When no old row is left it records the layout
/// (row <c>layout</c> of the <c>~meta</c> partition), after which <see cref="TableLicenseStore"/> no longer looks for
/// old rows.
/// </para>
/// <para>
/// <see cref="TableLicenseStore"/> of this version reads both layouts while the record is missing: a license it
/// finds only under its old keys it moves first, with <see cref="MigrateAsync"/>, so it writes the current layout
/// only. Code of earlier versions reads the old layout only: stop it before the move starts.
/// </para>
/// </remarks>
public sealed class LicenseLayoutMigration
{
    /// <summary>The layout this version writes.</summary>
    public const int CurrentLayout = 2;

    internal const string MetaPartition = "~meta";
    internal const string LayoutRow = "layout";
    internal const string LayoutColumn = "Layout";

    /// <summary>Event rows copied or deleted per entity group transaction (an event row holds at most 64 KiB of data; a transaction 4 MiB).</summary>
    private const int EventsPerTransaction = 25;

    private const int MaxAttempts = 5;

    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];

    private readonly TableClient table;

    /// <summary>The migration of <paramref name="licensesTable"/> (the app's is <c>Smp:TablePrefix</c> + <c>licenses</c>).</summary>
    public LicenseLayoutMigration(TableServiceClient service, string licensesTable)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(licensesTable);
        table = service.GetTableClient(licensesTable);
    }

    /// <summary>
    /// Moves every license still in the first layout and deletes old event rows left behind, then records the
    /// layout. Returns the number of licenses moved by this run. <paramref name="onMoved"/>, if given, is told the
    /// running count after each license.
    /// </summary>
    public async Task<int> RunAsync(Action<int>? onMoved, CancellationToken cancellationToken)
    {
        bool recorded;
        try
        {
            recorded = await IsRecordedAsync(table, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0; // No licenses table: nothing to move, and the store records the layout when it creates it.
        }

        var moved = 0;
        var oldSummaries = TableClient.CreateQueryFilter($"RowKey eq {LicenseEntities.LegacySummaryRowKey}");
        var oldEvents = TableClient.CreateQueryFilter(
            $"RowKey ge {LicenseEntities.LegacyEventRowKeyPrefix} and RowKey lt {LegacyEventRowKeyEnd}");
        foreach (var filter in new[] { oldSummaries, oldEvents })
        {
            string? last = null;
            await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: KeyColumns, cancellationToken: cancellationToken))
            {
                if (row.PartitionKey == last)
                {
                    continue; // Several old event rows of one license: it was handled at the first.
                }

                last = row.PartitionKey;
                if (await MigrateAsync(table, row.PartitionKey, cleanUp: true, cancellationToken))
                {
                    moved++;
                    onMoved?.Invoke(moved);
                }
            }
        }

        if (!recorded)
        {
            await table.UpsertEntityAsync(new TableEntity(MetaPartition, LayoutRow) { [LayoutColumn] = CurrentLayout }, TableUpdateMode.Replace, cancellationToken);
        }

        return moved;
    }

    /// <summary>True when <paramref name="table"/> records the current layout: it holds no row of the first one.</summary>
    internal static async Task<bool> IsRecordedAsync(TableClient table, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(MetaPartition, LayoutRow, [LayoutColumn], cancellationToken);
        return row.HasValue && row.Value!.GetInt32(LayoutColumn) >= CurrentLayout;
    }

    /// <summary>
    /// Whether <paramref name="table"/> may still hold licenses of the first layout. A table with the layout recorded
    /// holds none; one without the record and without an old summary (a new table) gets the record now.
    /// </summary>
    internal static async Task<bool> MayHoldOldRowsAsync(TableClient table, CancellationToken cancellationToken)
    {
        if (await IsRecordedAsync(table, cancellationToken))
        {
            return false;
        }

        var filter = TableClient.CreateQueryFilter($"RowKey eq {LicenseEntities.LegacySummaryRowKey}");
        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: KeyColumns, cancellationToken: cancellationToken).AsPages(pageSizeHint: 1))
        {
            if (page.Values.Count > 0)
            {
                return true;
            }

            if (page.ContinuationToken is null)
            {
                break;
            }
        }

        try
        {
            await table.AddEntityAsync(new TableEntity(MetaPartition, LayoutRow) { [LayoutColumn] = CurrentLayout }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Recorded by another instance or by the migration.
        }

        return false;
    }

    /// <summary>
    /// Moves the license in <paramref name="partitionKey"/> to the current layout if its summary is still in the first
    /// one; true if this call moved it. With <paramref name="cleanUp"/>, also deletes old event rows that a move which
    /// died after its transaction left behind.
    /// </summary>
    internal static async Task<bool> MigrateAsync(TableClient table, string partitionKey, bool cleanUp, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var read = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, LicenseEntities.LegacySummaryRowKey, cancellationToken: cancellationToken);
            if (!read.HasValue)
            {
                if (cleanUp)
                {
                    await DeleteOldEventsIfMovedAsync(table, partitionKey, cancellationToken);
                }

                return false;
            }

            var old = read.Value!;
            var events = await OldEventsAsync(table, partitionKey, select: null, cancellationToken);

            // 1. The events under their new keys, before the summary: the license never reads without its history.
            foreach (var chunk in events.Chunk(EventsPerTransaction))
            {
                await table.SubmitTransactionAsync(
                    chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, WithRowKey(e, EventRowKeyOf(e)))),
                    cancellationToken);
            }

            // 2. The switch: the old summary goes (only as it was read) and the new one comes, together.
            try
            {
                await table.SubmitTransactionAsync(
                    [
                        new TableTransactionAction(TableTransactionActionType.Delete, old, old.ETag),
                        new TableTransactionAction(TableTransactionActionType.Add, WithRowKey(old, LicenseEntities.SummaryRowKeyOf(partitionKey))),
                    ],
                    cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
            {
                // Moved or changed by another process since it was read: read again.
                continue;
            }

            // 3. The old events, now copies.
            await DeleteAsync(table, events, cancellationToken);
            return true;
        }

        throw new InvalidOperationException($"The license in partition {partitionKey} kept changing while it was moved to the current layout; run the migration again.");
    }

    /// <summary>Exclusive upper bound of the first layout's event row keys ('.' sorts just after '-').</summary>
    private const string LegacyEventRowKeyEnd = "event.";

    private static async Task DeleteOldEventsIfMovedAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        var events = await OldEventsAsync(table, partitionKey, KeyColumns, cancellationToken);
        if (events.Count == 0)
        {
            return;
        }

        var moved = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, LicenseEntities.SummaryRowKeyOf(partitionKey), KeyColumns, cancellationToken);
        if (moved.HasValue)
        {
            await DeleteAsync(table, events, cancellationToken);
        }
    }

    private static async Task<List<TableEntity>> OldEventsAsync(TableClient table, string partitionKey, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partitionKey} and RowKey ge {LicenseEntities.LegacyEventRowKeyPrefix} and RowKey lt {LegacyEventRowKeyEnd}");
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: select, cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    private static async Task DeleteAsync(TableClient table, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        foreach (var chunk in rows.Chunk(EventsPerTransaction))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // Some were deleted by another run meanwhile: the rest one by one.
                foreach (var row in chunk)
                {
                    try
                    {
                        await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                    }
                    catch (RequestFailedException gone) when (gone.Status == 404)
                    {
                    }
                }
            }
        }
    }

    private static string EventRowKeyOf(TableEntity oldEvent) =>
        LicenseEntities.EventRowKeyOf(
            oldEvent.PartitionKey,
            long.Parse(oldEvent.RowKey.AsSpan(LicenseEntities.LegacyEventRowKeyPrefix.Length), System.Globalization.CultureInfo.InvariantCulture));

    private static TableEntity WithRowKey(TableEntity row, string rowKey)
    {
        var copy = new TableEntity(row.PartitionKey, rowKey);
        foreach (var (name, value) in row)
        {
            if (name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
            {
                copy[name] = value;
            }
        }

        return copy;
    }
}
