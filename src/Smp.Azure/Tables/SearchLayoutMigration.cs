using Azure;
using Azure.Data.Tables;

namespace Smp.Azure.Tables;

/// <summary>
/// Moves a store's search rows from the first search layout (partitions <c>search-KIND|BUCKET</c>, one per kind of term
/// and first character) to the current one (every search row in one partition, see <see cref="LicenseSearchKeys"/>):
/// first it writes every license's rows in the current layout from the licenses (<see cref="SearchRowsBackfill"/>,
/// resumable, recorded as built at the end: from then on searches read the current layout only), then it deletes every
/// row of the first layout. Until the rebuild is recorded, searches read both layouts, so the app answers throughout.
/// Run it once no host of the first layout is left (after the slot swap): a license such a host changed after the
/// rebuild passed it would have rows in the first layout only.
/// </summary>
/// <remarks>
/// The rebuild reads each license and writes each of its search rows (a read and a write per row, as every index row
/// is written when it may exist): about 13 requests per license. The delete goes page by page (1,000 rows a query),
/// each page's rows in entity group transactions of up to 100 rows of one partition. Both are idempotent: a run that
/// stops is simply run again, and overlapping runs are harmless (a transaction that meets a row another run deleted is
/// done again row by row, a missing row skipped).
/// </remarks>
public sealed class SearchLayoutMigration
{
    private const int PageSize = 1000;
    private const int RowsPerTransaction = 100;
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];

    private const int LicensesPerPage = 100;

    private readonly TableClient licenses;
    private readonly TableClient index;

    /// <summary>
    /// The migration of <paramref name="indexTable"/> from <paramref name="licensesTable"/> (the app's are
    /// <c>Smp:TablePrefix</c> + <c>licenseindex</c> and + <c>licenses</c>).
    /// </summary>
    public SearchLayoutMigration(TableServiceClient service, string licensesTable, string indexTable)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(licensesTable);
        ArgumentException.ThrowIfNullOrWhiteSpace(indexTable);
        licenses = service.GetTableClient(licensesTable);
        index = service.GetTableClient(indexTable);
    }

    /// <summary>
    /// Step 1: writes every license's search rows in the current layout, unless recorded as done; returns how many
    /// licenses this run wrote. <paramref name="onLicense"/>, if given, is told the running count.
    /// </summary>
    public async Task<int> RebuildAsync(Action<int>? onLicense, CancellationToken cancellationToken)
    {
        try
        {
            return await SearchRowsBackfill.RunAsync(licenses, index, LicensesPerPage, onLicense, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0; // No licenses table: a store never used.
        }
    }

    /// <summary>
    /// Step 2, after <see cref="RebuildAsync"/>: deletes every row of the first layout's search partitions; returns how
    /// many this run deleted.
    /// <paramref name="onDeleted"/>, if given, is told the running count after each transaction.
    /// </summary>
    public async Task<int> RunAsync(Action<int>? onDeleted, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var rebuilt = false;
        foreach (var (lower, upper) in LicenseSearchKeys.OldPartitionRanges())
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey ge {lower} and PartitionKey lt {upper}");
            while (true)
            {
                List<TableEntity> rows;
                try
                {
                    rows = await FirstPageAsync(filter, cancellationToken);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    return deleted; // No index table: nothing of the first layout to delete.
                }

                if (rows.Count == 0)
                {
                    break;
                }

                if (!rebuilt && !(rebuilt = await SearchRowsBackfill.IsBuiltAsync(licenses, cancellationToken)))
                {
                    // Searches still read the first layout's rows: deleting them now would leave licenses unfindable.
                    throw new InvalidOperationException("The search rows are not all written in the current layout yet; rebuild them first (RebuildAsync).");
                }

                foreach (var batch in rows.GroupBy(r => r.PartitionKey, StringComparer.Ordinal).SelectMany(p => p.Chunk(RowsPerTransaction)))
                {
                    await DeleteAsync(batch, cancellationToken);
                    deleted += batch.Length;
                    onDeleted?.Invoke(deleted);
                }
            }
        }

        return deleted;
    }

    private async Task<List<TableEntity>> FirstPageAsync(string filter, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        await foreach (var page in index.QueryAsync<TableEntity>(filter, maxPerPage: PageSize, select: KeyColumns, cancellationToken: cancellationToken).AsPages(pageSizeHint: PageSize))
        {
            rows.AddRange(page.Values);
            if (rows.Count > 0)
            {
                break; // The deleted rows are gone from the next query; an empty page with a continuation reads on.
            }
        }

        return rows;
    }

    /// <summary>Deletes the rows of one partition in one transaction; row by row when one of them is gone already.</summary>
    private async Task DeleteAsync(TableEntity[] rows, CancellationToken cancellationToken)
    {
        try
        {
            await index.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            foreach (var row in rows)
            {
                await index.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            }
        }
    }
}
