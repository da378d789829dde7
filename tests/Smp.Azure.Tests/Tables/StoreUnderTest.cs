using Azure.Data.Tables;
using Smp.Azure.Tables;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>A <see cref="TableLicenseStore"/> on tables of its own in the shared Azurite, plus direct access to those tables.</summary>
internal sealed class StoreUnderTest
{
    private StoreUnderTest(AzuriteFixture azurite, TableClientOptions? clientOptions)
    {
        Options = new TableLicenseStoreOptions
        {
            LicensesTable = AzuriteFixture.UniqueTableName("licenses"),
            IndexTable = AzuriteFixture.UniqueTableName("licenseindex"),
        };
        Store = new TableLicenseStore(azurite.CreateServiceClient(clientOptions), Options);

        // Direct access for assertions and for simulating crashes; never through the store's own client.
        var direct = azurite.CreateServiceClient();
        Licenses = direct.GetTableClient(Options.LicensesTable);
        Index = direct.GetTableClient(Options.IndexTable);
    }

    public TableLicenseStoreOptions Options { get; }

    public TableLicenseStore Store { get; }

    public TableClient Licenses { get; }

    public TableClient Index { get; }

    public static StoreUnderTest Create(AzuriteFixture azurite, TableClientOptions? clientOptions = null) => new(azurite, clientOptions);

    /// <summary>Every row of both tables (a full scan: for assertions only).</summary>
    public async Task<Dictionary<(string Table, string PartitionKey, string RowKey), TableEntity>> SnapshotAsync()
    {
        var rows = new Dictionary<(string, string, string), TableEntity>();
        foreach (var table in new[] { Licenses, Index })
        {
            await foreach (var row in table.QueryAsync<TableEntity>())
            {
                rows[(table.Name, row.PartitionKey, row.RowKey)] = row;
            }
        }

        return rows;
    }

    /// <summary>Rows of one license's partition in the licenses table.</summary>
    public async Task<List<TableEntity>> PartitionAsync(string partitionKey)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Licenses.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}")))
        {
            rows.Add(row);
        }

        return rows;
    }
}
