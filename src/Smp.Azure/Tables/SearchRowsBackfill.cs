using Azure.Data.Tables;

namespace Smp.Azure.Tables;

/// <summary>
/// Writes the search rows of every stored license in the current layout (<see cref="LicenseSearchKeys"/>), a page of
/// licenses at a time, recording after each page in row <see cref="RecordRow"/> of partition <c>~meta</c> the last
/// license done (so that a run that stops resumes there) and, once every license is done, that the index is built.
/// The licenses are the source: a row written again is idempotent and never lowers its version, so overlapping runs
/// and concurrent changes are harmless. A record that cannot be read is passed over (no search could show it either;
/// its next change writes its rows).
/// </summary>
/// <remarks>
/// The record is this layout's own: the first search layout kept its progress in row <c>search-index</c>, which code of
/// that layout still reads and writes while it runs beside this version in a slot swap, so that row never says whether
/// this layout's rows are complete.
/// </remarks>
internal static class SearchRowsBackfill
{
    public const string RecordRow = "search-terms-index";
    public const string BuiltColumn = "Built";
    private const string AfterColumn = "RebuiltThrough";

    private static readonly string[] Columns = ["PartitionKey", "RowKey", LicenseEntities.SchemaColumn, LicenseEntities.LicenseColumn, LicenseEntities.VersionColumn];

    /// <summary>Whether the record says every license has its rows in this layout.</summary>
    public static async Task<bool> IsBuiltAsync(TableClient licenses, CancellationToken cancellationToken)
    {
        var record = await licenses.GetEntityIfExistsAsync<TableEntity>(LicenseLayoutMigration.MetaPartition, RecordRow, [BuiltColumn], cancellationToken);
        return record.HasValue && record.Value!.GetBoolean(BuiltColumn) == true;
    }

    /// <summary>Records a store without licenses as built (nothing to write); a record already there stays.</summary>
    public static async Task MarkBuiltAsync(TableClient licenses, CancellationToken cancellationToken)
    {
        try
        {
            await licenses.AddEntityAsync(new TableEntity(LicenseLayoutMigration.MetaPartition, RecordRow) { [BuiltColumn] = true }, cancellationToken);
        }
        catch (global::Azure.RequestFailedException e) when (e.Status == 409)
        {
            // Another instance recorded it first.
        }
    }

    /// <summary>
    /// Runs the backfill to its end, from where the record says an earlier run stopped (nothing when it is built);
    /// returns how many licenses this run wrote. <paramref name="onLicense"/>, if given, is told the running count.
    /// </summary>
    public static async Task<int> RunAsync(TableClient licenses, TableClient index, int pageSize, Action<int>? onLicense, CancellationToken cancellationToken)
    {
        var record = await licenses.GetEntityIfExistsAsync<TableEntity>(LicenseLayoutMigration.MetaPartition, RecordRow, cancellationToken: cancellationToken);
        if (record.HasValue && record.Value!.GetBoolean(BuiltColumn) == true)
        {
            return 0;
        }

        var rows = new WriteAheadRows(index);
        var done = 0;
        var after = record.HasValue ? record.Value!.GetString(AfterColumn) ?? string.Empty : string.Empty;
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {LicenseEntities.SummaryRowKeyLower} and RowKey lt {LicenseEntities.SummaryRowKeyUpper} and PartitionKey gt {after}");
        await foreach (var page in licenses.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, select: Columns, cancellationToken: cancellationToken).AsPages(pageSizeHint: pageSize))
        {
            foreach (var row in page.Values)
            {
                Smp.Core.Licenses.StoredLicense stored;
                try
                {
                    stored = LicenseEntities.ToStoredLicense(row);
                }
                catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or NotSupportedException or FormatException)
                {
                    continue;
                }

                foreach (var key in LicenseSearchKeys.KeysFor(stored.License))
                {
                    await rows.WriteAsync(LicenseEntities.IndexRow(key, stored.License.Serial, stored.Version), cancellationToken);
                }

                done++;
                onLicense?.Invoke(done);
            }

            if (page.Values.Count > 0
                && !await TryRecordAsync(licenses, new TableEntity(LicenseLayoutMigration.MetaPartition, RecordRow) { [BuiltColumn] = false, [AfterColumn] = page.Values[^1].PartitionKey }, cancellationToken))
            {
                return done; // Another run recorded the index as built meanwhile: nothing is left to do.
            }
        }

        await TryRecordAsync(licenses, new TableEntity(LicenseLayoutMigration.MetaPartition, RecordRow) { [BuiltColumn] = true }, cancellationToken);
        return done;
    }

    /// <summary>
    /// Records progress (or the end) unless the record already says built: an overlapping run that finished first is
    /// never set back to not built. False when it says built.
    /// </summary>
    private static async Task<bool> TryRecordAsync(TableClient licenses, TableEntity record, CancellationToken cancellationToken)
    {
        while (true)
        {
            var stored = await licenses.GetEntityIfExistsAsync<TableEntity>(LicenseLayoutMigration.MetaPartition, RecordRow, [BuiltColumn], cancellationToken);
            try
            {
                if (!stored.HasValue)
                {
                    await licenses.AddEntityAsync(record, cancellationToken);
                    return true;
                }

                if (stored.Value!.GetBoolean(BuiltColumn) == true)
                {
                    return false;
                }

                await licenses.UpdateEntityAsync(record, stored.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (global::Azure.RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another run wrote it in between: look again.
            }
        }
    }
}
