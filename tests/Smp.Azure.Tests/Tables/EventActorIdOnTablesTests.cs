using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// R15 and SPEC section 7: an event a signed-in person causes keeps their object id (actorId) beside their sign-in
/// name through storage; events of keys and timers store none, so their rows (and rows written before actorId existed)
/// read back with no actorId.
/// </summary>
public sealed class EventActorIdOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task R15_a_persons_event_keeps_its_actorId_and_a_keys_event_has_none()
    {
        var t = StoreUnderTest.Create(azurite);
        var clock = new FakeClock(Instant.FromUtc(2026, 4, 20, 16, 0));
        var service = new LicenseService(t.Store, new BusinessCalendar(clock, TestLicenses.Zone), new PlanOptions(PlanOptions.DefaultProductName));
        var serial = TestLicenses.NewSerial();
        await service.ActivateAsync(TestLicenses.Activation(serial), new CommandContext("key:mailflow", "corr-1"), Ct);
        var person = new CommandContext("Dana Staff", "corr-2", "7d5f0c1e-2b1a-4c6e-9f3a-0a1b2c3d4e5f");
        Assert.Equal(CommandOutcome.Updated, (await service.RecordTrainingAsync(serial, person, Ct)).Outcome);

        var events = await service.GetEventsAsync(serial, Ct);
        Assert.Null(events[0].ActorId);
        Assert.Equal("key:mailflow", events[0].Actor);
        Assert.Equal("7d5f0c1e-2b1a-4c6e-9f3a-0a1b2c3d4e5f", events[1].ActorId);
        Assert.Equal("Dana Staff", events[1].Actor);

        // The key's row has no ActorId column at all: rows from before the column read the same way.
        var rows = (await t.PartitionAsync(serial.Value)).Where(r => r.RowKey.StartsWith("event|", StringComparison.Ordinal)).OrderBy(r => r.RowKey, StringComparer.Ordinal).ToArray();
        Assert.False(rows[0].ContainsKey("ActorId"));
        Assert.Equal("7d5f0c1e-2b1a-4c6e-9f3a-0a1b2c3d4e5f", rows[1].GetString("ActorId"));
    }
}
