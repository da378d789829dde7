using System.Net.Sockets;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Smp.TestSupport;

namespace Smp.Azure.Tests;

public sealed class AzuriteFixtureTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public void Unique_table_names_are_valid_and_distinct()
    {
        var names = new[] { AzuriteFixture.UniqueTableName(), AzuriteFixture.UniqueTableName("licenses"), AzuriteFixture.UniqueTableName("9 bad/prefix"), AzuriteFixture.UniqueTableName(new string('x', 100)) };

        Assert.All(names, n => Assert.Matches(new Regex("^[A-Za-z][A-Za-z0-9]{2,62}$"), n));
        Assert.Equal(names.Length, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public async Task Created_tables_are_empty_and_usable()
    {
        var table = await azurite.CreateTableAsync("fixture");

        await table.AddEntityAsync(new TableEntity("p", "r"));

        Assert.Single(table.Query<TableEntity>());
    }

    [Fact]
    public void The_connection_string_names_the_loopback_table_endpoint()
    {
        Assert.Equal(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteProcess.AccountKey};TableEndpoint=http://127.0.0.1:{azurite.Azurite.Port}/devstoreaccount1;",
            azurite.ConnectionString);
    }

    [Fact]
    public async Task An_owned_instance_answers_until_disposed_and_then_its_process_is_gone()
    {
        var owned = await AzuriteProcess.StartAsync();
        Assert.NotEqual(azurite.Azurite.Port, owned.Port);
        Assert.True(await AnswersAsync(owned.Port));

        await owned.DisposeAsync();

        Assert.False(await AnswersAsync(owned.Port));
    }

    [Fact]
    public async Task A_missing_install_fails_fast_with_the_fix_in_the_message()
    {
        var root = Directory.CreateTempSubdirectory("smp-no-azurite-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AzuriteProcess.StartAsync(root, TimeSpan.FromSeconds(5)));

            Assert.Contains("npm ci", error.Message, StringComparison.Ordinal);
            Assert.Contains("tools", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void The_repository_root_holds_the_solution()
    {
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Path, RepositoryRoot.MarkerFile)));
    }

    private static async Task<bool> AnswersAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
