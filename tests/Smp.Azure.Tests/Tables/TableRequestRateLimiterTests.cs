using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableRequestRateLimiterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly LocalDate Day = new(2027, 1, 15);

    private TableRequestRateLimiter Create() => new(azurite.CreateServiceClient(), AzuriteFixture.UniqueTableName("ratelimits"));

    [Fact]
    public async Task Ten_concurrent_requests_with_a_limit_of_three_get_exactly_three_allowances()
    {
        var limiter = Create();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Task.Run(() => limiter.TryAcquireAsync("term-request", Serial.Parse("VT-1"), Day, 3, CancellationToken.None))));

        Assert.Equal(3, results.Count(r => r));
    }

    [Fact]
    public async Task Allowances_are_per_serial_per_kind_and_per_day()
    {
        var limiter = Create();
        var serial = Serial.Parse("VT-1");
        Assert.True(await limiter.TryAcquireAsync("quote-request", serial, Day, 1, CancellationToken.None));
        Assert.False(await limiter.TryAcquireAsync("quote-request", serial, Day, 1, CancellationToken.None));

        Assert.True(await limiter.TryAcquireAsync("term-request", serial, Day, 1, CancellationToken.None));
        Assert.True(await limiter.TryAcquireAsync("quote-request", Serial.Parse("VT-2"), Day, 1, CancellationToken.None));
        Assert.True(await limiter.TryAcquireAsync("quote-request", serial, Day.PlusDays(1), 1, CancellationToken.None));
    }
}
