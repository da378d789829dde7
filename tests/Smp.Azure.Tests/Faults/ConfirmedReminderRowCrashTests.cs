using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// R9 with confirmed reminder rows: a change that dies after unconfirming its reminder rows (before its transaction), or
/// after its transaction and before confirming them, is made again by a new process, and the reminder scans that follow
/// send each reminder exactly once, with the license's data as stored (its contacts, its expiry), never from a copy of
/// an older state. The confirm and the removal of the old state's rows are one request, so there is no crash point
/// between them.
/// </summary>
public sealed class ConfirmedReminderRowCrashTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 14, 16, 0);
    private static readonly CommandContext Staff = new("crash-tests", "corr-staff");
    private static readonly EmailAddress[] NewContacts = [EmailAddress.Parse("it@acme.example"), EmailAddress.Parse("boss@acme.example")];

    private static CancellationToken Ct => CancellationToken.None;

    public enum CrashPoint
    {
        /// <summary>Just after the batch that unconfirms the old state's reminder rows and adds the new state's.</summary>
        AfterTheUnconfirm,

        /// <summary>Just after the license's transaction, before the batch that confirms the rows.</summary>
        AfterTheTransaction,
    }

    [Theory]
    [InlineData(CrashPoint.AfterTheUnconfirm)]
    [InlineData(CrashPoint.AfterTheTransaction)]
    public async Task R9_a_contact_change_that_crashed_around_its_reminder_rows_leaves_the_reminder_sent_once_to_the_new_contacts(CrashPoint point)
    {
        Task Change(SmpOnTables s) => s.Licenses.ReplaceContactsAsync(Serial.Parse("CC-1"), [.. NewContacts], new CommandContext("contacts-desk", "corr-contacts"), Ct);
        var system = await CrashAsync(point, s => s.Licenses.ActivateAsync(Activation("CC-1"), Staff, Ct), Change);
        var restarted = system.Restart();
        await Change(restarted);

        // The 30-day reminder is due on 2026-04-01: two scans (the second finds it done), then the dispatch.
        restarted.Clock.Reset(Instant.FromUtc(2026, 4, 1, 15, 0));
        await restarted.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-1"), Ct);
        await restarted.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-2"), Ct);
        await restarted.Dispatcher.RunAsync(Ct);

        var (id, count) = Assert.Single(restarted.MailService.Deliveries);
        Assert.Equal(1, count);
        Assert.Equal(NewContacts.Select(c => c.ToString()).Order(), (await restarted.Outbox.GetAsync(id, Ct))!.Message.Mail.To.Select(a => a.ToString()).Order());
        var license = (await restarted.Store.GetAsync(Serial.Parse("CC-1"), Ct))!.License;
        Assert.Single(license.Reminders);
    }

    [Theory]
    [InlineData(CrashPoint.AfterTheUnconfirm)]
    [InlineData(CrashPoint.AfterTheTransaction)]
    public async Task R9_a_renewal_that_crashed_around_its_reminder_rows_sends_nothing_for_the_old_expiry_and_the_new_one_once(CrashPoint point)
    {
        Task Renew(SmpOnTables s) => s.Licenses.RenewAsync(Serial.Parse("CR-1"), new RenewalRequest("PO-4711", 12, null), new CommandContext("renewals-desk", "corr-po-4711"), Ct);
        var system = await CrashAsync(point, s => s.Licenses.ActivateAsync(Activation("CR-1"), Staff, Ct), Renew);
        var restarted = system.Restart();
        await Renew(restarted);
        var renewed = (await restarted.Store.GetAsync(Serial.Parse("CR-1"), Ct))!.License;

        // The old expiry's 30-day reminder day: nothing is due any more.
        restarted.Clock.Reset(Instant.FromUtc(2026, 4, 1, 15, 0));
        await restarted.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-1"), Ct);
        await restarted.Dispatcher.RunAsync(Ct);
        Assert.Empty(restarted.MailService.Deliveries);

        // The new expiry's 90-day reminder: sent once, for the new expiry.
        var due = ReminderSchedule.Default.Pending(renewed).OrderBy(r => r.DueOn).First();
        restarted.Clock.Reset(due.DueOn.At(new LocalTime(15, 0)).InUtc().ToInstant());
        await restarted.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-2"), Ct);
        await restarted.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-3"), Ct);
        await restarted.Dispatcher.RunAsync(Ct);

        var (_, count) = Assert.Single(restarted.MailService.Deliveries);
        Assert.Equal(1, count);
        var reminder = Assert.Single((await restarted.Store.GetAsync(Serial.Parse("CR-1"), Ct))!.License.Reminders);
        Assert.Equal(renewed.ExpiresOn, reminder.ExpiresOn);
    }

    /// <summary>
    /// Arranges the system, then makes <paramref name="change"/> and kills the process at <paramref name="point"/>. Where
    /// that falls among the change's writes is found by making the same change on a twin system first.
    /// </summary>
    private async Task<SmpOnTables> CrashAsync(CrashPoint point, Func<SmpOnTables, Task> arrange, Func<SmpOnTables, Task> change)
    {
        var log = new WriteLog();
        var twin = SmpOnTables.Create(azurite, Start, policies: log);
        await arrange(twin);
        log.Clear();
        await change(twin);
        var kinds = log.Kinds;
        var unconfirm = kinds.ToList().IndexOf("reminders");
        var transaction = kinds.ToList().IndexOf("license");
        Assert.True(unconfirm >= 0 && transaction > unconfirm, string.Join(",", kinds));
        Assert.Equal("reminders", kinds[transaction + 1]); // the confirm (with the removals), right after the transaction

        var crash = new ProcessCrashPolicy();
        var system = SmpOnTables.Create(azurite, Start, policies: crash);
        await arrange(system);
        crash.Arm((point == CrashPoint.AfterTheUnconfirm ? unconfirm : transaction) + 1, CrashTiming.AfterWrite);
        await Assert.ThrowsAnyAsync<Exception>(() => change(system));
        Assert.True(crash.Crashed);
        return system;
    }

    private static ActivationRequest Activation(string serial) => new(
        Serial.Parse(serial),
        null,
        new Customer("ACME", "ACME Inc."),
        [EmailAddress.Parse("buyer@acme.example"), EmailAddress.Parse("cad@acme.example")],
        false,
        Start - Duration.FromHours(2));

    /// <summary>The writes sent, in order, each as "reminders" (of reminder rows), "license" (a license's transaction) or "other".</summary>
    private sealed class WriteLog : HttpPipelinePolicy
    {
        private readonly List<string> kinds = [];

        public IReadOnlyList<string> Kinds
        {
            get
            {
                lock (kinds)
                {
                    return [.. kinds];
                }
            }
        }

        public void Clear()
        {
            lock (kinds)
            {
                kinds.Clear();
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method != RequestMethod.Get
                && !(message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("/Tables", StringComparison.Ordinal)))
            {
                var body = Uri.UnescapeDataString(message.Request.Uri.Path);
                if (message.Request.Content is { } content)
                {
                    using var buffer = new MemoryStream();
                    content.WriteTo(buffer, CancellationToken.None);
                    body += Uri.UnescapeDataString(Encoding.UTF8.GetString(buffer.ToArray()));
                }

                lock (kinds)
                {
                    kinds.Add(body.Contains("license|", StringComparison.Ordinal) ? "license"
                        : body.Contains("PartitionKey='reminders'", StringComparison.Ordinal) || body.Contains("\"PartitionKey\":\"reminders\"", StringComparison.Ordinal) ? "reminders"
                        : "other");
                }
            }

            return ProcessNextAsync(message, pipeline);
        }
    }
}

/// <summary>
/// R9 with confirmed reminder rows under a race: the scan lists a license from its confirmed reminder row (no license
/// read), then a contact change or a renewal commits before the scan enqueues and records the reminder. The recording,
/// written under the row's ETag, meets the change (412), reads the license again and records on it once; the change
/// stands; a second scan adds nothing; a reminder for the old expiry is never delivered.
/// </summary>
public sealed class ConfirmedReminderRowRaceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 14, 16, 0);
    private static readonly Instant DueAt = Instant.FromUtc(2026, 4, 1, 15, 0);
    private static readonly CommandContext Staff = new("race-tests", "corr-staff");

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task R9_a_contact_change_between_the_listing_of_a_confirmed_row_and_the_recording_is_kept_and_the_reminder_recorded_once()
    {
        var racer = new BeforeFirstOutboxWrite();
        var system = SmpOnTables.Create(azurite, Start, policies: racer);
        var serial = Serial.Parse("RC-1");
        await system.Licenses.ActivateAsync(Activation(serial), Staff, Ct);
        var other = system.Restart(); // another process on the same tables
        racer.Outbox = system.Tables.Outbox;
        racer.Action = () => other.Licenses.ReplaceContactsAsync(serial, [EmailAddress.Parse("it@acme.example")], new CommandContext("contacts-desk", "corr-contacts"), Ct);

        system.Clock.Reset(DueAt);
        other.Clock.Reset(DueAt);
        var report = await system.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-1"), Ct);

        Assert.True(racer.Ran, report.ToString() + string.Join(";", report.Failures.IsDefault ? [] : report.Failures.Select(f => f.Error.ToString())));
        Assert.Equal(0, racer.LicenseReadsBefore); // listed from the confirmed row
        var license = (await other.Store.GetAsync(serial, Ct))!.License;
        Assert.Equal(["it@acme.example"], license.Contacts.Select(c => c.ToString()));
        Assert.Single(license.Reminders);

        await system.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-2"), Ct);
        Assert.Single((await other.Store.GetAsync(serial, Ct))!.License.Reminders);
        Assert.Single(await system.Outbox.ListDueAsync(Instant.MaxValue, 10, Ct));
    }

    [Fact]
    public async Task R9_a_renewal_between_the_listing_of_a_confirmed_row_and_the_recording_stands_and_no_reminder_for_the_old_expiry_is_delivered()
    {
        var racer = new BeforeFirstOutboxWrite();
        var system = SmpOnTables.Create(azurite, Start, policies: racer);
        var serial = Serial.Parse("RR-1");
        await system.Licenses.ActivateAsync(Activation(serial), Staff, Ct);
        var expiredOn = (await system.Store.GetAsync(serial, Ct))!.License.ExpiresOn;
        var other = system.Restart();
        racer.Outbox = system.Tables.Outbox;
        racer.Action = () => other.Licenses.RenewAsync(serial, new RenewalRequest("PO-RACE", 12, null), new CommandContext("renewals-desk", "corr-po"), Ct);

        system.Clock.Reset(DueAt);
        other.Clock.Reset(DueAt);
        await system.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-1"), Ct);
        await system.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan-2"), Ct);
        await system.Dispatcher.RunAsync(Ct);

        Assert.True(racer.Ran);
        Assert.Equal(0, racer.LicenseReadsBefore);
        var license = (await other.Store.GetAsync(serial, Ct))!.License;
        Assert.True(license.ExpiresOn > expiredOn);
        Assert.True(license.Reminders.Count(r => r.ExpiresOn == expiredOn) <= 1);
        Assert.Empty(system.MailService.Deliveries);
    }

    private static ActivationRequest Activation(Serial serial) => new(
        serial,
        null,
        new Customer("ACME", "ACME Inc."),
        [EmailAddress.Parse("buyer@acme.example"), EmailAddress.Parse("cad@acme.example")],
        false,
        Start - Duration.FromHours(2));

    /// <summary>Runs <see cref="Action"/> once, just before the first write to the outbox table; counts license reads before it.</summary>
    private sealed class BeforeFirstOutboxWrite : HttpPipelinePolicy
    {
        private int licenseReads;

        public string? Outbox { get; set; }

        public Func<Task>? Action { get; set; }

        public bool Ran { get; private set; }

        public int LicenseReadsBefore => Volatile.Read(ref licenseReads);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (Action is { } action && Outbox is { } outbox)
            {
                var path = Uri.UnescapeDataString(message.Request.Uri.Path);
                if (message.Request.Method == RequestMethod.Get && path.Contains("RowKey='license|", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref licenseReads);
                }
                else if (message.Request.Method != RequestMethod.Get && IsOutboxWrite(message, path, outbox))
                {
                    Action = null;
                    await action();
                    Ran = true;
                }
            }

            await ProcessNextAsync(message, pipeline);
        }

        private static bool IsOutboxWrite(HttpMessage message, string path, string outbox)
        {
            if (path.Contains("/" + outbox, StringComparison.Ordinal))
            {
                return !path.EndsWith("/Tables", StringComparison.Ordinal);
            }

            if (!path.EndsWith("$batch", StringComparison.Ordinal) || message.Request.Content is not { } content)
            {
                return false;
            }

            using var buffer = new MemoryStream();
            content.WriteTo(buffer, CancellationToken.None);
            return System.Text.RegularExpressions.Regex.IsMatch(Encoding.UTF8.GetString(buffer.ToArray()), "/" + outbox + "[^A-Za-z0-9]");
        }
    }
}
