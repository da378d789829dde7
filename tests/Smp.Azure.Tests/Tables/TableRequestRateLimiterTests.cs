using Azure.Core;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Azure.Tests.Faults;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableRequestRateLimiterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly LocalDate Day = new(2027, 1, 15);
    private static int requests;

    private TableRequestRateLimiter Create(TableClientOptions? options = null) =>
        new(azurite.CreateServiceClient(options), AzuriteFixture.UniqueTableName("ratelimits"));

    private static async Task<bool> Allowed(Task<LimitDecision> decision) => await decision != LimitDecision.Refused;

    /// <summary>A request key no other request in this process has.</summary>
    private static string NewRequest() => $"req-{Interlocked.Increment(ref requests)}";

    [Fact]
    public async Task Ten_concurrent_requests_with_a_limit_of_three_get_exactly_three_allowances()
    {
        var limiter = Create();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Task.Run(() => limiter.TryAcquireAsync("term-request|" + (Serial.Parse("VT-1")).Value, Day, 3, NewRequest(), CancellationToken.None))));

        Assert.Equal(3, results.Count(r => r == LimitDecision.Counted));
    }

    [Fact]
    public async Task Section5_the_largest_allowed_cap_of_distinct_requests_is_counted_in_rows_within_the_table_limits()
    {
        var tableName = AzuriteFixture.UniqueTableName("ratelimits");
        var service = azurite.CreateServiceClient();
        var limiter = new TableRequestRateLimiter(service, tableName);
        var cap = AnonymousLimits.MaxPerDay;
        // The longest keys the limits count: a SHA-256 in hex (a client address's hash).
        var keys = Enumerable.Range(0, cap).Select(i => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)))).ToArray();

        foreach (var key in keys)
        {
            Assert.Equal(LimitDecision.Counted, await limiter.TryAcquireAsync("term|all", Day, cap, key, CancellationToken.None));
        }

        Assert.Equal(LimitDecision.Repeat, await limiter.TryAcquireAsync("term|all", Day, cap, keys[0], CancellationToken.None));
        Assert.Equal(LimitDecision.Repeat, await limiter.TryAcquireAsync("term|all", Day, cap, keys[^1], CancellationToken.None));
        Assert.Equal(LimitDecision.Refused, await limiter.TryAcquireAsync("term|all", Day, cap, "another", CancellationToken.None));

        // Azure Table: a string property holds at most 64 KiB (32K characters), an entity at most 1 MiB and 255
        // properties. The emulator does not enforce these, so the rows are measured here.
        var rows = new List<TableEntity>();
        await foreach (var row in service.GetTableClient(tableName).QueryAsync<TableEntity>(cancellationToken: CancellationToken.None))
        {
            rows.Add(row);
        }

        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            Assert.True(row.Count <= 252, $"{row.Count} properties");
            var strings = row.Where(p => p.Value is string).Select(p => (string)p.Value).ToList();
            Assert.All(strings, value => Assert.True(value.Length * 2 <= 64 * 1024, $"a string property of {value.Length} characters"));
            Assert.True(strings.Sum(v => v.Length * 2) < 1024 * 1024, "the entity is over 1 MiB");
        }
    }

    [Fact]
    public async Task Allowances_are_per_serial_per_kind_and_per_day()
    {
        var limiter = Create();
        var serial = Serial.Parse("VT-1");
        Assert.True(await Allowed(limiter.TryAcquireAsync("quote-request|" + serial.Value, Day, 1, NewRequest(), CancellationToken.None)));
        Assert.False(await Allowed(limiter.TryAcquireAsync("quote-request|" + serial.Value, Day, 1, NewRequest(), CancellationToken.None)));

        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 1, NewRequest(), CancellationToken.None)));
        Assert.True(await Allowed(limiter.TryAcquireAsync("quote-request|" + (Serial.Parse("VT-2")).Value, Day, 1, NewRequest(), CancellationToken.None)));
        Assert.True(await Allowed(limiter.TryAcquireAsync("quote-request|" + serial.Value, Day.PlusDays(1), 1, NewRequest(), CancellationToken.None)));
    }

    [Fact]
    public async Task A_request_counted_once_is_allowed_again_without_taking_another_allowance()
    {
        var limiter = Create();
        var serial = Serial.Parse("VT-1");
        var first = NewRequest();
        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, first, CancellationToken.None)));

        // The client retries its first request (say, after a timeout): still allowed, still one allowance used.
        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, first, CancellationToken.None)));
        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, NewRequest(), CancellationToken.None)));

        // Both allowances are used: a new request is refused, the counted ones are still allowed.
        Assert.False(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, NewRequest(), CancellationToken.None)));
        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, first, CancellationToken.None)));
    }

    [Fact]
    public async Task Section5_a_repeat_makes_the_same_storage_calls_as_a_request_counted_now_and_takes_no_allowance()
    {
        var calls = new CallRecorder();
        var options = new TableClientOptions();
        options.AddPolicy(calls, HttpPipelinePosition.PerCall);
        var limiter = Create(options);
        var first = NewRequest();
        Assert.Equal(LimitDecision.Counted, await limiter.TryAcquireAsync("term|client|c1", Day, 3, first, CancellationToken.None));

        var second = NewRequest();
        calls.Clear();
        Assert.Equal(LimitDecision.Counted, await limiter.TryAcquireAsync("term|client|c1", Day, 3, second, CancellationToken.None));
        var counted = calls.Take();
        Assert.Equal(LimitDecision.Repeat, await limiter.TryAcquireAsync("term|client|c1", Day, 3, second, CancellationToken.None));
        var repeated = calls.Take();
        Assert.Equal(LimitDecision.Repeat, await limiter.TryAcquireAsync("term|client|c1", Day, 3, first, CancellationToken.None));
        var repeatedAgain = calls.Take();

        Assert.Equal(["GET", "PUT"], counted);
        Assert.Equal(counted, repeated);
        Assert.Equal(counted, repeatedAgain);

        // The repeats took nothing: one allowance is left, then the day's are used up.
        Assert.Equal(LimitDecision.Counted, await limiter.TryAcquireAsync("term|client|c1", Day, 3, NewRequest(), CancellationToken.None));
        Assert.Equal(LimitDecision.Refused, await limiter.TryAcquireAsync("term|client|c1", Day, 3, NewRequest(), CancellationToken.None));
        Assert.Equal(LimitDecision.Repeat, await limiter.TryAcquireAsync("term|client|c1", Day, 3, second, CancellationToken.None));
    }

    [Theory]
    [InlineData(StorageFault.ResponseLost)]
    [InlineData(StorageFault.TimeoutAfterProcessing)]
    public async Task A_count_whose_answer_was_lost_and_resent_by_the_SDK_takes_one_allowance(StorageFault fault)
    {
        var faults = new FaultInjectionPolicy();
        var options = new TableClientOptions();
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.AddPolicy(faults, HttpPipelinePosition.PerRetry);
        var limiter = Create(options);
        var serial = Serial.Parse("VT-1");
        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, NewRequest(), CancellationToken.None)));

        // Read the row, then lose the answer to the update; Azure.Core resends it and gets 412.
        faults.Script(null, fault);
        Assert.True(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, NewRequest(), CancellationToken.None)));

        Assert.Equal(1, faults.Injected(fault));
        Assert.False(await Allowed(limiter.TryAcquireAsync("term-request|" + serial.Value, Day, 2, NewRequest(), CancellationToken.None)));
    }

    [Fact]
    public async Task A_counter_without_request_keys_counts_every_call()
    {
        var limiter = Create();
        Assert.Equal(LimitDecision.Counted, await limiter.TryAcquireAsync("reveal|x", Day, 2, null, CancellationToken.None));
        Assert.Equal(LimitDecision.Counted, await limiter.TryAcquireAsync("reveal|x", Day, 2, null, CancellationToken.None));
        Assert.Equal(LimitDecision.Refused, await limiter.TryAcquireAsync("reveal|x", Day, 2, null, CancellationToken.None));
    }

    [Fact]
    public async Task Section5_counters_of_past_days_are_purged_so_the_table_does_not_grow_without_bound()
    {
        var name = AzuriteFixture.UniqueTableName("ratelimits");
        var limiter = new TableRequestRateLimiter(azurite.CreateServiceClient(), name);
        for (var d = 0; d < 4; d++)
        {
            await limiter.TryAcquireAsync("term|all", Day.PlusDays(d), 5, NewRequest(), CancellationToken.None);
            await limiter.TryAcquireAsync("term|serial|VT-1", Day.PlusDays(d), 5, NewRequest(), CancellationToken.None);
        }

        Assert.Equal(4, await limiter.PurgeBeforeAsync(Day.PlusDays(2), CancellationToken.None));

        var left = new List<string>();
        await foreach (var row in azurite.CreateServiceClient().GetTableClient(name).QueryAsync<TableEntity>())
        {
            left.Add(row.PartitionKey);
        }

        Assert.Equal(["2027-01-17", "2027-01-17", "2027-01-18", "2027-01-18"], left.Order());
        Assert.Equal(0, await limiter.PurgeBeforeAsync(Day.PlusDays(2), CancellationToken.None));
    }

    /// <summary>Records the method of each storage call.</summary>
    private sealed class CallRecorder : global::Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> calls = new();

        public override void OnSendingRequest(HttpMessage message) => calls.Enqueue(message.Request.Method.ToString());

        public void Clear() => calls.Clear();

        public List<string> Take()
        {
            var taken = calls.ToList();
            calls.Clear();
            return taken;
        }
    }
}
