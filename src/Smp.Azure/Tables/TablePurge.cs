using Azure;
using Azure.Data.Tables;

namespace Smp.Azure.Tables;

/// <summary>Removes the rows of tables partitioned by business day (<c>yyyy-MM-dd</c>) for the days before a given one.</summary>
internal static class TablePurge
{
    /// <param name="onlyWhere">An OData filter the removed rows must also match (the others stay); null for every row.</param>
    public static async Task<int> PartitionsBeforeAsync(TableClient table, string firstKeptPartition, CancellationToken cancellationToken, string? onlyWhere = null)
    {
        var removed = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey lt {firstKeptPartition}");
        if (onlyWhere is not null)
        {
            filter = $"({filter}) and ({onlyWhere})";
        }

        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, ETag.All, cancellationToken);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // Removed by another run already.
            }
        }

        return removed;
    }
}
