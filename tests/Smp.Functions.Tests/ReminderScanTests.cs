using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// The reminder timer (R8-R10) on the real app and Azurite: what it enqueues, when, to whom, and what it records
/// on the license, whatever order or overlap the runs come in.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReminderScanTests(AzuriteFixture azurite) : IDisposable
{
    /// <summary>Activation mails of 2026-03-14 start the plan on 2026-04-01; with training it expires on 2027-04-01.</summary>
    private static readonly LocalDate April2026 = new(2026, 4, 1);

    private readonly ApiHarness _api = new(azurite.ConnectionString, InDenver(2026, 3, 20));

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task R8_a_one_year_plan_gets_its_90_day_reminder_on_1_January_and_its_30_day_reminder_on_2_March_in_Denver()
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        // 06:59 UTC on 1 January is still 31 December in Denver (UTC-7): nothing is due yet.
        _api.Clock.Reset(Instant.FromUtc(2027, 1, 1, 6, 59));
        await RunScanAsync(_api);
        Assert.Empty(await UndeliveredAsync(_api));

        // 07:00 UTC is midnight in Denver: 1 January 2027, 90 days before 1 April 2027.
        _api.Clock.Reset(Instant.FromUtc(2027, 1, 1, 7, 0));
        await RunScanAsync(_api);
        var early = Assert.Single(await UndeliveredAsync(_api));
        AssertReminder(early, ["VT-1001"], DefaultContacts);
        Assert.DoesNotContain("Final", early.Mail.Subject, StringComparison.Ordinal);
        var first = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent"));
        Assert.Equal("90-day", Data(first, "stage"));
        Assert.Equal("2027-01-01", Data(first, "dueOn"));
        Assert.Equal("2027-04-01", Data(first, "expiresOn"));
        Assert.Equal(early.Id, Data(first, "mailId"));
        Assert.Equal("RunReminderScan", first.GetProperty("actor").GetString());
        Assert.Equal(
            [("90-day", "2027-01-01", "2027-04-01", "sent", early.Id), ("30-day", "2027-03-02", "2027-04-01", "planned", null)],
            await RemindersAsync(_api, "VT-1001"));

        // 1 March, 23:59 in Denver: the 30-day reminder is due tomorrow.
        _api.Clock.Reset(Instant.FromUtc(2027, 3, 2, 6, 59));
        await RunScanAsync(_api);
        Assert.Single(await UndeliveredAsync(_api));

        _api.Clock.Reset(Instant.FromUtc(2027, 3, 2, 7, 0));
        await RunScanAsync(_api);
        var messages = await UndeliveredAsync(_api);
        Assert.Equal(2, messages.Count);
        var final = Assert.Single(messages, m => m.Id != early.Id);
        AssertReminder(final, ["VT-1001"], DefaultContacts);
        Assert.StartsWith("Final reminder", final.Mail.Subject, StringComparison.Ordinal);

        var sent = await EventsAsync(_api, "VT-1001", "reminderSent");
        Assert.Equal(2, sent.Count);
        Assert.Equal("30-day", Data(sent[1], "stage"));
        Assert.Equal("2027-03-02", Data(sent[1], "dueOn"));
        Assert.Equal(final.Id, Data(sent[1], "mailId"));
        var records = (await StoredAsync(_api, "VT-1001")).Reminders;
        Assert.Equal(
            [(90, early.Id), (30, final.Id)],
            records.Select(r => (r.Stage.DaysBefore, r.MailId)));
        Assert.All(records, r => Assert.Equal(ReminderOutcome.Sent, r.Outcome));
        Assert.Equal(
            [("90-day", "2027-01-01", "2027-04-01", "sent", early.Id), ("30-day", "2027-03-02", "2027-04-01", "sent", final.Id)],
            await RemindersAsync(_api, "VT-1001"));
    }

    [Fact]
    public async Task R9_running_the_scan_twice_on_the_same_day_enqueues_nothing_new()
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        _api.Clock.Reset(InDenver(2027, 1, 1, 1));
        await RunScanAsync(_api);
        _api.Clock.Reset(InDenver(2027, 1, 1, 23));
        await RunScanAsync(_api);
        _api.Clock.Reset(InDenver(2027, 1, 2, 9));
        await RunScanAsync(_api);

        var message = Assert.Single(await UndeliveredAsync(_api));
        var sent = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent"));
        Assert.Equal(message.Id, Data(sent, "mailId"));
    }

    [Fact]
    public async Task R9_concurrent_scans_in_one_host_enqueue_each_reminder_exactly_once()
    {
        var customers = await SeedCustomersAsync(_api, customers: 4, licensesEach: 3);
        _api.Clock.Reset(InDenver(2027, 1, 1));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => RunScanAsync(_api))));

        await AssertOneMailPerCustomerAsync(_api, customers);
    }

    [Fact]
    public async Task R9_concurrent_scans_in_two_hosts_sharing_the_tables_enqueue_each_reminder_exactly_once()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        var shared = new Dictionary<string, string?> { ["Smp:TablePrefix"] = prefix };
        using var first = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20), shared);
        using var second = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1), shared);
        var customers = await SeedCustomersAsync(first, customers: 4, licensesEach: 3);
        first.Clock.Reset(InDenver(2027, 1, 1));

        await Task.WhenAll(
            Task.Run(() => RunScanAsync(first)),
            Task.Run(() => RunScanAsync(second)),
            Task.Run(() => RunScanAsync(first)),
            Task.Run(() => RunScanAsync(second)));

        await AssertOneMailPerCustomerAsync(first, customers);
        Assert.Equal(4, (await UndeliveredAsync(second)).Count);
    }

    [Fact]
    public async Task R9_after_downtime_spanning_both_due_dates_one_run_sends_only_the_30_day_reminder()
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        // The timer was down from December until 5 March: both the 90-day and the 30-day dates have passed.
        _api.Clock.Reset(InDenver(2027, 3, 5));
        await RunScanAsync(_api);

        var message = Assert.Single(await UndeliveredAsync(_api));
        AssertReminder(message, ["VT-1001"], DefaultContacts);
        Assert.StartsWith("Final reminder", message.Mail.Subject, StringComparison.Ordinal);
        var sent = Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent"));
        Assert.Equal("30-day", Data(sent, "stage"));
        Assert.Equal(message.Id, Data(sent, "mailId"));
        Assert.Equal([("30-day", "2027-03-02", "2027-04-01", "sent", message.Id)], await RemindersAsync(_api, "VT-1001"));

        // Later runs, before and after the expiry, never send the skipped 90-day reminder late.
        foreach (var day in new[] { InDenver(2027, 3, 6), InDenver(2027, 3, 31), InDenver(2027, 4, 2) })
        {
            _api.Clock.Reset(day);
            await RunScanAsync(_api);
        }

        Assert.Single(await UndeliveredAsync(_api));
        Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent"));
        Assert.Empty(await EventsAsync(_api, "VT-1001", "reminderMissed"));
    }

    [Fact]
    public async Task R9_a_renewal_recorded_before_the_reminder_date_means_no_reminder_for_the_old_expiry()
    {
        await ActivateAsync(_api, "VT-1001", April2026);
        _api.Clock.Reset(InDenver(2026, 12, 15));
        Assert.Equal(201, (await LicenseApiTests.RenewAsync(_api, "VT-1001", """{"orderReference":"SO-77"}""")).Status);

        foreach (var day in new[] { InDenver(2027, 1, 1), InDenver(2027, 3, 2), InDenver(2027, 3, 31) })
        {
            _api.Clock.Reset(day);
            await RunScanAsync(_api);
        }

        Assert.Empty(await UndeliveredAsync(_api));
        Assert.Empty(await EventsAsync(_api, "VT-1001", "reminderSent"));
        Assert.Equal(
            [("90-day", "2028-01-02", "2028-04-01", "planned", null), ("30-day", "2028-03-02", "2028-04-01", "planned", null)],
            await RemindersAsync(_api, "VT-1001"));

        // The new expiry, 1 April 2028, has its own reminders: 90 days before it is 2 January 2028 (a leap year).
        _api.Clock.Reset(InDenver(2028, 1, 2));
        await RunScanAsync(_api);
        var message = Assert.Single(await UndeliveredAsync(_api));
        Assert.Contains("1 April 2028", message.Mail.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain("1 April 2027", message.Mail.PlainText, StringComparison.Ordinal);
        Assert.Equal("2028-04-01", Data(Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent")), "expiresOn"));
    }

    [Fact]
    public async Task R9_a_renewal_between_the_two_reminders_cancels_the_30_day_reminder_of_the_old_expiry()
    {
        await ActivateAsync(_api, "VT-1001", April2026);
        _api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(_api);
        var early = Assert.Single(await UndeliveredAsync(_api));

        _api.Clock.Reset(InDenver(2027, 2, 10));
        Assert.Equal(201, (await LicenseApiTests.RenewAsync(_api, "VT-1001", """{"orderReference":"SO-78"}""")).Status);
        _api.Clock.Reset(InDenver(2027, 3, 2));
        await RunScanAsync(_api);

        Assert.Equal(early.Id, Assert.Single(await UndeliveredAsync(_api)).Id);
        Assert.Single(await EventsAsync(_api, "VT-1001", "reminderSent"));
    }

    [Fact]
    public async Task R10_licenses_of_one_customer_with_the_same_contacts_due_the_same_day_go_out_as_one_mail()
    {
        await ActivateAsync(_api, "VT-3001", April2026, "C-42", ["buyer@example.com", "cad@example.com"]);
        await ActivateAsync(_api, "VT-3002", April2026, "C-42", ["buyer@example.com", "cad@example.com"]);
        await ActivateAsync(_api, "VT-3003", April2026, "C-42", ["CAD@example.com", "buyer@example.com"]); // the same recipients
        await ActivateAsync(_api, "VT-3004", April2026, "C-42", ["cad@example.com"]); // other recipients
        await ActivateAsync(_api, "VT-3005", April2026, "C-77", ["buyer@example.com", "cad@example.com"]); // another customer

        _api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(_api);

        var messages = await UndeliveredAsync(_api);
        Assert.Equal(3, messages.Count);
        var together = Assert.Single(messages, m => m.Mail.PlainText.Contains("VT-3001", StringComparison.Ordinal));
        AssertReminder(together, ["VT-3001", "VT-3002", "VT-3003"], DefaultContacts);
        Assert.Contains("3 VTube-LASER maintenance plans expire on 1 April 2027", together.Mail.Subject, StringComparison.Ordinal);
        var alone = Assert.Single(messages, m => m.Mail.PlainText.Contains("VT-3004", StringComparison.Ordinal));
        AssertReminder(alone, ["VT-3004"], ["cad@example.com"]);
        var other = Assert.Single(messages, m => m.Mail.PlainText.Contains("VT-3005", StringComparison.Ordinal));
        AssertReminder(other, ["VT-3005"], DefaultContacts);

        foreach (var (serial, mail) in new[] { ("VT-3001", together), ("VT-3002", together), ("VT-3003", together), ("VT-3004", alone), ("VT-3005", other) })
        {
            Assert.Equal(mail.Id, Data(Assert.Single(await EventsAsync(_api, serial, "reminderSent")), "mailId"));
        }
    }

    [Fact]
    public async Task R10_a_customer_with_more_licenses_due_than_one_mail_can_claim_gets_them_all_in_consecutive_mails_once()
    {
        // One outbox write holds a mail and at most 98 reminder claims (a 100-operation table transaction).
        var serials = Enumerable.Range(1, 99).Select(i => $"VT-{i:D4}").ToList();
        foreach (var chunk in serials.Chunk(8))
        {
            await Task.WhenAll(chunk.Select(s => ActivateAsync(_api, s, April2026)));
        }

        _api.Clock.Reset(InDenver(2027, 1, 1));
        await Task.WhenAll(Task.Run(() => RunScanAsync(_api)), Task.Run(() => RunScanAsync(_api)));

        var messages = await UndeliveredAsync(_api);
        Assert.Equal(2, messages.Count);
        var perSerial = serials.ToDictionary(s => s, s => messages.Where(m => m.Mail.PlainText.Contains(s, StringComparison.Ordinal)).Select(m => m.Id).ToList());
        Assert.All(perSerial, p => Assert.Single(p.Value));
        Assert.Equal([1, 98], messages.Select(m => perSerial.Count(p => p.Value[0] == m.Id)).Order());
        foreach (var serial in serials)
        {
            Assert.Equal(perSerial[serial][0], Assert.Single((await StoredAsync(_api, serial)).Reminders).MailId);
        }
    }

    /// <summary>
    /// A reminder mail from the sender, to exactly <paramref name="recipients"/>, Reply-To the renewals desk, naming
    /// every serial of <paramref name="serials"/> (and no other serial of the tests) and the expiry in words.
    /// </summary>
    internal static void AssertReminder(OutboxMessage message, IReadOnlyList<string> serials, IReadOnlyList<string> recipients)
    {
        Assert.Equal(MailKinds.Reminder, message.Kind);
        Assert.Equal(MailStatus.Pending, message.Status);
        Assert.Equal(Sender, message.Mail.From.Value);
        Assert.Equal(recipients.Select(r => r.ToLowerInvariant()).Order(StringComparer.Ordinal), Addresses(message.Mail.To));
        Assert.Equal(RenewalsDesk, message.Mail.ReplyTo?.Value);
        Assert.Contains("1 April 2027", message.Mail.Subject, StringComparison.Ordinal);
        Assert.Contains("1 April 2027", message.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("1 April 2027", message.Mail.Html, StringComparison.Ordinal);
        if (serials.Count == 1)
        {
            Assert.Contains(serials[0], message.Mail.Subject, StringComparison.Ordinal);
        }

        foreach (var serial in serials)
        {
            Assert.Contains(serial, message.Mail.PlainText, StringComparison.Ordinal);
            Assert.Contains(serial, message.Mail.Html, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Customers C-1.. with <paramref name="licensesEach"/> one-year licenses each (serials VT-c0l), all expiring on
    /// 1 April 2027; each customer's licenses share contacts of its own.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, string[]>> SeedCustomersAsync(ApiHarness api, int customers, int licensesEach)
    {
        var seeded = new Dictionary<string, string[]>();
        for (var c = 1; c <= customers; c++)
        {
            var serials = Enumerable.Range(1, licensesEach).Select(l => $"VT-{c}0{l}").ToArray();
            foreach (var serial in serials)
            {
                await ActivateAsync(api, serial, April2026, $"C-{c}", [$"buyer{c}@example.com", $"cad{c}@example.com"]);
            }

            seeded[$"C-{c}"] = serials;
        }

        return seeded;
    }

    /// <summary>One mail per customer listing exactly its serials, and each license recording that mail, once.</summary>
    private static async Task AssertOneMailPerCustomerAsync(ApiHarness api, IReadOnlyDictionary<string, string[]> customers)
    {
        var messages = await UndeliveredAsync(api);
        Assert.Equal(customers.Count, messages.Count);
        var allSerials = customers.Values.SelectMany(s => s).ToList();
        foreach (var (customer, serials) in customers)
        {
            var c = customer[2..];
            var mail = Assert.Single(messages, m => m.Mail.To.Any(a => a.Value == $"buyer{c}@example.com"));
            AssertReminder(mail, serials, [$"buyer{c}@example.com", $"cad{c}@example.com"]);
            Assert.All(allSerials.Except(serials), other => Assert.DoesNotContain(other, mail.Mail.PlainText, StringComparison.Ordinal));
            foreach (var serial in serials)
            {
                var sent = Assert.Single(await EventsAsync(api, serial, "reminderSent"));
                Assert.Equal(mail.Id, Data(sent, "mailId"));
                Assert.Equal(mail.Id, Assert.Single((await StoredAsync(api, serial)).Reminders).MailId);
            }
        }
    }
}
