using Azure;
using Azure.Data.Tables;

namespace Smp.Azure.Tables;

/// <summary>
/// The write-ahead protocol of rows that cannot join the transaction of the row they serve (the license index rows,
/// the outbox markers). Each such row records in <see cref="VersionColumn"/> the version of the main row it was
/// written for. It is written <b>before</b> the main row changes and removed <b>after</b>, so a crash at any point
/// leaves an extra row, never a missing one; readers treat a row as stale only once the main row has reached its
/// version and no longer needs it.
/// </summary>
/// <remarks>
/// A row's version is never lowered: a writer that read an older main row (and so is bound to lose its own write)
/// must not overwrite a row that a newer state wrote, or a late clean-up of that older version would remove a row the
/// newer state needs. Removals are conditional on the row's ETag, so a row rewritten meanwhile stays.
/// </remarks>
internal sealed class WriteAheadRows
{
    /// <summary>The column that holds the main row's version a row was written for.</summary>
    public const string VersionColumn = "Version";

    private const int MaxWriteAttempts = 20;
    private static readonly string[] VersionOnly = [VersionColumn];

    private readonly TableClient table;
    private readonly Func<TableEntity, TableEntity, bool>? replacesSameVersion;
    private readonly string[]? columnsCompared;

    /// <param name="table">The table of the rows.</param>
    /// <param name="replacesSameVersion">
    /// Given the stored row and the one to write, both of the same version (two writers that read the same main row, of
    /// which at most one commits), whether the new one replaces it; by default the stored one stays.
    /// </param>
    /// <param name="columnsCompared">The columns, besides <see cref="VersionColumn"/>, that <paramref name="replacesSameVersion"/> reads.</param>
    public WriteAheadRows(TableClient table, Func<TableEntity, TableEntity, bool>? replacesSameVersion = null, params string[] columnsCompared)
    {
        this.table = table;
        this.replacesSameVersion = replacesSameVersion;
        this.columnsCompared = replacesSameVersion is null ? VersionOnly : [VersionColumn, .. columnsCompared];
    }

    /// <summary>The version a row was written for (0 for a row that lacks it).</summary>
    public static long VersionOf(TableEntity row) => row.GetInt64(VersionColumn) ?? 0;

    /// <summary>
    /// Step 1, before the main row changes to the version <paramref name="row"/> records: makes the row exist with a
    /// version of at least that. A stored row of a newer version is left as it is (never lowered). The ETag of this
    /// write when it wrote the row; null when the stored row was left as another writer wrote it.
    /// </summary>
    public async Task<ETag?> WriteAsync(TableEntity row, CancellationToken cancellationToken)
    {
        var version = VersionOf(row);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey, columnsCompared, cancellationToken);
            try
            {
                if (!existing.HasValue)
                {
                    return (await table.AddEntityAsync(row, cancellationToken)).Headers.ETag;
                }

                var stored = VersionOf(existing.Value!);
                if (stored > version || (stored == version && !(replacesSameVersion?.Invoke(existing.Value!, row) ?? false)))
                {
                    return null;
                }

                return (await table.UpdateEntityAsync(row, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412 or 404)
            {
                // Another writer added, changed or removed the row in between: look at it again.
            }
        }

        throw new InvalidOperationException($"Row ({row.PartitionKey}, {row.RowKey}) kept changing; gave up after {MaxWriteAttempts} attempts.");
    }

    /// <summary>
    /// Step 1 for a row that is almost always absent (those of a new main row): inserts it without reading it first. Only
    /// when the insert conflicts (a row left by an earlier attempt that crashed or lost a race, or one a newer state
    /// wrote) is the stored row read and judged as <see cref="WriteAsync"/> judges it, so a newer row is never lowered.
    /// The ETag of this write when it wrote the row; null when the stored row was left as another writer wrote it.
    /// </summary>
    public async Task<ETag?> InsertAsync(TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            return (await table.AddEntityAsync(row, cancellationToken)).Headers.ETag;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // The row exists (also when the answer to this very insert was lost and the resend met it).
        }

        return await WriteAsync(row, cancellationToken);
    }

    /// <summary>
    /// Step 3, after the main row changed: removes a row that only states up to <paramref name="upToVersion"/> needed,
    /// unless a newer writer has raised it since.
    /// </summary>
    public async Task RetireAsync(string partitionKey, string rowKey, long upToVersion, CancellationToken cancellationToken)
    {
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, VersionOnly, cancellationToken);
        if (existing.HasValue && VersionOf(existing.Value!) <= upToVersion)
        {
            await DeleteIfUnchangedAsync(partitionKey, rowKey, existing.Value!.ETag, cancellationToken);
        }
    }

    /// <summary>
    /// For readers: removes a row found stale (the main row has reached its version and does not need it), if it is
    /// still as read. Best effort: a row that stays is skipped again next time.
    /// </summary>
    public async Task RemoveStaleAsync(TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await DeleteIfUnchangedAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            // Best effort: the row stays stale and is skipped again next time.
        }
    }

    private async Task DeleteIfUnchangedAsync(string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partitionKey, rowKey, etag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Gone already, or rewritten by a writer that needs it: leave it.
        }
    }
}
