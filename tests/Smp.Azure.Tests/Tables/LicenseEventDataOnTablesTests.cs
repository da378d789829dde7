using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// R13, R14, R15: an event recorded through a use case on the real table store is stored under the names of
/// <see cref="LicenseEventData"/>, byte for byte the names of events stored before, and the idempotency check of the
/// same use case finds it after the round trip through storage.
/// </summary>
public sealed class LicenseEventDataOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly UpdateVersion Version196 = UpdateVersion.Parse("1.96");

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task R13_R14_R15_events_recorded_on_tables_are_found_again_by_their_idempotency_checks()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Instant.FromUtc(2026, 4, 20, 16, 0));
        var service = new LicenseService(t.Store, new BusinessCalendar(clock, TestLicenses.Zone), new PlanOptions(PlanOptions.DefaultProductName));
        var serial = TestLicenses.NewSerial();
        Assert.Equal(CommandOutcome.Created, (await service.ActivateAsync(TestLicenses.Activation(serial), TestLicenses.Context, Ct)).Outcome);
        var quote = new Dictionary<string, string>
        {
            [LicenseEventData.RequestedFor] = "OTHER-SERIAL",
            [LicenseEventData.Scope] = "customer",
            [LicenseEventData.NotificationMailId] = "mail-desk",
            [LicenseEventData.AcknowledgementMailId] = "mail-ack",
        };

        Assert.Equal(CommandOutcome.Updated, (await service.RecordAnnouncementAsync(serial, Version196, "mail-announce", TestLicenses.Context, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Updated, (await service.RecordPasswordReleasedAsync(serial, Version196, "hash-1", TestLicenses.Context, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Updated, (await service.RecordPasswordLinkRequestedAsync(serial, Version196, "mail-link", TestLicenses.Context, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Updated, (await service.RecordRequestOnceAsync(serial, LicenseEventTypes.QuoteRequested, quote, LicenseEventData.NotificationMailId, TestLicenses.Context, Ct)).Outcome);

        // The stored rows carry exactly the names events have always been stored under.
        var stored = (await t.PartitionAsync(serial.Value))
            .Where(r => r.RowKey.StartsWith("event|", StringComparison.Ordinal))
            .OrderBy(r => r.RowKey, StringComparer.Ordinal)
            .Skip(1)
            .Select(r => r.GetString("Data"))
            .ToArray();
        Assert.Equal(
            [
                """{"mailId":"mail-announce","version":"1.96"}""",
                """{"clientAddressHash":"hash-1","releasedOn":"2026-04-20","version":"1.96"}""",
                """{"mailId":"mail-link","version":"1.96"}""",
                """{"acknowledgementMailId":"mail-ack","notificationMailId":"mail-desk","requestedFor":"OTHER-SERIAL","scope":"customer"}""",
            ],
            stored);

        // Each check reads those rows back and finds its event: nothing is recorded twice.
        clock.Advance(Duration.FromHours(1));
        var otherCorrelation = new CommandContext("tests", "corr-0002");
        Assert.Equal(CommandOutcome.Unchanged, (await service.RecordAnnouncementAsync(serial, Version196, "mail-announce-again", otherCorrelation, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Unchanged, (await service.RecordPasswordReleasedAsync(serial, Version196, "hash-1", otherCorrelation, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Unchanged, (await service.RecordPasswordLinkRequestedAsync(serial, Version196, "mail-link", otherCorrelation, Ct)).Outcome);
        Assert.Equal(CommandOutcome.Unchanged, (await service.RecordRequestOnceAsync(serial, LicenseEventTypes.QuoteRequested, quote, LicenseEventData.NotificationMailId, otherCorrelation, Ct)).Outcome);
        Assert.Equal(5, (await service.GetEventsAsync(serial, Ct)).Count);
    }
}
