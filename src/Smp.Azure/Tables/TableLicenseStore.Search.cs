using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Smp.Core.Licenses;
using Smp.Core.Search;

namespace Smp.Azure.Tables;

/// <summary>
/// The search index (<see cref="ILicenseSearchIndex"/>): its rows (<see cref="LicenseSearchKeys"/>) are among the keys
/// of <see cref="LicenseIndex.KeysFor"/>, so every change writes and retires them by the same write-ahead protocol as
/// the other indexes, and a look-up resolves them like any index row (stale rows skipped and removed).
/// </summary>
public sealed partial class TableLicenseStore : ILicenseSearchIndex
{
    /// <summary>The row (in <see cref="MetaPartition"/>) recording whether every stored license has its search rows, and a backfill's progress.</summary>
    private const string SearchIndexRow = "search-index";
    private const string SearchBuiltColumn = "Built";

    /// <summary>
    /// The row (in <see cref="MetaPartition"/>) recording that the search rows are in their current layout (one partition,
    /// see <see cref="LicenseSearchKeys"/>): while it is missing, the rows a store holds are of the first layout, and the
    /// record of <see cref="SearchIndexRow"/> speaks of those.
    /// </summary>
    private const string SearchLayoutRow = "search-layout";
    private const string SearchLayoutColumn = "Layout";

    /// <summary>The layout of search rows this version writes and reads.</summary>
    private const int SearchLayout = 2;

    private volatile bool searchIndexBuilt;

    public async IAsyncEnumerable<StoredLicense> FindAsync(SearchLookup lookup, int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        pageSize = Math.Min(pageSize, 1000);
        if (LicenseSearchKeys.RangeOf(lookup) is not var (partition, lower, upper))
        {
            yield break;
        }

        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {lower} and RowKey lt {upper}");
        var rows = index.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, select: IndexColumns, cancellationToken: cancellationToken);
        await foreach (var page in rows.AsPages(pageSizeHint: pageSize))
        {
            foreach (var chunk in page.Values.Chunk(ParallelReads))
            {
                var resolved = await Task.WhenAll(chunk.Select(row => ResolveIndexRowAsync(row, isolate: false, cancellationToken)));
                await Task.WhenAll(resolved.Where(r => r.Stale is not null).Select(r => indexRows.RemoveStaleAsync(r.Stale!, cancellationToken)));
                foreach (var (license, _, _) in resolved)
                {
                    if (license is not null)
                    {
                        yield return license;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Licenses stored before the search index existed have no search rows: this writes them, a page of licenses at a
    /// time (<see cref="TableLicenseStoreOptions.ReminderRebuildPageSize"/>), recording after each page the last
    /// license done, so that a run that dies resumes there; when every license is done it records the index as built,
    /// and from then on (remembered by this process) it costs nothing. Writing a row again is idempotent and never lowers
    /// its version, so overlapping runs and concurrent changes are harmless. A record that cannot be read is passed
    /// over: no search could show it either; its next change writes its rows.
    /// </summary>
    public async Task EnsureBuiltAsync(CancellationToken cancellationToken)
    {
        if (searchIndexBuilt)
        {
            return;
        }

        await tablesCreated.EnsureAsync(cancellationToken);
        await StartSearchLayoutAsync(cancellationToken);
        var state = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, SearchIndexRow, cancellationToken: cancellationToken);
        if (state.HasValue && state.Value!.GetBoolean(SearchBuiltColumn) == true)
        {
            searchIndexBuilt = true;
            return;
        }

        var after = state.HasValue ? state.Value!.GetString(AfterColumn) ?? string.Empty : string.Empty;
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {LicenseEntities.SummaryRowKeyLower} and RowKey lt {LicenseEntities.SummaryRowKeyUpper} and PartitionKey gt {after}");
        await foreach (var page in licenses.QueryAsync<TableEntity>(filter, maxPerPage: rebuildPageSize, select: RebuildColumns, cancellationToken: cancellationToken).AsPages(pageSizeHint: rebuildPageSize))
        {
            foreach (var row in page.Values)
            {
                StoredLicense stored;
                try
                {
                    stored = LicenseEntities.ToStoredLicense(row);
                }
                catch (Exception e) when (IsUnreadableRecord(e))
                {
                    continue;
                }

                foreach (var key in LicenseSearchKeys.KeysFor(stored.License))
                {
                    await WriteIndexRowAsync(key, stored.License.Serial, stored.Version, cancellationToken);
                }
            }

            if (page.Values.Count > 0)
            {
                await licenses.UpsertEntityAsync(
                    new TableEntity(MetaPartition, SearchIndexRow) { [SearchBuiltColumn] = false, [AfterColumn] = page.Values[^1].PartitionKey },
                    TableUpdateMode.Replace,
                    cancellationToken);
            }
        }

        await licenses.UpsertEntityAsync(new TableEntity(MetaPartition, SearchIndexRow) { [SearchBuiltColumn] = true }, TableUpdateMode.Replace, cancellationToken);
        searchIndexBuilt = true;
    }

    /// <summary>A store that holds no license yet needs no backfill: its search index is built from the start.</summary>
    private async Task MarkNewSearchIndexAsync(CancellationToken cancellationToken)
    {
        var state = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, SearchIndexRow, [SearchBuiltColumn], cancellationToken);
        if (state.HasValue)
        {
            return;
        }

        var filter = TableClient.CreateQueryFilter($"RowKey ge {LicenseEntities.SummaryRowKeyLower} and RowKey lt {LicenseEntities.SummaryRowKeyUpper}");
        await foreach (var page in licenses.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken).AsPages(pageSizeHint: 1))
        {
            if (page.Values.Count > 0)
            {
                return;
            }

            if (page.ContinuationToken is null)
            {
                break;
            }
        }

        // The index first, then its layout: a crash between leaves a store whose first search rebuilds its search rows once.
        foreach (var record in new[]
        {
            new TableEntity(MetaPartition, SearchIndexRow) { [SearchBuiltColumn] = true },
            new TableEntity(MetaPartition, SearchLayoutRow) { [SearchLayoutColumn] = SearchLayout },
        })
        {
            try
            {
                await licenses.AddEntityAsync(record, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // Another instance recorded it first.
            }
        }
    }

    /// <summary>
    /// A store whose search rows are of the first layout (one partition per kind and first character, written before
    /// <see cref="SearchLayoutRow"/> existed) rebuilds them in the current one: in one transaction, the search index is
    /// recorded as not built, to be backfilled from the first license, and the layout as current. Until that backfill
    /// ends, searches wait for it as they do for a store that predates search. The first layout's rows are never read
    /// again; <see cref="SearchLayoutMigration"/> deletes them. Of two hosts starting it, one transaction wins and the
    /// other leaves it be (it would otherwise undo the winner's progress).
    /// </summary>
    private async Task StartSearchLayoutAsync(CancellationToken cancellationToken)
    {
        var layout = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, SearchLayoutRow, [SearchLayoutColumn], cancellationToken);
        if (layout.HasValue)
        {
            return;
        }

        try
        {
            await licenses.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(MetaPartition, SearchIndexRow) { [SearchBuiltColumn] = false, [AfterColumn] = string.Empty }),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(MetaPartition, SearchLayoutRow) { [SearchLayoutColumn] = SearchLayout }),
                ],
                cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Another host started the rebuild first: its record stands.
        }
    }
}
