using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Search;

namespace Smp.Azure.Tables;

/// <summary>
/// The search index (<see cref="ILicenseSearchIndex"/>): its rows (<see cref="LicenseSearchKeys"/>) are among the keys
/// of <see cref="LicenseIndex.KeysFor"/>, so every change writes and retires them by the same write-ahead protocol as
/// the other indexes, and a look-up resolves them like any index row (stale rows skipped and removed). While a store
/// moved from the first search layout has not had its rows rebuilt, a look-up reads that layout's rows too.
/// </summary>
public sealed partial class TableLicenseStore : ILicenseSearchIndex
{
    /// <summary>
    /// The row (in <see cref="MetaPartition"/>) in which the first search layout recorded that every license had its
    /// search rows. This version only reads it: once true, the store holds a complete index of the first layout.
    /// </summary>
    private const string FirstLayoutIndexRow = "search-index";

    /// <summary>Whether this layout's index is known to be complete (remembered by this process once read).</summary>
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

        // Decided before the current layout is read: a move recorded as done while this search reads would otherwise
        // skip old rows whose licenses it had not found in the current layout yet.
        var readsFirstLayout = await ReadsFirstLayoutAsync(cancellationToken);
        var found = new HashSet<IndexKey>();
        await foreach (var (key, license) in FindCurrentAsync(partition, lower, upper, pageSize, found, cancellationToken))
        {
            found.Add(key);
            yield return license;
        }

        if (!readsFirstLayout || LicenseSearchKeys.FirstLayoutRangeOf(lookup) is not var (oldPartition, oldLower, oldUpper))
        {
            yield break;
        }

        // A store moved from the first layout whose rows are not all rebuilt yet: its first-layout rows answer too, each
        // used when its license has that term now and the current layout has not answered it already. Never removed
        // here: they go all at once when the move is done (SearchLayoutMigration).
        var oldFilter = TableClient.CreateQueryFilter($"PartitionKey eq {oldPartition} and RowKey ge {oldLower} and RowKey lt {oldUpper}");
        var oldRows = index.QueryAsync<TableEntity>(oldFilter, maxPerPage: pageSize, select: IndexColumns, cancellationToken: cancellationToken);
        await foreach (var page in oldRows.AsPages(pageSizeHint: pageSize))
        {
            foreach (var chunk in page.Values.Chunk(ParallelReads))
            {
                var resolved = await Task.WhenAll(chunk.Select(row => ResolveFirstLayoutRowAsync(row, found, cancellationToken)));
                foreach (var (key, license) in resolved)
                {
                    if (license is not null && found.Add(key))
                    {
                        yield return license;
                    }
                }
            }
        }

        // The step deletes old rows only once the move is recorded as done, after every license's current rows are
        // written: if it is recorded now, old rows this search missed have current rows, read again here.
        if (await SearchRowsBackfill.IsBuiltAsync(licenses, cancellationToken))
        {
            searchIndexBuilt = true;
            await foreach (var (key, license) in FindCurrentAsync(partition, lower, upper, pageSize, found, cancellationToken))
            {
                found.Add(key);
                yield return license;
            }
        }
    }

    /// <summary>The licenses of the current layout's rows in [lower, upper) that apply to them, except the keys in <paramref name="skipped"/>; stale rows removed.</summary>
    private async IAsyncEnumerable<(IndexKey Key, StoredLicense License)> FindCurrentAsync(string partition, string lower, string upper, int pageSize, HashSet<IndexKey> skipped, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {lower} and RowKey lt {upper}");
        var rows = index.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, select: IndexColumns, cancellationToken: cancellationToken);
        await foreach (var page in rows.AsPages(pageSizeHint: pageSize))
        {
            foreach (var chunk in page.Values.Where(row => !skipped.Contains(new IndexKey(row.PartitionKey, row.RowKey))).Chunk(ParallelReads))
            {
                var resolved = await Task.WhenAll(chunk.Select(row => ResolveIndexRowAsync(row, isolate: false, cancellationToken)));
                await Task.WhenAll(resolved.Where(r => r.Stale is not null).Select(r => indexRows.RemoveStaleAsync(r.Stale!, cancellationToken)));
                for (var i = 0; i < resolved.Length; i++)
                {
                    if (resolved[i].License is { } license)
                    {
                        yield return (new IndexKey(chunk[i].PartitionKey, chunk[i].RowKey), license);
                    }
                }
            }
        }
    }

    /// <summary>The license a first-layout search row points to, when its current state has that term and the current layout did not answer it.</summary>
    private async Task<(IndexKey Key, StoredLicense? License)> ResolveFirstLayoutRowAsync(TableEntity row, HashSet<IndexKey> found, CancellationToken cancellationToken)
    {
        if (LicenseSearchKeys.CurrentKeyOfFirstLayout(new IndexKey(row.PartitionKey, row.RowKey)) is not { } key
            || found.Contains(key)
            || !Serial.TryParse(row.GetString(LicenseEntities.SerialColumn), out var serial))
        {
            return (default, null);
        }

        var stored = await ReadAsync(serial, cancellationToken);
        return (key, stored is not null && LicenseSearchKeys.KeysFor(stored.License).Contains(key) ? stored : null);
    }

    /// <summary>
    /// Whether searches also read the first layout's rows: this layout's index is not complete, and the first layout's
    /// was (a store moved from it whose rows the <c>search-layout</c> step has not rebuilt yet). Two point reads per
    /// search until then; none once this layout is built.
    /// </summary>
    private async Task<bool> ReadsFirstLayoutAsync(CancellationToken cancellationToken)
    {
        if (searchIndexBuilt)
        {
            return false;
        }

        if (await SearchRowsBackfill.IsBuiltAsync(licenses, cancellationToken))
        {
            searchIndexBuilt = true;
            return false;
        }

        var first = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, FirstLayoutIndexRow, [SearchRowsBackfill.BuiltColumn], cancellationToken);
        return first.HasValue && first.Value!.GetBoolean(SearchRowsBackfill.BuiltColumn) == true;
    }

    /// <summary>
    /// Makes every stored license findable. A store whose licenses predate search has no search rows: they are written
    /// here (<see cref="SearchRowsBackfill"/>, a page of <see cref="TableLicenseStoreOptions.ReminderRebuildPageSize"/>
    /// licenses at a time, resumable), and from then on (remembered by this process) this costs nothing. A store moved
    /// from the first search layout is findable already, through both layouts (see <see cref="FindAsync"/>): its rows
    /// are rebuilt by the <c>search-layout</c> step, outside any request.
    /// </summary>
    public async Task EnsureBuiltAsync(CancellationToken cancellationToken)
    {
        if (searchIndexBuilt)
        {
            return;
        }

        await tablesCreated.EnsureAsync(cancellationToken);
        if (await ReadsFirstLayoutAsync(cancellationToken) || searchIndexBuilt)
        {
            return;
        }

        await SearchRowsBackfill.RunAsync(licenses, index, rebuildPageSize, null, cancellationToken);
        searchIndexBuilt = true;
    }

    /// <summary>A store that holds no license yet needs no backfill: its search index is built from the start.</summary>
    private async Task MarkNewSearchIndexAsync(CancellationToken cancellationToken)
    {
        if (await SearchRowsBackfill.IsBuiltAsync(licenses, cancellationToken))
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

        await SearchRowsBackfill.MarkBuiltAsync(licenses, cancellationToken);
    }
}
