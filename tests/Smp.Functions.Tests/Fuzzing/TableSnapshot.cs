using Azure.Data.Tables;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>One stored row, as far as "did anything change" is concerned.</summary>
public sealed record StoredRow(string Table, string PartitionKey, string RowKey, string ETag)
{
    public override string ToString() => $"{Table}({PartitionKey}, {RowKey}) {ETag}";
}

/// <summary>Every row of every table whose name starts with a harness's table prefix, read straight from storage.</summary>
public sealed class TableSnapshot
{
    private TableSnapshot(IReadOnlySet<StoredRow> rows) => Rows = rows;

    public IReadOnlySet<StoredRow> Rows { get; }

    public static async Task<TableSnapshot> TakeAsync(TableServiceClient service, string prefix)
    {
        var rows = new HashSet<StoredRow>();
        // '{' sorts right after 'z': the range holds exactly the names that start with the (lower-case) prefix.
        await foreach (var table in service.QueryAsync(filter: $"TableName ge '{prefix}' and TableName lt '{prefix}{{'"))
        {
            if (!table.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            await foreach (var entity in service.GetTableClient(table.Name).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
            {
                rows.Add(new StoredRow(table.Name, entity.PartitionKey, entity.RowKey, entity.ETag.ToString()));
            }
        }

        return new TableSnapshot(rows);
    }

    /// <summary>The rows added, removed or rewritten since <paramref name="before"/>, for failure messages; empty when nothing changed.</summary>
    public string DifferenceFrom(TableSnapshot before)
    {
        var added = Rows.Except(before.Rows).Select(r => "+ " + r);
        var removed = before.Rows.Except(Rows).Select(r => "- " + r);
        return string.Join(Environment.NewLine, added.Concat(removed));
    }
}
