using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableUpdateStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant PublishedAt = Instant.FromUtc(2026, 3, 20, 16, 0, 5);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task An_update_round_trips_and_a_second_add_of_its_version_is_refused()
    {
        var (store, _) = Create();
        var release = new UpdateRelease(UpdateVersion.Parse("1.96b"), new LocalDate(2026, 4, 1), PublishedAt, null, HasPassword: true);

        Assert.True(await store.TryAddAsync(release, Ct));
        Assert.False(await store.TryAddAsync(release with { ReleasedOn = new LocalDate(2026, 5, 1) }, Ct));

        var stored = await store.GetAsync(UpdateVersion.Parse("1.96B"), Ct);
        Assert.NotNull(stored);
        Assert.Equal(release, stored.Release);
        Assert.Null(await store.GetAsync(UpdateVersion.Parse("1.97"), Ct));
    }

    [Fact]
    public async Task A_replace_under_a_stale_token_is_refused_and_writes_nothing()
    {
        var (store, _) = Create();
        var version = UpdateVersion.Parse("2.0");
        Assert.True(await store.TryAddAsync(new UpdateRelease(version, new LocalDate(2026, 4, 1), PublishedAt, null), Ct));
        var read = (await store.GetAsync(version, Ct))!;
        var announced = read.Release with { AnnouncedAt = PublishedAt.Plus(Duration.FromHours(1)) };

        Assert.True(await store.TryReplaceAsync(read, announced, Ct));
        Assert.False(await store.TryReplaceAsync(read, read.Release with { HasPassword = true }, Ct));

        Assert.Equal(announced, (await store.GetAsync(version, Ct))!.Release);
    }

    [Fact]
    public async Task The_list_holds_every_update_by_release_date_then_version_and_no_password_is_stored()
    {
        var (store, table) = Create();
        foreach (var (version, releasedOn) in new[] { ("1.97", new LocalDate(2026, 6, 1)), ("1.96B", new LocalDate(2026, 4, 1)), ("1.96", new LocalDate(2026, 4, 1)) })
        {
            Assert.True(await store.TryAddAsync(new UpdateRelease(UpdateVersion.Parse(version), releasedOn, PublishedAt, null, HasPassword: true), Ct));
        }

        var listed = await store.ListAsync(Ct);

        Assert.Equal(["1.96", "1.96B", "1.97"], listed.Select(u => u.Version.Value));
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            Assert.Equal(TableUpdateStore.Partition, row.PartitionKey);
            Assert.DoesNotContain(row.Keys, k => k.Contains("password", StringComparison.OrdinalIgnoreCase) && k != "HasPassword");
        }
    }

    [Fact]
    public async Task An_empty_store_lists_nothing()
    {
        var (store, _) = Create();

        Assert.Empty(await store.ListAsync(Ct));
    }

    [Fact]
    public void AddSmpTableStorage_registers_the_update_store_on_a_prefixed_table()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Smp:Tables"] = azurite.ConnectionString, ["Smp:TablePrefix"] = "envA" })
            .Build();
        using var provider = new ServiceCollection().AddSmpTableStorage(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.IsType<TableUpdateStore>(provider.GetRequiredService<IUpdateStore>());
        Assert.Same(provider.GetRequiredService<IUpdateStore>(), provider.GetRequiredService<IUpdateStore>());
    }

    private (TableUpdateStore Store, TableClient Table) Create()
    {
        var name = AzuriteFixture.UniqueTableName("updates");
        return (new TableUpdateStore(azurite.CreateServiceClient(), name), azurite.CreateServiceClient().GetTableClient(name));
    }
}
