using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Tests.Outbox;
using static Smp.Core.Tests.Reminders.LicenseFactory;

namespace Smp.Core.Tests.Reminders;

public class ReminderScanTests
{
    private static readonly ReminderStage NinetyDay = new(90);
    private static readonly ReminderStage ThirtyDay = new(30);
    private static readonly Customer Globex = new("C-GLOBEX", "Globex");

    private readonly ScanHarness harness = new();

    /// <summary>One reminder's claim in the outbox.</summary>
    private static MailClaim Claim(string serial, string expiresOn, ReminderStage stage) =>
        MailClaim.Reminder(Serial.Parse(serial), Date(expiresOn), stage);

    [Fact]
    public async Task A_scan_enqueues_the_due_reminder_as_a_pending_reminder_mail_with_the_batch_id()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        harness.Today("2027-01-01");

        var report = await harness.RunAsync();

        Assert.Equal(new ScanReport(LicensesExamined: 1, RemindersDue: 1, MailsEnqueued: 1, RemindersRepaired: 0, RemindersMissed: 0), report);
        var mail = Assert.Single(harness.Outbox.All());
        var batch = Assert.Single(harness.Composer.Composed);
        Assert.Equal(batch.MailId, mail.Id);
        Assert.Equal(MailKinds.Reminder, mail.Kind);
        Assert.Equal(MailStatus.Pending, mail.Status);
        Assert.Equal(harness.Clock.GetCurrentInstant(), mail.CreatedAt);
        Assert.Equal(["buyer@acme.example.com"], mail.Mail.To.Select(a => a.Value));
        Assert.Equal([Claim("SN-1", "2027-04-01", NinetyDay)], harness.Outbox.ClaimsOf(mail.Id));

        var record = Assert.Single(await harness.RemindersOfAsync("SN-1"));
        Assert.Equal(new ReminderRecord(NinetyDay, Date("2027-04-01"), ReminderOutcome.Sent, harness.Clock.GetCurrentInstant(), mail.Id, Date("2027-01-01")), record);
    }

    [Fact]
    public async Task Running_the_scan_twice_on_one_day_enqueues_each_reminder_once()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        await harness.ActivateAsync("SN-2", "2026-03-20", training: true);
        await harness.ActivateAsync("SN-3", "2026-03-02", training: true, Globex);
        harness.Today("2027-01-01");

        var first = await harness.RunAsync();
        var second = await harness.RunAsync();

        Assert.Equal(3, first.RemindersDue);
        Assert.Equal(2, first.MailsEnqueued);
        Assert.Equal(0, second.RemindersDue);
        Assert.Equal(0, second.MailsEnqueued);
        Assert.Equal(2, harness.Outbox.All().Count);
        await harness.AssertEachReminderInExactlyOneMailAsync(["SN-1", "SN-2", "SN-3"]);
    }

    [Fact]
    public async Task Two_scans_running_at_once_enqueue_each_reminder_exactly_once()
    {
        for (var round = 0; round < 20; round++)
        {
            var shared = new ScanHarness();
            await shared.ActivateAsync("SN-1", "2026-03-14", training: true);
            await shared.ActivateAsync("SN-2", "2026-03-02", training: true);
            await shared.ActivateAsync("SN-3", "2026-03-31", training: true);
            await shared.ActivateAsync("SN-4", "2026-03-14", training: true, contacts: ["someone.else@acme.example.com"]);
            await shared.ActivateAsync("SN-5", "2026-03-14", training: true, Globex);
            shared.Today("2027-01-01");
            var otherHost = shared.AnotherScan();

            var reports = await Task.WhenAll(
                Task.Run(() => shared.RunAsync()),
                Task.Run(() => ScanHarness.RunAsync(otherHost)));

            Assert.Equal(3, reports.Sum(r => r.MailsEnqueued));
            Assert.Equal(3, shared.Outbox.All().Count);
            await shared.AssertEachReminderInExactlyOneMailAsync(["SN-1", "SN-2", "SN-3", "SN-4", "SN-5"]);
        }
    }

    [Fact]
    public async Task A_crash_between_the_enqueue_and_the_record_is_repaired_by_the_next_scan_without_a_second_mail()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        harness.Today("2027-01-01");
        harness.Store.CrashOnNextUpdate(Serial.Parse("SN-1"));

        await Assert.ThrowsAsync<IOException>(() => harness.RunAsync());
        var mail = Assert.Single(harness.Outbox.All());
        Assert.Empty(await harness.RemindersOfAsync("SN-1"));

        var report = await harness.RunAsync();

        Assert.Equal(0, report.MailsEnqueued);
        Assert.Equal(1, report.RemindersRepaired);
        Assert.Equal(mail.Id, Assert.Single(harness.Outbox.All()).Id);
        var record = Assert.Single(await harness.RemindersOfAsync("SN-1"));
        Assert.Equal(ReminderOutcome.Sent, record.Outcome);
        Assert.Equal(mail.Id, record.MailId);
        Assert.Single(await harness.EventsOfAsync("SN-1", LicenseEventTypes.ReminderSent));
    }

    [Fact]
    public async Task A_crash_part_way_through_recording_a_shared_mail_is_repaired_with_that_mail()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        await harness.ActivateAsync("SN-2", "2026-03-14", training: true);
        await harness.ActivateAsync("SN-3", "2026-03-14", training: true);
        harness.Today("2027-01-01");
        harness.Store.CrashOnNextUpdate(Serial.Parse("SN-2"));

        await Assert.ThrowsAsync<IOException>(() => harness.RunAsync());
        var mail = Assert.Single(harness.Outbox.All());
        Assert.Single(await harness.RemindersOfAsync("SN-1"));
        Assert.Empty(await harness.RemindersOfAsync("SN-2"));

        var report = await harness.RunAsync();

        Assert.Equal(0, report.MailsEnqueued);
        Assert.Equal(2, report.RemindersRepaired);
        Assert.Equal(mail.Id, Assert.Single(harness.Outbox.All()).Id);
        await harness.AssertEachReminderInExactlyOneMailAsync(["SN-1", "SN-2", "SN-3"]);
    }

    [Fact]
    public async Task A_crash_on_the_last_day_before_expiry_is_repaired_as_sent_not_recorded_as_missed()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        harness.Today("2027-03-31");
        harness.Store.CrashOnNextUpdate(Serial.Parse("SN-1"));
        await Assert.ThrowsAsync<IOException>(() => harness.RunAsync());
        var mail = Assert.Single(harness.Outbox.All());

        harness.Today("2027-04-01");
        var report = await harness.RunAsync();

        Assert.Equal(0, report.RemindersMissed);
        Assert.Equal(1, report.RemindersRepaired);
        Assert.Single(harness.Outbox.All());
        var record = Assert.Single(await harness.RemindersOfAsync("SN-1"));
        Assert.Equal((ThirtyDay, ReminderOutcome.Sent, mail.Id), (record.Stage, record.Outcome, record.MailId));
        Assert.Empty(await harness.EventsOfAsync("SN-1", LicenseEventTypes.ReminderMissed));
    }

    [Fact]
    public async Task A_crash_after_mailing_the_90_day_reminder_is_repaired_even_when_the_next_scan_sends_the_30_day_one()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        harness.Today("2027-01-01");
        harness.Store.CrashOnNextUpdate(Serial.Parse("SN-1"));
        await Assert.ThrowsAsync<IOException>(() => harness.RunAsync());
        var ninetyDayMail = Assert.Single(harness.Outbox.All());

        harness.Today("2027-03-05");
        var report = await harness.RunAsync();

        Assert.Equal(1, report.MailsEnqueued);
        Assert.Equal(1, report.RemindersRepaired);
        var mails = harness.Outbox.All();
        Assert.Equal(2, mails.Count);
        var records = (await harness.RemindersOfAsync("SN-1")).OrderByDescending(r => r.Stage.DaysBefore).ToArray();
        Assert.Equal(
            [(NinetyDay, ReminderOutcome.Sent, ninetyDayMail.Id), (ThirtyDay, ReminderOutcome.Sent, mails[1].Id)],
            records.Select(r => (r.Stage, r.Outcome, r.MailId)));
        Assert.Equal(2, (await harness.EventsOfAsync("SN-1", LicenseEventTypes.ReminderSent)).Length);
    }

    [Fact]
    public async Task R10_three_licenses_of_one_customer_with_the_same_contacts_due_the_same_day_share_one_mail()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true, contacts: ["ana@acme.example.com", "bo@acme.example.com"]);
        await harness.ActivateAsync("SN-2", "2026-03-02", training: true, contacts: ["BO@acme.example.com", "ana@ACME.example.com"]);
        await harness.ActivateAsync("SN-3", "2026-03-31", training: true, contacts: ["ana@acme.example.com", "bo@acme.example.com"]);
        harness.Today("2027-01-01");

        var report = await harness.RunAsync();

        Assert.Equal(1, report.MailsEnqueued);
        var mail = Assert.Single(harness.Outbox.All());
        Assert.Equal(
            [Claim("SN-1", "2027-04-01", NinetyDay), Claim("SN-2", "2027-04-01", NinetyDay), Claim("SN-3", "2027-04-01", NinetyDay)],
            harness.Outbox.ClaimsOf(mail.Id).OrderBy(c => c.Key, StringComparer.Ordinal));
        Assert.All(new[] { "SN-1", "SN-2", "SN-3" }, s => Assert.Contains(s, mail.Mail.PlainText, StringComparison.Ordinal));
        Assert.Contains("1 April 2027", mail.Mail.PlainText, StringComparison.Ordinal);
        await harness.AssertEachReminderInExactlyOneMailAsync(["SN-1", "SN-2", "SN-3"]);
    }

    [Fact]
    public async Task A_customer_group_larger_than_one_outbox_write_is_split_over_several_mails()
    {
        var small = new ScanHarness(maxClaimsPerMessage: 2);
        foreach (var serial in new[] { "SN-1", "SN-2", "SN-3", "SN-4", "SN-5" })
        {
            await small.ActivateAsync(serial, "2026-03-14", training: true);
        }

        small.Today("2027-01-01");

        var report = await small.RunAsync();

        Assert.Equal(3, report.MailsEnqueued);
        Assert.All(small.Outbox.All(), m => Assert.InRange(small.Outbox.ClaimsOf(m.Id).Count, 1, 2));
        await small.AssertEachReminderInExactlyOneMailAsync(["SN-1", "SN-2", "SN-3", "SN-4", "SN-5"]);
    }

    [Fact]
    public async Task R9_a_renewal_recorded_before_the_scan_means_no_reminder_for_the_old_expiresOn()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        harness.Today("2026-12-15");
        Assert.Equal(CommandOutcome.Updated, (await harness.Licenses.RenewAsync(Serial.Parse("SN-1"), new RenewalRequest("PO-77", 12, null), Staff, CancellationToken.None)).Outcome);

        for (var day = Date("2026-12-15"); day <= Date("2027-04-10"); day = day.PlusDays(1))
        {
            harness.Today(day);
            await harness.RunAsync();
        }

        Assert.Empty(harness.Outbox.All());

        harness.Today("2028-01-02");
        await harness.RunAsync();
        var mail = Assert.Single(harness.Outbox.All());
        Assert.Equal([Claim("SN-1", "2028-04-01", NinetyDay)], harness.Outbox.ClaimsOf(mail.Id));
    }

    [Fact]
    public async Task R9_an_expired_unsent_reminder_is_recorded_as_missed_and_never_enqueued()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: false);
        harness.Today("2026-05-01");

        var report = await harness.RunAsync();
        var again = await harness.RunAsync();

        Assert.Equal(1, report.RemindersMissed);
        Assert.Equal(0, report.MailsEnqueued);
        Assert.Equal(0, again.RemindersMissed);
        Assert.Empty(harness.Outbox.All());
        var record = Assert.Single(await harness.RemindersOfAsync("SN-1"));
        Assert.Equal(new ReminderRecord(ThirtyDay, Date("2026-05-01"), ReminderOutcome.Missed, harness.Clock.GetCurrentInstant(), null, Date("2026-04-01")), record);
        var missed = Assert.Single(await harness.EventsOfAsync("SN-1", LicenseEventTypes.ReminderMissed));
        Assert.Equal("30-day", missed.Data["stage"]);
        Assert.DoesNotContain("mailId", missed.Data.Keys);
    }

    [Fact]
    public async Task R9_every_unsent_reminder_of_a_plan_that_expired_while_the_timer_was_down_is_missed_none_is_mailed()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);
        harness.Today("2027-04-20");

        var report = await harness.RunAsync();

        Assert.Empty(harness.Outbox.All());
        var records = await harness.RemindersOfAsync("SN-1");
        Assert.Equal(report.RemindersMissed, records.Length);
        Assert.All(records, r => Assert.Equal(ReminderOutcome.Missed, r.Outcome));
        Assert.Contains(records, r => r.Stage == ThirtyDay && r.ExpiresOn == Date("2027-04-01"));
        Assert.Empty(ReminderSchedule.Default.Pending((await harness.Licenses.GetAsync(Serial.Parse("SN-1"), CancellationToken.None))!.License));
    }

    [Fact]
    public async Task R9_after_weeks_without_a_scan_only_the_30_day_reminder_is_mailed()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);

        for (var day = Date("2027-03-10"); day <= Date("2027-04-05"); day = day.PlusDays(1))
        {
            harness.Today(day);
            await harness.RunAsync();
        }

        var mail = Assert.Single(harness.Outbox.All());
        Assert.Equal([Claim("SN-1", "2027-04-01", ThirtyDay)], harness.Outbox.ClaimsOf(mail.Id));
        Assert.Equal([ThirtyDay], (await harness.RemindersOfAsync("SN-1")).Select(r => r.Stage));
    }

    [Fact]
    public async Task A_daily_scan_over_the_whole_plan_mails_the_90_day_and_the_30_day_reminder_once_each_on_their_due_dates()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);

        for (var day = Date("2026-03-14"); day <= Date("2027-04-15"); day = day.PlusDays(1))
        {
            harness.Today(day);
            await harness.RunAsync();
        }

        var mails = harness.Outbox.All();
        Assert.Equal(2, mails.Count);
        Assert.Equal([Claim("SN-1", "2027-04-01", NinetyDay)], harness.Outbox.ClaimsOf(mails[0].Id));
        Assert.Equal(Date("2027-01-01"), harness.Calendar.DateOf(mails[0].CreatedAt));
        Assert.Equal([Claim("SN-1", "2027-04-01", ThirtyDay)], harness.Outbox.ClaimsOf(mails[1].Id));
        Assert.Equal(Date("2027-03-02"), harness.Calendar.DateOf(mails[1].CreatedAt));
        Assert.All(await harness.RemindersOfAsync("SN-1"), r => Assert.Equal(ReminderOutcome.Sent, r.Outcome));
    }

    [Fact]
    public async Task The_business_time_zone_not_UTC_decides_which_day_a_scan_runs_on()
    {
        await harness.ActivateAsync("SN-1", "2026-03-14", training: true);

        // 06:59 UTC on 1 January 2027 is still 31 December 2026 in Denver (UTC-7).
        harness.Clock.Reset(Instant.FromUtc(2027, 1, 1, 6, 59));
        await harness.RunAsync();
        Assert.Empty(harness.Outbox.All());

        harness.Clock.Reset(Instant.FromUtc(2027, 1, 1, 7, 0));
        await harness.RunAsync();
        Assert.Single(harness.Outbox.All());
    }

    /// <summary>The scan wired to in-memory ports, a fake clock and the Denver business calendar.</summary>
    private sealed class ScanHarness
    {
        private static readonly CommandContext TimerContext = new("ReminderScan", "corr-scan");

        public ScanHarness(int maxClaimsPerMessage = 50)
        {
            Calendar = new BusinessCalendar(Clock, Denver);
            Store = new InMemoryLicenseStore(ReminderSchedule.Default);
            Outbox = new InMemoryMailOutbox(maxClaimsPerMessage);
            Licenses = new LicenseService(Store, Calendar, new PlanOptions(Product));
            Scan = AnotherScan();
        }

        public FakeClock Clock { get; } = new(Noon(Date("2026-03-01")));

        public BusinessCalendar Calendar { get; }

        public InMemoryLicenseStore Store { get; }

        public InMemoryMailOutbox Outbox { get; }

        public ListingReminderComposer Composer { get; } = new();

        public LicenseService Licenses { get; }

        public ReminderScan Scan { get; }

        /// <summary>A second scan over the same store and outbox, as another host running the timer would have.</summary>
        public ReminderScan AnotherScan() =>
            new(Store, new LicenseService(Store, Calendar, new PlanOptions(Product)), Outbox, Composer, ReminderSchedule.Default, Calendar);

        public void Today(string isoDate) => Today(Date(isoDate));

        public void Today(LocalDate date) => Clock.Reset(date.At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());

        public Task<ScanReport> RunAsync() => RunAsync(Scan);

        public static Task<ScanReport> RunAsync(ReminderScan scan) => scan.RunAsync(TimerContext, CancellationToken.None);

        public async Task ActivateAsync(string serial, string emailSentOn, bool training, Customer? customer = null, params string[] contacts)
        {
            var result = await Licenses.ActivateAsync(Activation(serial, Date(emailSentOn), training, customer, contacts), Staff, CancellationToken.None);
            Assert.Equal(CommandOutcome.Created, result.Outcome);
        }

        public async Task<ReminderRecord[]> RemindersOfAsync(string serial) =>
            [.. (await Store.GetAsync(Serial.Parse(serial), CancellationToken.None))!.License.Reminders];

        public async Task<LicenseEvent[]> EventsOfAsync(string serial, string type) =>
            [.. (await Store.GetEventsAsync(Serial.Parse(serial), CancellationToken.None)).Where(e => e.Type == type)];

        /// <summary>
        /// Each license recorded exactly one sent reminder, audited once, and the mail it names is the one mail
        /// holding that reminder's claim.
        /// </summary>
        public async Task AssertEachReminderInExactlyOneMailAsync(IReadOnlyCollection<string> serials)
        {
            var claims = Outbox.AllClaims();
            var messages = Outbox.All().Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var serial in serials)
            {
                var record = Assert.Single(await RemindersOfAsync(serial));
                Assert.Equal(ReminderOutcome.Sent, record.Outcome);
                var claim = MailClaim.Reminder(Serial.Parse(serial), record.ExpiresOn, record.Stage);
                Assert.Equal(claims[claim], record.MailId);
                Assert.Contains(record.MailId!, messages);
                Assert.Equal(record.MailId, Assert.Single(await EventsOfAsync(serial, LicenseEventTypes.ReminderSent)).Data["mailId"]);
            }

            Assert.Equal(serials.Count, claims.Count);
        }
    }
}
