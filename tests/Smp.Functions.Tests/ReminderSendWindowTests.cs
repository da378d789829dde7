using NodaTime;
using Smp.Core.Outbox;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// R9 ("a reminder mail still waiting in the outbox when a renewal or training moves <c>expiresOn</c> is not
/// delivered") in the last window there is: a renewal committed after the check before sending has read the licenses
/// and before the transport sends. The hook commits the renewal exactly there, on the real app and Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReminderSendWindowTests : IDisposable
{
    private static readonly LocalDate April2026 = new(2026, 4, 1);

    private readonly ApiHarness _api;
    private readonly RenewAfterCheck _hook = new();

    public ReminderSendWindowTests(AzuriteFixture azurite) =>
        _api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), services: s => s.Decorate<IMailSendCheck>((inner, _) => _hook.Around(inner)));

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task R9_a_renewal_committed_between_the_send_check_and_the_send_stops_the_reminder()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1101");
        _hook.Renew = () => RenewAsync("VT-1101");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);

        Assert.Equal(1, _hook.Renewals);
        Assert.Empty(PickedUpFiles(_api));
        var stored = await MessageAsync(_api, reminder.Id);
        Assert.Equal(MailStatus.Superseded, stored.Status);
        Assert.Null(stored.SentAt);
        var withdrawn = Assert.Single(await EventsAsync(_api, "VT-1101", "reminderWithdrawn"));
        Assert.Equal(reminder.Id, Data(withdrawn, "mailId"));
        Assert.Contains("2028-04-01", Data(withdrawn, "reason"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task R9_a_renewal_of_one_plan_committed_between_the_send_check_and_the_send_leaves_the_mail_to_the_other()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1201", "VT-1202");
        _hook.Renew = () => RenewAsync("VT-1201");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);

        Assert.Equal(1, _hook.Renewals);
        var delivered = PickedUp(_api, reminder.Id);
        Assert.Single(PickedUpFiles(_api));
        Assert.Contains("VT-1202", delivered.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1201", delivered.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1201", delivered.HtmlBody, StringComparison.Ordinal);
        var stored = await MessageAsync(_api, reminder.Id);
        Assert.Equal(MailStatus.Sent, stored.Status);
        Assert.Contains("VT-1201", stored.Note, StringComparison.Ordinal);
        Assert.Equal(reminder.Id, Data(Assert.Single(await EventsAsync(_api, "VT-1201", "reminderWithdrawn")), "mailId"));
        Assert.Empty(await EventsAsync(_api, "VT-1202", "reminderWithdrawn"));
    }

    [Fact]
    public async Task R9_a_reminder_whose_licenses_did_not_change_after_the_check_goes_out_once()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1301");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);
        await DispatchAsync(_api);

        Assert.Single(PickedUpFiles(_api));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(_api, reminder.Id)).Status);
        Assert.Empty(await EventsAsync(_api, "VT-1301", "reminderWithdrawn"));
    }

    [Fact]
    public async Task Section10_R9_a_renewal_of_the_replacement_license_committed_between_the_send_check_and_the_send_stops_the_reminder_of_the_replaced_serial()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1501");
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(_api, "VT-1501", """{"newSerial":"VT-2501"}""")).Status);
        _hook.Renew = () => RenewAsync("VT-2501");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);

        Assert.Equal(1, _hook.Renewals);
        Assert.Empty(PickedUpFiles(_api));
        var stored = await MessageAsync(_api, reminder.Id);
        Assert.Equal(MailStatus.Superseded, stored.Status);
        Assert.Null(stored.SentAt);
        Assert.Contains("2028-04-01", stored.Note, StringComparison.Ordinal);
    }

    /// <summary>The 90-day reminder of plans expiring on 1 April 2027 is enqueued at 06:00 on 1 January (Denver).</summary>
    private async Task<OutboxMessage> ReminderEnqueuedAsync(params string[] serials)
    {
        foreach (var serial in serials)
        {
            await ActivateAsync(_api, serial, April2026);
        }

        _api.Clock.Reset(InDenver(2027, 1, 1, 6));
        await RunScanAsync(_api);
        return Assert.Single(await UndeliveredAsync(_api));
    }

    private async Task RenewAsync(string serial)
    {
        var renewed = await LicenseApiTests.RenewAsync(_api, serial, """{"orderReference":"SO-1101","months":12}""");
        Assert.Equal(201, renewed.Status);
    }

    /// <summary>Runs <see cref="Renew"/> once, right after the check before sending has answered: the window before the send.</summary>
    private sealed class RenewAfterCheck
    {
        private int renewals;

        public Func<Task>? Renew { get; set; }

        public int Renewals => renewals;

        public IMailSendCheck Around(IMailSendCheck inner) => new Hooked(inner, this);

        private sealed class Hooked(IMailSendCheck inner, RenewAfterCheck hook) : IMailSendCheck
        {
            public async Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken)
            {
                var decision = await inner.CheckAsync(message, cancellationToken);
                if (hook.Renew is { } renew && Interlocked.Exchange(ref hook.renewals, 1) == 0)
                {
                    await renew();
                }

                return decision;
            }
        }
    }
}
