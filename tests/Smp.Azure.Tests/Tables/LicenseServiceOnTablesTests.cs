using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>The use cases of Smp.Core running on the real table store.</summary>
public sealed class LicenseServiceOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Ten_concurrent_renewals_with_distinct_orders_all_land_with_contiguous_versions()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Instant.FromUtc(2026, 3, 14, 16, 0));
        var service = new LicenseService(t.Store, new BusinessCalendar(clock, TestLicenses.Zone), new PlanOptions(PlanOptions.DefaultProductName));
        var serial = TestLicenses.NewSerial();
        var activation = await service.ActivateAsync(TestLicenses.Activation(serial, onSiteTraining: true), TestLicenses.Context, Ct);
        Assert.Equal(CommandOutcome.Created, activation.Outcome);
        clock.AdvanceDays(30);

        var orders = Enumerable.Range(1, 10).Select(i => $"PO-{i:D2}").ToArray();
        var outcomes = await Task.WhenAll(orders.Select(order => Task.Run(() => service.RenewAsync(
            serial, new RenewalRequest(order, 12, null), new CommandContext("renewals-desk", $"corr-{order}"), Ct))));

        Assert.All(outcomes, o => Assert.Equal(CommandOutcome.Updated, o.Outcome));
        var stored = (await service.GetAsync(serial, Ct))!;
        Assert.Equal(11, stored.Version);
        Assert.Equal(orders, stored.License.Renewals.Select(r => r.OrderReference).Order(StringComparer.Ordinal));
        Assert.Equal(new LocalDate(2037, 4, 1), stored.License.ExpiresOn);

        var events = await service.GetEventsAsync(serial, Ct);
        Assert.Equal(11, events.Count);
        Assert.Equal(LicenseEventTypes.Activated, events[0].Type);
        Assert.All(events.Skip(1), e => Assert.Equal(LicenseEventTypes.Renewed, e.Type));
        Assert.Equal(orders, events.Skip(1).Select(e => e.Data["orderReference"]).Order(StringComparer.Ordinal));

        // One event row per version, 1..11, with no gap and no duplicate.
        var eventVersions = (await t.PartitionAsync(serial.Value))
            .Where(r => r.RowKey.StartsWith("event|", StringComparison.Ordinal))
            .Select(r => r.GetInt64("Version")!.Value)
            .ToArray();
        Assert.Equal(Enumerable.Range(1, 11).Select(v => (long)v), eventVersions);
    }

    [Fact]
    public async Task A_repeated_activation_and_renewal_change_nothing()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Instant.FromUtc(2026, 3, 14, 16, 0));
        var service = new LicenseService(t.Store, new BusinessCalendar(clock, TestLicenses.Zone), new PlanOptions(PlanOptions.DefaultProductName));
        var serial = TestLicenses.NewSerial();
        var request = TestLicenses.Activation(serial);

        Assert.Equal(CommandOutcome.Created, (await service.ActivateAsync(request, TestLicenses.Context, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Unchanged, (await service.ActivateAsync(request, TestLicenses.Context, Ct)).Outcome);
        var renewal = new RenewalRequest("PO-7", 12, null);
        Assert.Equal(CommandOutcome.Updated, (await service.RenewAsync(serial, renewal, TestLicenses.Context, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Unchanged, (await service.RenewAsync(serial, renewal, TestLicenses.Context, Ct)).Outcome);

        Assert.Equal(2, (await service.GetEventsAsync(serial, Ct)).Count);
    }
}
