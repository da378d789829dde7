using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// R9 "at most once, ever, whatever restarts happen": a scan that dies between the outbox write and the license
/// write, then runs again in a fresh host on the same tables. The storage is the real Azurite throughout; only the
/// crash is injected, by a decorator around the real license store.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReminderScanRecoveryTests(AzuriteFixture azurite)
{
    private static readonly LocalDate April2026 = new(2026, 4, 1);
    private static readonly string[] Batch = ["VT-5001", "VT-5002", "VT-5003"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task R9_a_scan_that_crashes_after_the_outbox_write_and_runs_again_sends_each_reminder_exactly_once(int crashOnLicenseUpdate)
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using (var crashing = CrashingHarness(prefix, crashOnLicenseUpdate))
        {
            foreach (var serial in Batch)
            {
                await ActivateAsync(crashing, serial, April2026);
            }

            crashing.Clock.Reset(InDenver(2027, 1, 1));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => RunScanAsync(crashing));

            // The mail was written before the crash; licenses updated before it keep their record.
            Assert.Single(await UndeliveredAsync(crashing));
            Assert.Equal(crashOnLicenseUpdate - 1, await CountRecordedAsync(crashing, Batch));
        }

        using var restarted = Harness(prefix, InDenver(2027, 1, 1, 15));
        await RunScanAsync(restarted);
        await RunScanAsync(restarted);

        var message = Assert.Single(await UndeliveredAsync(restarted));
        ReminderScanTests.AssertReminder(message, Batch, DefaultContacts);
        foreach (var serial in Batch)
        {
            var record = Assert.Single((await StoredAsync(restarted, serial)).Reminders);
            Assert.Equal((90, ReminderOutcome.Sent, message.Id), (record.Stage.DaysBefore, record.Outcome, record.MailId));
            Assert.Equal(message.Id, Data(Assert.Single(await EventsAsync(restarted, serial, "reminderSent")), "mailId"));
            Assert.Equal(("90-day", "sent", message.Id), await DocumentedAsync(restarted, serial, "90-day"));
        }
    }

    [Fact]
    public async Task R9_a_crashed_90_day_reminder_found_after_downtime_is_recorded_in_its_mail_and_the_30_day_one_is_sent()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string early;
        using (var crashing = CrashingHarness(prefix, crashOnLicenseUpdate: 1))
        {
            await ActivateAsync(crashing, "VT-1001", April2026);
            crashing.Clock.Reset(InDenver(2027, 1, 1));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => RunScanAsync(crashing));
            early = Assert.Single(await UndeliveredAsync(crashing)).Id;
        }

        // The timer stays down until after the 30-day date.
        using var restarted = Harness(prefix, InDenver(2027, 3, 10));
        await RunScanAsync(restarted);

        var messages = await UndeliveredAsync(restarted);
        Assert.Equal(2, messages.Count);
        var final = Assert.Single(messages, m => m.Id != early);
        Assert.StartsWith("Final reminder", final.Mail.Subject, StringComparison.Ordinal);
        Assert.Equal(
            [(90, ReminderOutcome.Sent, early), (30, ReminderOutcome.Sent, final.Id)],
            (await StoredAsync(restarted, "VT-1001")).Reminders.Select(r => (r.Stage.DaysBefore, r.Outcome, r.MailId)));
        Assert.Empty(await EventsAsync(restarted, "VT-1001", "reminderMissed"));
        Assert.Equal(("90-day", "sent", early), await DocumentedAsync(restarted, "VT-1001", "90-day"));
        Assert.Equal(("30-day", "sent", final.Id), await DocumentedAsync(restarted, "VT-1001", "30-day"));
    }

    [Fact]
    public async Task R9_a_crashed_reminder_found_only_after_the_plan_expired_is_recorded_as_sent_not_missed()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string final;
        using (var crashing = CrashingHarness(prefix, crashOnLicenseUpdate: 1))
        {
            await ActivateAsync(crashing, "VT-1001", April2026);
            crashing.Clock.Reset(InDenver(2027, 3, 2));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => RunScanAsync(crashing));
            final = Assert.Single(await UndeliveredAsync(crashing)).Id;
        }

        using var restarted = Harness(prefix, InDenver(2027, 4, 5));
        await RunScanAsync(restarted);

        Assert.Equal(final, Assert.Single(await UndeliveredAsync(restarted)).Id);
        var record = Assert.Single((await StoredAsync(restarted, "VT-1001")).Reminders);
        Assert.Equal((30, ReminderOutcome.Sent, final), (record.Stage.DaysBefore, record.Outcome, record.MailId));
        Assert.Empty(await EventsAsync(restarted, "VT-1001", "reminderMissed"));
        Assert.Equal(("30-day", "sent", final), await DocumentedAsync(restarted, "VT-1001", "30-day"));
    }

    /// <summary>What the license document says of one stage's reminder: (stage, status, mailId).</summary>
    private static async Task<(string?, string?, string?)> DocumentedAsync(ApiHarness api, string serial, string stage)
    {
        var reminder = Assert.Single(await RemindersAsync(api, serial), r => r.Stage == stage);
        return (reminder.Stage, reminder.Status, reminder.MailId);
    }

    private ApiHarness Harness(string prefix, Instant now, Action<IServiceCollection>? services = null) =>
        new(azurite.ConnectionString, now, new Dictionary<string, string?> { ["Smp:TablePrefix"] = prefix }, services);

    /// <summary>A host whose license store dies on its <paramref name="crashOnLicenseUpdate"/>-th update, before writing it.</summary>
    private ApiHarness CrashingHarness(string prefix, int crashOnLicenseUpdate) =>
        Harness(prefix, InDenver(2026, 3, 20), services => services.Decorate<ILicenseStore>((store, _) => new CrashingLicenseStore(store, crashOnLicenseUpdate)));

    private static async Task<int> CountRecordedAsync(ApiHarness api, IEnumerable<string> serials)
    {
        var recorded = 0;
        foreach (var serial in serials)
        {
            recorded += (await StoredAsync(api, serial)).Reminders.Length;
        }

        return recorded;
    }
}
