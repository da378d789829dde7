using Azure.Data.Tables;
using Xunit;

namespace Smp.TestSupport;

/// <summary>
/// xunit fixture (class or collection) giving tests the Azurite table server of this test process.
/// Every test class shares one Azurite process, started on first use and killed when the test process
/// exits; tests stay isolated by working in tables of their own (<see cref="CreateTableAsync"/>), so
/// they can run in parallel.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? azurite;

    public AzuriteProcess Azurite => azurite ?? throw new InvalidOperationException("The fixture is not initialized yet.");

    public string ConnectionString => Azurite.ConnectionString;

    /// <summary>A table name no other test uses: the prefix's letters and digits, then a random suffix (at most 63 characters).</summary>
    public static string UniqueTableName(string prefix = "t")
    {
        var letters = new string([.. prefix.Where(char.IsAsciiLetterOrDigit)]);
        if (letters.Length == 0 || !char.IsAsciiLetter(letters[0]))
        {
            letters = "t" + letters;
        }

        var suffix = Guid.NewGuid().ToString("N");
        return (letters.Length > 63 - suffix.Length ? letters[..(63 - suffix.Length)] : letters) + suffix;
    }

    public TableServiceClient CreateServiceClient(TableClientOptions? options = null) =>
        new(ConnectionString, options ?? new TableClientOptions());

    /// <summary>Creates a new, empty table with a unique name and returns its client.</summary>
    public async Task<TableClient> CreateTableAsync(string prefix = "t", CancellationToken cancellationToken = default)
    {
        var table = CreateServiceClient().GetTableClient(UniqueTableName(prefix));
        await table.CreateAsync(cancellationToken);
        return table;
    }

    public async Task InitializeAsync() => azurite = await AzuriteProcess.GetSharedAsync();

    /// <summary>Nothing to do: the shared process outlives test classes and dies with the test process.</summary>
    public Task DisposeAsync() => Task.CompletedTask;
}
