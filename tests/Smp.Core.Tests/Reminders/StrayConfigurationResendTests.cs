using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Tests.Outbox;
using static Smp.Core.Tests.Reminders.LicenseFactory;

namespace Smp.Core.Tests.Reminders;

/// <summary>
/// R9 "sent at most once": a reminder that a host with other offsets (a stray configuration owning the reminder index)
/// withdrew as "stage not configured" is queued again in a second mail by offsets that have the stage. The first mail's
/// dispatcher may have died after the withdrawal was recorded but before the mail was stored as superseded; its lease
/// runs out and the mail is checked again. Whatever the order, the customer gets that reminder once.
/// </summary>
public class StrayConfigurationResendTests
{
    private static readonly Serial Serial = Serial.Parse("SN-1");
    private static readonly ReminderStage ThirtyDay = new(30);
    private static readonly LocalDate ExpiresOn = Date("2027-04-01");
    private static readonly CommandContext TimerContext = new("ReminderScan", "corr-scan");

    private static readonly DeliveryOptions Options = new()
    {
        MaxPerMinute = 25,
        MaxAttempts = 3,
        FirstRetryDelay = Duration.FromMinutes(1),
        MaxRetryDelay = Duration.FromMinutes(30),
        Lease = Duration.FromMinutes(5),
    };

    private readonly FakeClock clock = new(Noon(Date("2026-03-01")));
    private readonly InMemoryLicenseStore store = new(ReminderSchedule.Default);
    private readonly InMemoryMailOutbox outbox = new();
    private readonly ScriptedMailTransport transport = new();
    private readonly ListingReminderComposer composer = new();
    private readonly BusinessCalendar calendar;
    private readonly LicenseService licenses;

    public StrayConfigurationResendTests()
    {
        calendar = new BusinessCalendar(clock, Denver);
        licenses = new LicenseService(store, calendar, new PlanOptions(Product));
    }

    public enum Order
    {
        /// <summary>The withdrawn mail's lease runs out and it is checked again before the reminder is queued again.</summary>
        WithdrawnMailBeforeTheRequeue,

        /// <summary>The scan queued the second mail but died before recording it on the license; the first mail goes first.</summary>
        WithdrawnMailFirstRequeueNotRecorded,

        /// <summary>As before, but the second mail goes out while the first one's lease still holds.</summary>
        SecondMailFirstRequeueNotRecorded,

        /// <summary>The license records the reminder in the second mail; the first mail is checked again first.</summary>
        WithdrawnMailFirstRequeueRecorded,

        /// <summary>The license records the reminder in the second mail, which goes out first; then the first mail's lease runs out.</summary>
        SecondMailFirstRequeueRecorded,
    }

    [Theory]
    [InlineData(Order.WithdrawnMailBeforeTheRequeue)]
    [InlineData(Order.WithdrawnMailFirstRequeueNotRecorded)]
    [InlineData(Order.SecondMailFirstRequeueNotRecorded)]
    [InlineData(Order.WithdrawnMailFirstRequeueRecorded)]
    [InlineData(Order.SecondMailFirstRequeueRecorded)]
    public async Task R9_a_reminder_withdrawn_under_a_stray_configuration_and_queued_again_is_sent_exactly_once_in_every_order(Order order)
    {
        var first = await WithdrawnByAStrayDispatcherThatDiedAsync();
        var owner = Dispatcher();

        if (order == Order.WithdrawnMailBeforeTheRequeue)
        {
            clock.Advance(Options.Lease);
            await owner.RunAsync(CancellationToken.None);
            Assert.Equal(MailStatus.Superseded, (await MessageAsync(first)).Status);
        }

        var requeueRecorded = order is Order.WithdrawnMailBeforeTheRequeue or Order.WithdrawnMailFirstRequeueRecorded or Order.SecondMailFirstRequeueRecorded;
        var second = await RequeueAsync(recorded: requeueRecorded);

        if (order is Order.SecondMailFirstRequeueNotRecorded or Order.SecondMailFirstRequeueRecorded)
        {
            await owner.RunAsync(CancellationToken.None); // The first mail's lease still holds: only the second is due.
            Assert.Equal([second], transport.SendOrder);
        }

        clock.Advance(Options.Lease);
        await owner.RunAsync(CancellationToken.None);

        // Later runs (a scan that repairs what a crash left out, more dispatches) send nothing more.
        clock.Reset(Date("2027-03-03").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        await owner.RunAsync(CancellationToken.None);

        Assert.Equal([second], transport.SendOrder);
        Assert.Equal(MailStatus.Superseded, (await MessageAsync(first)).Status);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(second)).Status);
        var record = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Sent, second), (record.Outcome, record.MailId));
    }

    [Fact]
    public async Task R9_a_mail_the_license_no_longer_records_its_reminder_in_is_superseded_at_send_time_and_the_record_stays()
    {
        var first = await WithdrawnByAStrayDispatcherThatDiedAsync();
        var second = await RequeueAsync(recorded: true);
        var check = OwnerCheck();

        var firstAgain = await check.CheckAsync(await MessageAsync(first), CancellationToken.None);
        var secondDecision = await check.CheckAsync(await MessageAsync(second), CancellationToken.None);

        var dropped = Assert.IsType<SendDecision.Superseded>(firstAgain);
        Assert.Contains(second, dropped.Reason, StringComparison.Ordinal);
        Assert.IsType<SendDecision.Unchanged>(secondDecision);
        var record = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Sent, second), (record.Outcome, record.MailId));
    }

    [Fact]
    public async Task R9_a_mail_queued_again_that_a_stray_configuration_withdraws_before_the_scan_recorded_it_leaves_the_reminder_due_in_a_mail_after_that_one()
    {
        var first = await WithdrawnByAStrayDispatcherThatDiedAsync();
        var second = await RequeueAsync(recorded: false);

        // The slot's offsets judge again (it owns the index once more) and its dispatcher withdraws the second mail too.
        var stray = new MailDispatcher(outbox, transport, clock, Options, sendCheck: StrayCheck());
        await stray.RunAsync(CancellationToken.None);
        Assert.Equal(MailStatus.Superseded, (await MessageAsync(second)).Status);
        var withdrawn = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Withdrawn, true, second), (withdrawn.Outcome, withdrawn.StageNotConfigured, withdrawn.MailId));

        // The owner's offsets queue it once more, after the second mail, and that mail is sent; the first stays unsent.
        clock.Reset(Date("2027-03-03").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        var third = Assert.Single(outbox.All(), m => m.Id != first && m.Id != second).Id;
        Assert.Equal([MailClaim.Reminder(Serial, ExpiresOn, ThirtyDay, second)], outbox.ClaimsOf(third));
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal([third], transport.SendOrder);
        Assert.Equal(MailStatus.Superseded, (await MessageAsync(first)).Status);
        var record = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Sent, third), (record.Outcome, record.MailId));
    }

    [Fact]
    public async Task R9_section_10_a_replaced_serials_reminder_withdrawn_as_not_configured_is_queued_again_for_the_license_holding_the_plan()
    {
        var activated = await licenses.ActivateAsync(Activation(Serial.Value, Date("2026-03-14"), training: true), Staff, CancellationToken.None);
        Assert.Equal(CommandOutcome.Created, activated.Outcome);
        clock.Reset(Date("2027-03-02").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        var first = Assert.Single(outbox.All()).Id;
        var replacement = Serial.Parse("SN-2");
        await licenses.ReplaceAsync(Serial, replacement, "broken", Staff, CancellationToken.None);

        // A host whose offsets are 90,14 withdraws the mail: the 30-day stage is not configured there.
        await new MailDispatcher(outbox, transport, clock, Options, sendCheck: StrayCheck()).RunAsync(CancellationToken.None);
        Assert.Equal(MailStatus.Superseded, (await MessageAsync(first)).Status);

        // The owner's offsets (90,30) queue the reminder again, for the license that holds the plan now.
        clock.Reset(Date("2027-03-04").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        await Dispatcher().RunAsync(CancellationToken.None);

        var sent = Assert.Single(transport.SendOrder);
        Assert.NotEqual(first, sent);
        var record = Assert.Single((await store.GetAsync(replacement, CancellationToken.None))!.License.Reminders, r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Sent, sent), (record.Outcome, record.MailId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task R9_a_reminder_whose_send_outcome_is_unknown_and_that_a_stray_configuration_withdraws_is_not_queued_again(bool dispatcherDiedAfterHandOver)
    {
        var activated = await licenses.ActivateAsync(Activation(Serial.Value, Date("2026-03-14"), training: true), Staff, CancellationToken.None);
        Assert.Equal(CommandOutcome.Created, activated.Outcome);
        clock.Reset(Date("2027-03-02").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        var first = Assert.Single(outbox.All()).Id;

        // The mail is handed to the service, which may deliver it, but the outcome never reaches the outbox: the answer
        // is lost (a timeout), or the dispatcher dies right after the hand-over. The service does not know the message
        // yet when asked (404).
        if (dispatcherDiedAfterHandOver)
        {
            transport.OnSend = (_, _) => throw new InvalidOperationException("The process died.");
            await Assert.ThrowsAsync<InvalidOperationException>(() => Dispatcher().RunAsync(CancellationToken.None));
            Assert.Equal(MailStatus.Sending, (await MessageAsync(first)).Status);
        }
        else
        {
            transport.OnSend = (_, _) => new MailSendResult.Unknown();
            await Dispatcher().RunAsync(CancellationToken.None);
        }

        transport.SetStatus(first, new MailSendResult.Unknown());
        Assert.Equal([first], transport.SendOrder);

        // A host whose offsets are 90,14 asks, learns nothing (twice, in two runs), and withdraws the mail: the 30-day
        // stage is not configured there.
        clock.Advance(Options.Lease);
        var stray = new MailDispatcher(outbox, transport, clock, Options, sendCheck: StrayCheck());
        await stray.RunAsync(CancellationToken.None);
        clock.Advance(Duration.FromMinutes(1));
        await stray.RunAsync(CancellationToken.None);
        Assert.Equal(MailStatus.Superseded, (await MessageAsync(first)).Status);

        // The reminder may have reached the customer: the owner's offsets (90,30) do not queue it again.
        transport.OnSend = (_, _) => new MailSendResult.Accepted();
        clock.Reset(Date("2027-03-03").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal([first], transport.SendOrder);
        Assert.Equal([first], outbox.All().Select(m => m.Id));
        var record = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Withdrawn, false), (record.Outcome, record.StageNotConfigured));
    }

    /// <summary>
    /// A plan expiring on 1 April 2027; the 30-day reminder is queued on 2 March (mail returned). A dispatcher of a host
    /// whose offsets are 90,14 leases it, withdraws it as "stage not configured" and dies before storing the decision:
    /// the mail stays leased, its lease runs out later.
    /// </summary>
    private async Task<string> WithdrawnByAStrayDispatcherThatDiedAsync()
    {
        var activated = await licenses.ActivateAsync(Activation(Serial.Value, Date("2026-03-14"), training: true), Staff, CancellationToken.None);
        Assert.Equal(CommandOutcome.Created, activated.Outcome);
        clock.Reset(Date("2027-03-02").At(new LocalTime(6, 0)).InZoneStrictly(Denver).ToInstant());
        await Scan().RunAsync(TimerContext, CancellationToken.None);
        var queued = Assert.Single(outbox.All());
        Assert.Equal([MailClaim.Reminder(Serial, ExpiresOn, ThirtyDay)], outbox.ClaimsOf(queued.Id));

        var stored = (await outbox.GetAsync(queued.Id, CancellationToken.None))!;
        var leased = await outbox.TryUpdateAsync(stored, DeliveryPolicy.Lease(stored.Message, clock.GetCurrentInstant(), Options), CancellationToken.None);
        Assert.IsType<SendDecision.Superseded>(await StrayCheck().CheckAsync(leased!.Message, CancellationToken.None));
        var withdrawn = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal((ReminderOutcome.Withdrawn, true, queued.Id), (withdrawn.Outcome, withdrawn.StageNotConfigured, withdrawn.MailId));
        clock.Advance(Duration.FromMinutes(1));
        return queued.Id;
    }

    /// <summary>
    /// The owner's scan (offsets 90,30) queues the reminder again in a mail of its own; when not <paramref name="recorded"/>,
    /// it dies right after the enqueue, before the license records that mail.
    /// </summary>
    private async Task<string> RequeueAsync(bool recorded)
    {
        var before = outbox.All().Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        if (!recorded)
        {
            store.CrashOnNextUpdate(Serial);
            await Assert.ThrowsAsync<IOException>(() => Scan().RunAsync(TimerContext, CancellationToken.None));
        }
        else
        {
            await Scan().RunAsync(TimerContext, CancellationToken.None);
        }

        var second = Assert.Single(outbox.All(), m => !before.Contains(m.Id)).Id;
        Assert.Equal([MailClaim.Reminder(Serial, ExpiresOn, ThirtyDay, before.Single())], outbox.ClaimsOf(second));
        var record = Assert.Single(await RemindersAsync(), r => r.Stage == ThirtyDay);
        Assert.Equal(recorded ? (ReminderOutcome.Sent, second) : (ReminderOutcome.Withdrawn, before.Single()), (record.Outcome, record.MailId));
        return second;
    }

    private ReminderScan Scan() => new(store, licenses, outbox, composer, ReminderSchedule.Default, calendar);

    /// <summary>The check of a host whose offsets are 90,14: the 30-day stage is not configured there.</summary>
    private ReminderSendCheck StrayCheck() => new(store, composer, new ReminderSchedule([90, 14]), licenses, calendar, "DispatchMail");

    private ReminderSendCheck OwnerCheck() => new(store, composer, ReminderSchedule.Default, licenses, calendar, "DispatchMail");

    private MailDispatcher Dispatcher() => new(outbox, transport, clock, Options, sendCheck: OwnerCheck());

    private async Task<OutboxMessage> MessageAsync(string id) => (await outbox.GetAsync(id, CancellationToken.None))!.Message;

    private async Task<IReadOnlyList<ReminderRecord>> RemindersAsync() =>
        [.. (await store.GetAsync(Serial, CancellationToken.None))!.License.Reminders];
}
