using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// R9 ("a reminder mail still waiting in the outbox when a renewal or training moves <c>expiresOn</c> is not
/// delivered") on the real app and Azurite: a reminder enqueued at 06:00, held until 11:00, after a renewal at 09:00.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReminderSupersededTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly LocalDate April2026 = new(2026, 4, 1);

    private readonly ApiHarness _api = new(azurite.ConnectionString, InDenver(2026, 3, 20));

    public void Dispose() => _api.Dispose();

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

    private async Task RenewAtNineAsync(string serial)
    {
        _api.Clock.Reset(InDenver(2027, 1, 1, 9));
        var renewed = await LicenseApiTests.RenewAsync(_api, serial, """{"orderReference":"SO-7001","months":12}""");
        Assert.Equal(201, renewed.Status);
        Assert.Equal(new LocalDate(2028, 4, 1), (await StoredAsync(_api, serial)).ExpiresOn);
    }

    [Fact]
    public async Task R9_a_reminder_overtaken_by_a_renewal_before_it_goes_out_is_not_delivered_and_staff_see_it_superseded()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1001");
        await RenewAtNineAsync("VT-1001");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);

        Assert.Empty(PickedUpFiles(_api));
        var stored = await MessageAsync(_api, reminder.Id);
        Assert.Equal(MailStatus.Superseded, stored.Status);
        Assert.Null(stored.SentAt);
        Assert.Contains("VT-1001", stored.Note, StringComparison.Ordinal);
        Assert.Empty(await UndeliveredAsync(_api));

        var listed = await MailApiTests.ListAsync(_api, "status=superseded");
        Assert.Equal(200, listed.Status);
        var mail = Assert.Single(listed.Json().GetProperty("mail").EnumerateArray());
        Assert.Equal(reminder.Id, mail.GetProperty("id").GetString());
        Assert.Equal("superseded", mail.GetProperty("status").GetString());
        Assert.Contains("VT-1001", mail.GetProperty("note").GetString(), StringComparison.Ordinal);

        // Later runs do not bring it back.
        _api.Clock.Reset(InDenver(2027, 1, 2, 11));
        await DispatchAsync(_api);
        Assert.Empty(PickedUpFiles(_api));
    }

    [Fact]
    public async Task R9_a_reminder_listing_two_plans_of_which_one_was_renewed_goes_out_listing_only_the_other()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1001", "VT-1002");
        Assert.Contains("VT-1001", reminder.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-1002", reminder.Mail.PlainText, StringComparison.Ordinal);
        await RenewAtNineAsync("VT-1001");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);

        var delivered = PickedUp(_api, reminder.Id);
        Assert.Single(PickedUpFiles(_api));
        Assert.Equal(DefaultContacts, Addresses(delivered.To));
        Assert.Contains("VT-1002", delivered.TextBody, StringComparison.Ordinal);
        Assert.Contains("1 April 2027", delivered.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", delivered.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", delivered.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", delivered.Subject, StringComparison.Ordinal);

        // The outbox keeps what went out, and says what was dropped and why.
        var stored = await MessageAsync(_api, reminder.Id);
        Assert.Equal(MailStatus.Sent, stored.Status);
        Assert.DoesNotContain("VT-1001", stored.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-1001", stored.Note, StringComparison.Ordinal);
    }
    [Fact]
    public async Task R15_a_reminder_superseded_before_delivery_is_withdrawn_in_the_license_history_once_and_the_new_expiry_is_still_reminded()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1001");
        await RenewAtNineAsync("VT-1001");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);
        _api.Clock.Reset(InDenver(2027, 1, 2, 11));
        await DispatchAsync(_api);

        // History is appended to, never rewritten: the queued reminder stays, and a withdrawal follows it.
        var sent = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent"));
        Assert.Equal(reminder.Id, Data(sent, "mailId"));
        var withdrawn = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderWithdrawn"));
        Assert.Equal(reminder.Id, Data(withdrawn, "mailId"));
        Assert.Equal("90-day", Data(withdrawn, "stage"));
        Assert.Equal("2027-04-01", Data(withdrawn, "expiresOn"));
        Assert.Contains("2028-04-01", Data(withdrawn, "reason"), StringComparison.Ordinal);
        Assert.Equal("DispatchMail", withdrawn.GetProperty("actor").GetString());
        Assert.Contains(("90-day", "2027-01-01", "2027-04-01", "withdrawn", reminder.Id), await RemindersAsync(_api, "VT-1001"));

        // The withdrawn reminder of the old expiry never stands in for the new expiry's reminder of the same stage.
        var newDue = new LocalDate(2028, 4, 1).PlusDays(-90);
        _api.Clock.Reset(InDenver(newDue.Year, newDue.Month, newDue.Day, 6));
        await RunScanAsync(_api);
        await DispatchAsync(_api);
        var mailed = Assert.Single(PickedUpFiles(_api));
        Assert.Contains("1 April 2028", MimeKit.MimeMessage.Load(mailed).TextBody, StringComparison.Ordinal);
        Assert.Equal(["2027-04-01", "2028-04-01"], (await EventsAsync(_api, "VT-1001", "reminderSent")).Select(e => Data(e, "expiresOn")));
    }

    [Fact]
    public async Task R15_a_reminder_narrowed_before_delivery_withdraws_only_the_plan_it_dropped()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1001", "VT-1002");
        await RenewAtNineAsync("VT-1001");

        _api.Clock.Reset(InDenver(2027, 1, 1, 11));
        await DispatchAsync(_api);

        Assert.Equal(MailStatus.Sent, (await MessageAsync(_api, reminder.Id)).Status);
        var withdrawn = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderWithdrawn"));
        Assert.Equal(reminder.Id, Data(withdrawn, "mailId"));
        Assert.Empty(await EventsAsync(_api, "VT-1002", "reminderWithdrawn"));
        Assert.Contains(("90-day", "2027-01-01", "2027-04-01", "sent", reminder.Id), await RemindersAsync(_api, "VT-1002"));
    }

    [Fact]
    public async Task R9_a_failed_reminder_retried_by_staff_after_its_plan_expired_sends_nothing_and_is_withdrawn()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1001");
        var stored = (await Outbox(_api).GetAsync(reminder.Id, CancellationToken.None))!;
        var failed = DeliveryPolicy.After(stored.Message, new MailSendResult.PermanentFailure("550 Mailbox unavailable."), _api.Clock.GetCurrentInstant(), new DeliveryOptions());
        Assert.NotNull(await Outbox(_api).TryUpdateAsync(stored, failed, CancellationToken.None));

        // Weeks later, after the plan expired on 1 April 2027, staff retry it.
        _api.Clock.Reset(InDenver(2027, 4, 20, 10));
        Assert.Equal(202, (await MailApiTests.RetryAsync(_api, reminder.Id)).Status);
        await DispatchAsync(_api);

        Assert.Empty(PickedUpFiles(_api));
        await AssertWithdrawnAsExpiredAsync(reminder.Id, "VT-1001");
    }

    [Fact]
    public async Task R9_a_reminder_dispatched_after_a_long_outage_on_its_plans_expiry_day_sends_nothing_and_is_withdrawn()
    {
        var reminder = await ReminderEnqueuedAsync("VT-1001");

        // The mail timer was down from the scan until the day the plan expires (not after it: R9 needs expiresOn > d).
        _api.Clock.Reset(InDenver(2027, 4, 1, 6));
        await DispatchAsync(_api);

        Assert.Empty(PickedUpFiles(_api));
        await AssertWithdrawnAsExpiredAsync(reminder.Id, "VT-1001");

        // Later runs do not bring it back.
        _api.Clock.Reset(InDenver(2027, 4, 2, 6));
        await DispatchAsync(_api);
        Assert.Empty(PickedUpFiles(_api));
    }

    [Fact]
    public async Task R9_a_reminder_listing_two_plans_of_which_one_expired_while_it_waited_goes_out_listing_only_the_other()
    {
        // Two plans of one customer, expiring on 1 April and on 1 May 2027: both 90-day reminders are due on 1 February.
        _api.Clock.Reset(InDenver(2026, 4, 20));
        await ActivateAsync(_api, "VT-1001", April2026);
        await ActivateAsync(_api, "VT-1002", new LocalDate(2026, 5, 1));
        _api.Clock.Reset(InDenver(2027, 2, 1, 6));
        await RunScanAsync(_api);
        var reminder = Assert.Single(await UndeliveredAsync(_api));
        Assert.Contains("VT-1001", reminder.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-1002", reminder.Mail.PlainText, StringComparison.Ordinal);

        // Delivery resumes on 2 April: the first plan expired meanwhile, the second has not.
        _api.Clock.Reset(InDenver(2027, 4, 2, 6));
        await DispatchAsync(_api);

        var delivered = PickedUp(_api, reminder.Id);
        Assert.Single(PickedUpFiles(_api));
        Assert.Contains("VT-1002", delivered.TextBody, StringComparison.Ordinal);
        Assert.Contains("1 May 2027", delivered.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", delivered.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", delivered.HtmlBody, StringComparison.Ordinal);
        var stored = await MessageAsync(_api, reminder.Id);
        Assert.Equal(MailStatus.Sent, stored.Status);
        Assert.Contains("VT-1001", stored.Note, StringComparison.Ordinal);
        var withdrawn = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderWithdrawn"));
        Assert.Contains("expired on 2027-04-01", Data(withdrawn, "reason"), StringComparison.Ordinal);
        Assert.Empty(await EventsAsync(_api, "VT-1002", "reminderWithdrawn"));
    }

    /// <summary>
    /// The mail is superseded (staff find it under <c>GET /api/mail?status=superseded</c>) and the license records the
    /// reminder as withdrawn from it, once, with the expiry as the reason.
    /// </summary>
    private async Task AssertWithdrawnAsExpiredAsync(string mailId, string serial)
    {
        var stored = await MessageAsync(_api, mailId);
        Assert.Equal(MailStatus.Superseded, stored.Status);
        Assert.Null(stored.SentAt);
        Assert.Contains("the plan expired on 2027-04-01 before delivery", stored.Note, StringComparison.Ordinal);

        var listed = await MailApiTests.ListAsync(_api, "status=superseded");
        Assert.Equal(200, listed.Status);
        Assert.Equal(mailId, Assert.Single(listed.Json().GetProperty("mail").EnumerateArray()).GetProperty("id").GetString());

        var withdrawn = Assert.Single(await EventsAsync(_api, serial, "reminderWithdrawn"));
        Assert.Equal(mailId, Data(withdrawn, "mailId"));
        Assert.Contains("the plan expired on 2027-04-01 before delivery", Data(withdrawn, "reason"), StringComparison.Ordinal);
        Assert.Contains(("90-day", "2027-01-01", "2027-04-01", "withdrawn", mailId), await RemindersAsync(_api, serial));
    }
}
