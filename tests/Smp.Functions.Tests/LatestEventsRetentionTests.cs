using System.Diagnostics.Metrics;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using NSubstitute;
using Smp.Core.Licenses;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 8: the dashboard's latest events are kept for their retention only, pruned by the daily run (the
/// reminder scan's timer) whether or not anybody reads the dashboard; the events themselves stay on their licenses.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LatestEventsRetentionTests(AzuriteFixture azurite) : IDisposable
{
    private readonly ApiHarness _api = new(azurite.ConnectionString, InDenver(2026, 3, 20));

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Section8_the_daily_run_prunes_the_latest_events_older_than_their_retention_without_a_dashboard_read()
    {
        await ActivateAsync(_api, "VT-1001", new LocalDate(2026, 3, 1));
        _api.Clock.Advance(LatestEventsRetention.Retention + Duration.FromDays(2));
        await ActivateAsync(_api, "VT-2002", new LocalDate(2027, 4, 1), customerId: "C-43");
        var cutoff = _api.Clock.GetCurrentInstant() - LatestEventsRetention.Retention;
        var before = await RecentRowsAsync();
        Assert.Contains(before, r => r.Serial == "VT-1001" && r.At < cutoff);
        var young = Assert.Single(before, r => r.Serial == "VT-2002");

        await RunScanAsync(_api);

        var after = await RecentRowsAsync();
        Assert.DoesNotContain(after, r => r.At < cutoff);
        Assert.Contains(young, after);
        Assert.Single(await EventsAsync(_api, "VT-1001", LicenseEventTypes.Activated));
    }

    [Fact]
    public async Task Section8_the_daily_run_counts_the_places_it_prunes_and_a_prune_that_failed_on_storage()
    {
        var failing = new FailStorage { OnlyDeletes = true };
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), services: s => s.AddSingleton(Tables(failing)));
        await ActivateAsync(api, "VT-1001", new LocalDate(2026, 3, 1));
        await ActivateAsync(api, "VT-1002", new LocalDate(2026, 3, 1), customerId: "C-43");
        api.Clock.Advance(LatestEventsRetention.Retention + Duration.FromDays(2));
        using var pruned = Collect(api, SmpMetrics.Instruments.LatestEventsPruned);
        using var pruneFailed = Collect(api, SmpMetrics.Instruments.LatestEventsPruneFailed);

        // Storage refuses every delete: the scan's run still ends well, and the failed prune is counted.
        failing.Active = true;
        await RunScanAsync(api);
        Assert.True(failing.Failed > 0);
        Assert.Equal(1, pruneFailed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(0, pruned.GetMeasurementSnapshot().EvaluateAsCounter());

        // Storage back: the next run prunes both places and counts them, and no failure.
        failing.Active = false;
        await RunScanAsync(api);
        Assert.Equal(2, pruned.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, pruneFailed.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section8_the_daily_run_prunes_every_place_older_than_the_retention_however_many_a_day_made()
    {
        // More old places than the 5,000 one run used to remove: a busy system's backlog is gone after one run.
        const int old = 5_200;
        var now = _api.Clock.GetCurrentInstant();
        var table = Index(_api);
        await table.CreateIfNotExistsAsync();
        var rows = Enumerable.Range(0, old)
            .Select(i => RecentRow(now - LatestEventsRetention.Retention - Duration.FromDays(1) - Duration.FromSeconds(i), "VT-" + (10_000 + i), 1))
            .Append(RecentRow(now - Duration.FromDays(3), "VT-9", 1))
            .ToList();
        foreach (var chunk in rows.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        }

        using var pruned = Collect(_api, SmpMetrics.Instruments.LatestEventsPruned);

        await RunScanAsync(_api);

        var after = await RecentRowsAsync();
        Assert.Equal("VT-9", Assert.Single(after).Serial);
        Assert.Equal(old, pruned.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section8_a_prune_that_failed_on_storage_counts_every_place_it_removed_before_the_failure()
    {
        // More old places than one storage transaction holds: the first delete request goes through, the rest fail.
        const int old = 250;
        var failing = new FailStorage { OnlyDeletes = true, PassFirst = 1 };
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), services: s => s.AddSingleton(Tables(failing)));
        var now = api.Clock.GetCurrentInstant();
        var table = Index(api);
        await table.CreateIfNotExistsAsync();
        var rows = Enumerable.Range(0, old)
            .Select(i => RecentRow(now - LatestEventsRetention.Retention - Duration.FromDays(1) - Duration.FromSeconds(i), "VT-" + (10_000 + i), 1))
            .ToList();
        foreach (var chunk in rows.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)));
        }

        using var pruned = Collect(api, SmpMetrics.Instruments.LatestEventsPruned);
        using var pruneFailed = Collect(api, SmpMetrics.Instruments.LatestEventsPruneFailed);

        failing.Active = true;
        await RunScanAsync(api);
        failing.Active = false;

        var left = (await RecentRowsAsync(api)).Count;
        Assert.True(failing.Failed > 0);
        Assert.InRange(left, 1, old - 1);
        Assert.Equal(old - left, pruned.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, pruneFailed.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section8_a_programming_error_in_the_pruning_is_not_swallowed_as_tidying()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), services: s =>
            s.AddSingleton<ILicenseActivity>(sp => new BrokenPruning(sp.GetRequiredService<Smp.Azure.Tables.TableLicenseStore>())));
        await ActivateAsync(api, "VT-1001", new LocalDate(2026, 3, 1));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunScanAsync(api));
        Assert.Equal(BrokenPruning.Message, error.Message);
    }

    [Fact]
    public async Task Section8_a_scan_that_failed_while_the_host_shuts_down_keeps_its_own_error_and_nothing_is_pruned()
    {
        using var shutdown = new CancellationTokenSource();
        var failing = new FailStorage { OnFailure = shutdown.Cancel };
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), services: s => s.AddSingleton(Tables(failing)));
        await ActivateAsync(api, "VT-1001", new LocalDate(2026, 3, 1));
        api.Clock.Advance(LatestEventsRetention.Retention + Duration.FromDays(2));
        var context = ApiHarness.Context("RunReminderScan");
        context.CancellationToken.Returns(shutdown.Token);

        // The scan's first storage call fails and the host starts shutting down meanwhile.
        failing.Active = true;
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => api.Function<Smp.Functions.Functions.ReminderFunctions>().RunReminderScan(new Microsoft.Azure.Functions.Worker.TimerInfo(), context));
        Assert.Same(failing.Thrown.First(), error);
        Assert.Equal(1, failing.Failed);

        failing.Active = false;
        Assert.Contains(await RecentRowsAsync(api), r => r.Serial == "VT-1001");
    }

    [Fact]
    public async Task Section8_a_scan_that_failed_keeps_its_own_error_when_the_pruning_after_it_fails_too()
    {
        var failing = new FailStorage();
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), services: s =>
        {
            s.AddSingleton(Tables(failing));
            s.AddSingleton<ILicenseActivity>(sp => new BrokenPruning(sp.GetRequiredService<Smp.Azure.Tables.TableLicenseStore>()));
        });
        await ActivateAsync(api, "VT-1001", new LocalDate(2026, 3, 1));

        failing.Active = true;
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => RunScanAsync(api));
        Assert.Equal(503, error.Status);
    }

    private Task<List<(string Serial, Instant At)>> RecentRowsAsync() => RecentRowsAsync(_api);

    private static MetricCollector<long> Collect(ApiHarness api, string instrument) =>
        new(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, instrument);

    private static TableClient Index(ApiHarness api) =>
        api.Services.GetRequiredService<TableServiceClient>().GetTableClient(api.TablePrefix + "licenseindex");

    /// <summary>A row among the latest events as the store writes it: inverted ticks of its time, serial, version.</summary>
    private static TableEntity RecentRow(Instant at, string serial, long version) =>
        new("recent", string.Join('|', (long.MaxValue - at.ToUnixTimeTicks()).ToString("D19", CultureInfo.InvariantCulture), serial, version.ToString("D19", CultureInfo.InvariantCulture)))
        {
            ["Serial"] = serial,
            ["Version"] = version,
        };

    private Func<IServiceProvider, TableServiceClient> Tables(FailStorage failing) => _ =>
    {
        var options = new TableClientOptions();
        options.AddPolicy(failing, global::Azure.Core.HttpPipelinePosition.PerCall);
        return new TableServiceClient(azurite.ConnectionString, options);
    };

    /// <summary>The store, whose pruning fails as a bug would (not a storage failure).</summary>
    private sealed class BrokenPruning(ILicenseActivity store) : ILicenseActivity
    {
        public const string Message = "A bug in the pruning.";

        public Task<IReadOnlyList<RecentLicenseEvent>> ListLatestEventsAsync(int count, CancellationToken cancellationToken) =>
            store.ListLatestEventsAsync(count, cancellationToken);

        public Task<int> CountExpiringOnOrAfterAsync(LocalDate date, CancellationToken cancellationToken) =>
            store.CountExpiringOnOrAfterAsync(date, cancellationToken);

        public Task<int> PruneLatestEventsAsync(Instant before, int max, Action<int>? removed, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(Message);
    }

    /// <summary>While active, storage calls (every one, or deletes only) fail as storage answers when it is unavailable.</summary>
    private sealed class FailStorage : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int failed;
        private int passed;

        public volatile bool Active;

        public bool OnlyDeletes { get; init; }

        /// <summary>How many delete requests (single deletes or transactions) go through before they fail.</summary>
        public int PassFirst { get; init; }

        public Action? OnFailure { get; init; }

        public int Failed => Volatile.Read(ref failed);

        /// <summary>The errors thrown, in order.</summary>
        public System.Collections.Concurrent.ConcurrentQueue<RequestFailedException> Thrown { get; } = new();

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (Active && (!OnlyDeletes || IsDelete(message.Request)) && (PassFirst == 0 || Interlocked.Increment(ref passed) > PassFirst))
            {
                Interlocked.Increment(ref failed);
                OnFailure?.Invoke();
                var error = new RequestFailedException(503, "The server is currently unable to receive requests.");
                Thrown.Enqueue(error);
                throw error;
            }

            await ProcessNextAsync(message, pipeline);
        }

        /// <summary>A delete, alone or in a transaction (a POST to the batch endpoint).</summary>
        private static bool IsDelete(global::Azure.Core.Request request) =>
            request.Method == global::Azure.Core.RequestMethod.Delete ||
            (request.Method == global::Azure.Core.RequestMethod.Post && request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal));
    }

    /// <summary>The rows of the latest events as stored (their serial, and the time their key sorts by), read directly.</summary>
    private static async Task<List<(string Serial, Instant At)>> RecentRowsAsync(ApiHarness api)
    {
        var table = Index(api);
        var rows = new List<(string, Instant)>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"recent"}")))
        {
            var ticks = long.MaxValue - long.Parse(row.RowKey.AsSpan(0, 19), CultureInfo.InvariantCulture);
            rows.Add((row.GetString("Serial"), Instant.FromUnixTimeTicks(ticks)));
        }

        return rows;
    }
}
