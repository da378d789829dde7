using System.Globalization;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Licenses;
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

    /// <summary>The rows of the latest events as stored (their serial, and the time their key sorts by), read directly.</summary>
    private async Task<List<(string Serial, Instant At)>> RecentRowsAsync()
    {
        var table = _api.Services.GetRequiredService<TableServiceClient>().GetTableClient(_api.TablePrefix + "licenseindex");
        var rows = new List<(string, Instant)>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"recent"}")))
        {
            var ticks = long.MaxValue - long.Parse(row.RowKey.AsSpan(0, 19), CultureInfo.InvariantCulture);
            rows.Add((row.GetString("Serial"), Instant.FromUnixTimeTicks(ticks)));
        }

        return rows;
    }
}
