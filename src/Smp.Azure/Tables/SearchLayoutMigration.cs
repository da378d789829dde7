using Azure;
using Azure.Data.Tables;

namespace Smp.Azure.Tables;

/// <summary>
/// Deletes the search rows of the first search layout from the index table: rows in partitions
/// <c>search-KIND|BUCKET</c>, one per kind of term and first character. The current layout keeps every search row in one
/// partition (see <see cref="LicenseSearchKeys"/>), and <see cref="TableLicenseStore"/> rebuilds those from the licenses
/// at its first search; the old rows are never read again, so deleting them changes no answer and may run before, during
/// or after that rebuild.
/// </summary>
/// <remarks>
/// Page by page (1,000 rows a query), each page's rows deleted in entity group transactions of up to 100 rows of one
/// partition. Deleting is idempotent: a run that stops is simply run again, and overlapping runs are harmless (a
/// transaction that meets a row another run deleted is done again row by row, a missing row skipped).
/// </remarks>
public sealed class SearchLayoutMigration
{
    private const int PageSize = 1000;
    private const int RowsPerTransaction = 100;
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];

    private readonly TableClient index;

    /// <summary>The migration of <paramref name="indexTable"/> (the app's is <c>Smp:TablePrefix</c> + <c>licenseindex</c>).</summary>
    public SearchLayoutMigration(TableServiceClient service, string indexTable)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(indexTable);
        index = service.GetTableClient(indexTable);
    }

    /// <summary>
    /// Deletes every row of the first layout's search partitions; returns how many this run deleted.
    /// <paramref name="onDeleted"/>, if given, is told the running count after each transaction.
    /// </summary>
    public async Task<int> RunAsync(Action<int>? onDeleted, CancellationToken cancellationToken)
    {
        var deleted = 0;
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
