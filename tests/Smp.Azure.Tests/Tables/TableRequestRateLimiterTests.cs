using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableRequestRateLimiterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Scope = "password-request";
    private static readonly LocalDate Day = new(2026, 3, 20);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task The_first_requests_of_a_day_pass_up_to_the_limit_and_the_rest_are_refused()
    {
        var (limiter, _) = Create();
        var serial = Serial.Parse("VT-1001");

        var results = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await limiter.TryAcquireAsync(Scope, serial, Day, 3, Ct));
        }

        Assert.Equal([true, true, true, false, false], results);
    }

    [Fact]
    public async Task Each_serial_scope_and_day_has_its_own_counter()
    {
        var (limiter, _) = Create();
        var serial = Serial.Parse("VT-1001");
        Assert.True(await limiter.TryAcquireAsync(Scope, serial, Day, 1, Ct));
        Assert.False(await limiter.TryAcquireAsync(Scope, serial, Day, 1, Ct));

        Assert.True(await limiter.TryAcquireAsync(Scope, Serial.Parse("VT-1002"), Day, 1, Ct));
        Assert.True(await limiter.TryAcquireAsync("term-request", serial, Day, 1, Ct));
        Assert.True(await limiter.TryAcquireAsync(Scope, serial, Day.PlusDays(1), 1, Ct));
    }

    [Fact]
    public async Task A_refused_request_counts_nothing_and_a_limit_of_zero_refuses_without_writing()
    {
        var (limiter, table) = Create();
        var serial = Serial.Parse("VT-1001");
        Assert.False(await limiter.TryAcquireAsync(Scope, serial, Day, 0, Ct));
        Assert.True(await limiter.TryAcquireAsync(Scope, serial, Day, 2, Ct));
        Assert.True(await limiter.TryAcquireAsync(Scope, serial, Day, 2, Ct));
        Assert.False(await limiter.TryAcquireAsync(Scope, serial, Day, 2, Ct));
        Assert.False(await limiter.TryAcquireAsync(Scope, serial, Day, 2, Ct));

        var row = Assert.Single(await RowsAsync(table));
        Assert.Equal("VT-1001", row.PartitionKey);
        Assert.Equal("password-request|2026-03-20", row.RowKey);
        Assert.Equal(2, row.GetInt32(TableRequestRateLimiter.CountColumn));
    }

    [Fact]
    public async Task Ten_concurrent_requests_with_a_limit_of_three_let_exactly_three_through()
    {
        var (limiter, table) = Create();
        var serial = Serial.Parse("VT-RACE");
        using var start = new ManualResetEventSlim();

        var attempts = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await limiter.TryAcquireAsync(Scope, serial, Day, 3, Ct);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(attempts);

        Assert.Equal(3, results.Count(r => r));
        Assert.Equal(3, Assert.Single(await RowsAsync(table)).GetInt32(TableRequestRateLimiter.CountColumn));
    }

    [Fact]
    public void AddSmpTableStorage_registers_the_limiter()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Smp:Tables"] = azurite.ConnectionString })
            .Build();
        using var provider = new ServiceCollection().AddSmpTableStorage(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.IsType<TableRequestRateLimiter>(provider.GetRequiredService<IRequestRateLimiter>());
    }

    private (TableRequestRateLimiter Limiter, TableClient Table) Create()
    {
        var name = AzuriteFixture.UniqueTableName("ratelimits");
        return (new TableRequestRateLimiter(azurite.CreateServiceClient(), name), azurite.CreateServiceClient().GetTableClient(name));
    }

    private static async Task<List<TableEntity>> RowsAsync(TableClient table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }
}
