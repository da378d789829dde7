using NodaTime;
using NodaTime.Testing;
using Smp.Core.Mail;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Tests.Outbox;

public class MailDispatcherTests
{
    private static readonly Instant Start = Instant.FromUtc(2027, 1, 1, 14, 0);

    private static readonly DeliveryOptions Options = new()
    {
        MaxPerMinute = 25,
        MaxAttempts = 3,
        FirstRetryDelay = Duration.FromMinutes(1),
        MaxRetryDelay = Duration.FromMinutes(30),
        Lease = Duration.FromMinutes(5),
    };

    private readonly FakeClock clock = new(Start);
    private readonly InMemoryMailOutbox outbox = new();
    private readonly ScriptedMailTransport transport = new();

    private MailDispatcher Dispatcher(DeliveryOptions? options = null) => new(outbox, transport, clock, options ?? Options);

    private async Task<IReadOnlyList<string>> EnqueueAsync(int count)
    {
        var ids = new List<string>();
        for (var n = 1; n <= count; n++)
        {
            var mail = TestMails.Numbered(n);
            Assert.IsType<EnqueueResult.Enqueued>(await outbox.EnqueueAsync(mail, MailKinds.Term, [], clock.GetCurrentInstant(), CancellationToken.None));
            ids.Add(mail.Id);
        }

        return ids;
    }

    private async Task<OutboxMessage> MessageAsync(string id) =>
        (await outbox.GetAsync(id, CancellationToken.None))!.Message;

    [Fact]
    public async Task Section5_a_dispatch_run_clears_the_bodies_of_sent_mail_queued_longer_ago_than_the_retention()
    {
        var ids = await EnqueueAsync(2);
        await Dispatcher().RunAsync(CancellationToken.None);
        clock.Advance(Options.SentBodyRetention);

        var unchanged = await Dispatcher().RunAsync(CancellationToken.None);
        clock.Advance(Duration.FromMinutes(1));
        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(0, unchanged.Purged);
        Assert.Equal(2, report.Purged);
        foreach (var id in ids)
        {
            var message = await MessageAsync(id);
            Assert.True(message.BodyPurged);
            Assert.Equal((MailStatus.Sent, string.Empty, string.Empty), (message.Status, message.Mail.PlainText, message.Mail.Html));
        }
    }

    [Fact]
    public async Task Section5_mail_caused_by_anonymous_requests_never_delays_reminders_and_gets_only_its_share_of_a_run()
    {
        var requested = new List<string>();
        for (var n = 1; n <= 30; n++)
        {
            var mail = TestMails.Numbered(n);
            await outbox.EnqueueAsync(mail, n % 2 == 0 ? MailKinds.PasswordLink : MailKinds.Term, [], clock.GetCurrentInstant(), CancellationToken.None);
            requested.Add(mail.Id);
        }

        clock.Advance(Duration.FromSeconds(1)); // the reminders come after the flood
        var reminders = new List<string>();
        for (var n = 101; n <= 110; n++)
        {
            var mail = TestMails.Numbered(n);
            await outbox.EnqueueAsync(mail, n % 2 == 0 ? MailKinds.Reminder : MailKinds.Announcement, [], clock.GetCurrentInstant(), CancellationToken.None);
            reminders.Add(mail.Id);
        }

        var report = await Dispatcher(Options with { CustomerRequestSharePerMinute = 5 }).RunAsync(CancellationToken.None);

        Assert.Equal(15, report.Sent);
        Assert.Equal(reminders, transport.SendOrder.Take(10));
        Assert.Equal(5, transport.SendOrder.Count(requested.Contains));
    }

    [Fact]
    public async Task Section5_a_reminder_goes_out_in_the_next_run_however_much_customer_request_mail_was_due_before_it()
    {
        // 60 term mails due at 05:00 (more than a run lists), one reminder due at 06:00, a run at 06:01.
        for (var n = 1; n <= 60; n++)
        {
            await outbox.EnqueueAsync(TestMails.Numbered(n), MailKinds.Term, [], clock.GetCurrentInstant(), CancellationToken.None);
        }

        clock.Advance(Duration.FromHours(1));
        var reminder = TestMails.Numbered(100);
        await outbox.EnqueueAsync(reminder, MailKinds.Reminder, [], clock.GetCurrentInstant(), CancellationToken.None);
        clock.Advance(Duration.FromMinutes(1));

        var report = await Dispatcher(Options with { CustomerRequestSharePerMinute = 5 }).RunAsync(CancellationToken.None);

        Assert.Equal(MailStatus.Sent, (await MessageAsync(reminder.Id)).Status);
        Assert.Equal(reminder.Id, transport.SendOrder[0]);
        Assert.Equal(6, report.Sent); // the reminder and the customer-request share
    }

    [Fact]
    public async Task Each_due_message_is_sent_once()
    {
        var ids = await EnqueueAsync(3);

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(new DispatchReport(Sent: 3, Retried: 0, Failed: 0, Reconciled: 0, Throttled: false), report);
        Assert.All(ids, id => Assert.Equal(1, transport.SendsOf(id)));
        Assert.Equal(ids, transport.SendOrder);
        foreach (var id in ids)
        {
            var message = await MessageAsync(id);
            Assert.Equal(MailStatus.Sent, message.Status);
            Assert.Equal(Start, message.SentAt);
            Assert.Equal(1, message.Attempts);
        }
    }

    [Fact]
    public async Task A_second_run_sends_nothing_new()
    {
        await EnqueueAsync(3);
        await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(1);

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(new DispatchReport(0, 0, 0, 0, false), report);
        Assert.Equal(3, transport.TotalSends);
    }

    [Fact]
    public async Task Two_dispatchers_running_at_once_deliver_each_message_exactly_once()
    {
        for (var round = 0; round < 25; round++)
        {
            var sharedOutbox = new InMemoryMailOutbox();
            var sharedTransport = new ScriptedMailTransport();
            var ids = new List<string>();
            for (var n = 1; n <= 20; n++)
            {
                var mail = TestMails.Numbered((round * 100) + n);
                await sharedOutbox.EnqueueAsync(mail, MailKinds.Announcement, [], Start, CancellationToken.None);
                ids.Add(mail.Id);
            }

            var options = Options with { MaxPerMinute = 50 };
            var first = new MailDispatcher(sharedOutbox, sharedTransport, clock, options);
            var second = new MailDispatcher(sharedOutbox, sharedTransport, clock, options);

            var reports = await Task.WhenAll(
                Task.Run(() => first.RunAsync(CancellationToken.None)),
                Task.Run(() => second.RunAsync(CancellationToken.None)));

            Assert.All(ids, id => Assert.Equal(1, sharedTransport.SendsOf(id)));
            Assert.Equal(20, reports.Sum(r => r.Sent));
            Assert.All(sharedOutbox.All(), m => Assert.Equal(MailStatus.Sent, m.Status));
        }
    }

    [Fact]
    public async Task At_most_MaxPerMinute_messages_go_out_per_run()
    {
        var ids = await EnqueueAsync(10);
        var dispatcher = Dispatcher(Options with { MaxPerMinute = 3 });

        var report = await dispatcher.RunAsync(CancellationToken.None);

        Assert.Equal(3, report.Sent);
        Assert.Equal(ids.Take(3), transport.SendOrder);
        Assert.Equal(7, outbox.All().Count(m => m.Status == MailStatus.Pending));

        clock.AdvanceMinutes(1);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(ids.Take(6), transport.SendOrder);
    }

    [Fact]
    public async Task A_throttled_answer_ends_the_run_and_the_message_is_retried_after_Retry_After()
    {
        var ids = await EnqueueAsync(3);
        transport.OnSend = (mail, call) => mail.Id == ids[0] && call == 1
            ? new MailSendResult.Throttled(TimeSpan.FromSeconds(90))
            : new MailSendResult.Accepted();

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.True(report.Throttled);
        Assert.Equal(0, report.Sent);
        Assert.Equal(1, transport.TotalSends);
        var throttled = await MessageAsync(ids[0]);
        Assert.Equal(MailStatus.Pending, throttled.Status);
        Assert.Equal(0, throttled.Attempts);
        Assert.Equal(Start + Duration.FromSeconds(90), throttled.NextAttemptAt);

        // The next run (a minute later) sends the others but leaves the throttled message until Retry-After has passed.
        clock.AdvanceSeconds(60);
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(1, transport.SendsOf(ids[0]));
        Assert.Equal(1, transport.SendsOf(ids[1]));
        Assert.Equal(1, transport.SendsOf(ids[2]));

        clock.AdvanceSeconds(30);
        var retry = await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(1, retry.Sent);
        Assert.Equal(2, transport.SendsOf(ids[0]));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(ids[0])).Status);
    }

    /// <summary>
    /// A dispatcher leased the message and died before it recorded the transport's answer: after recording the hand-over
    /// (<paramref name="handedOver"/>; then the transport got the message if <paramref name="reachedTheProvider"/>), or
    /// before.
    /// </summary>
    private async Task<string> LeaveInSendingAsync(bool reachedTheProvider, bool handedOver = true)
    {
        var id = (await EnqueueAsync(1))[0];
        var stored = await outbox.GetAsync(id, CancellationToken.None);
        var leased = await outbox.TryUpdateAsync(stored!, DeliveryPolicy.Lease(stored!.Message, clock.GetCurrentInstant(), Options), CancellationToken.None);
        Assert.NotNull(leased);
        if (handedOver)
        {
            leased = await outbox.TryUpdateAsync(leased, DeliveryPolicy.HandOver(leased.Message, clock.GetCurrentInstant()), CancellationToken.None);
            Assert.NotNull(leased);
        }

        if (reachedTheProvider)
        {
            await transport.SendAsync(leased.Message.Mail, CancellationToken.None);
        }

        return id;
    }

    [Fact]
    public async Task Section4_a_fence_slower_than_the_hand_over_s_freshness_records_it_again_and_a_dispatcher_that_lost_the_lease_meanwhile_sends_nothing()
    {
        var id = (await EnqueueAsync(1))[0];

        // The first dispatcher leases the message, records the hand-over, and stalls in the fence (storage retrying).
        var fence = new PausedFence();
        var first = new MailDispatcher(outbox, transport, clock, Options, sendCheck: fence);
        var firstRun = Task.Run(() => first.RunAsync(CancellationToken.None));
        await fence.Reached.Task;
        Assert.NotNull((await MessageAsync(id)).HandedOverAt);

        // Its lease runs out: a second run asks and hears "not known", a run a minute later hears it again and sends.
        clock.Advance(Options.Lease);
        Assert.Equal(0, (await Dispatcher().RunAsync(CancellationToken.None)).Sent);
        clock.Advance(MailDispatcher.SecondUnknownAnswerGap);
        Assert.Equal(1, (await Dispatcher().RunAsync(CancellationToken.None)).Sent);

        // The fence returns at last: the hand-over is stale, and recording it again fails on the lease the other took.
        fence.Release.SetResult();
        var firstReport = await firstRun;

        Assert.Equal(0, firstReport.Sent);
        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task Section4_a_fence_slower_than_the_hand_over_s_freshness_with_nobody_else_about_records_the_hand_over_again_and_sends_once()
    {
        var id = (await EnqueueAsync(1))[0];
        var fence = new PausedFence();
        var first = new MailDispatcher(outbox, transport, clock, Options, sendCheck: fence);
        var firstRun = Task.Run(() => first.RunAsync(CancellationToken.None));
        await fence.Reached.Task;
        var handedOverAt = (await MessageAsync(id)).HandedOverAt;

        clock.Advance(MailDispatcher.HandOverFreshness);
        fence.Release.SetResult();
        var report = await firstRun;

        Assert.Equal(1, report.Sent);
        Assert.Equal(1, transport.SendsOf(id));
        var message = await MessageAsync(id);
        Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts));
        Assert.True(message.HandedOverAt > handedOverAt, "The hand-over was recorded again before the send.");
    }

    [Fact]
    public async Task Section4_a_message_whose_dispatchers_keep_stopping_before_the_hand_over_ends_failed_for_staff_not_sending_for_ever()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false, handedOver: false);
        for (var run = 0; run < Options.MaxAttempts + 2; run++)
        {
            await RunAHostThatStopsWhileCheckingAsync(); // once the message failed, a run finds nothing to check
        }

        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Failed, message.Status);
        Assert.False(message.InDoubt); // never handed over: a staff retry sends without asking
        Assert.Equal(Options.MaxAttempts - 1, message.Takeovers); // leases that replaced one run out: the first ran out too
        Assert.Contains($"stopped {Options.MaxAttempts} times in a row", message.LastError);
        Assert.Equal(0, transport.SendsOf(id));

        // A staff retry gives it a fresh budget and it goes out once.
        Assert.Equal(RetryOutcome.Requeued, await Dispatcher().RetryAsync(id, CancellationToken.None));
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal((MailStatus.Sent, 1, 0), ((await MessageAsync(id)).Status, transport.SendsOf(id), (await MessageAsync(id)).Takeovers));
    }

    [Fact]
    public async Task Section4_leases_that_ran_out_before_the_hand_over_are_counted_in_a_row_and_an_attempt_that_completes_starts_the_count_again()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false, handedOver: false);
        // One host stop before the hand-over, then an attempt that completes (throttled: nothing was sent).
        Assert.True(await RunAHostThatStopsWhileCheckingAsync());
        transport.OnSend = (_, _) => new MailSendResult.Throttled(TimeSpan.FromSeconds(30));
        clock.Advance(Options.Lease);
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(MailStatus.Pending, (await MessageAsync(id)).Status);

        // Two more stops in a row (a slot swap, a restart): fewer than the budget since that attempt, so not given up.
        clock.Advance(Duration.FromSeconds(30));
        Assert.True(await RunAHostThatStopsWhileCheckingAsync());
        Assert.True(await RunAHostThatStopsWhileCheckingAsync());
        Assert.Equal(MailStatus.Sending, (await MessageAsync(id)).Status);

        transport.OnSend = (_, _) => new MailSendResult.Accepted();
        clock.Advance(Options.Lease);
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
        Assert.Equal(2, transport.SendsOf(id)); // the throttled send, and the one that went out
    }

    /// <summary>
    /// Once the lease has run out, runs a dispatcher whose host stops while it checks the message it leased (a slot swap,
    /// a restart); true when it stopped there.
    /// </summary>
    private async Task<bool> RunAHostThatStopsWhileCheckingAsync()
    {
        clock.Advance(Options.Lease);
        using var host = new CancellationTokenSource();
        try
        {
            await new MailDispatcher(outbox, transport, clock, Options, sendCheck: new StoppingCheck(host)).RunAsync(host.Token);
            return false;
        }
        catch (OperationCanceledException) when (host.IsCancellationRequested)
        {
            return true;
        }
    }

    [Fact]
    public async Task Section4_a_message_whose_dispatchers_keep_dying_after_the_hand_over_ends_failed_in_doubt_after_its_attempts()
    {
        var id = (await EnqueueAsync(1))[0];
        var dying = new DyingTransport(transport);
        for (var run = 0; run < 4 * Options.MaxAttempts; run++)
        {
            clock.Advance(Options.Lease);
            try
            {
                await new MailDispatcher(outbox, dying, clock, Options).RunAsync(CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // The process died right after the hand-over.
            }

            if ((await MessageAsync(id)).Status == MailStatus.Failed)
            {
                break;
            }
        }

        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Failed, message.Status);
        Assert.True(message.OutcomeUnknown);
        Assert.StartsWith(DeliveryPolicy.OutcomeUnknownPrefix, message.LastError);
        Assert.Equal(Options.MaxAttempts, message.Attempts);
        Assert.Equal(0, transport.SendsOf(id));
    }

    [Fact]
    public async Task A_message_whose_lease_has_not_run_out_is_left_alone()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        clock.Advance(Options.Lease - Duration.FromSeconds(1));

        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(0, transport.SendsOf(id));
        Assert.Equal(0, transport.StatusQueriesOf(id));
        Assert.Equal(MailStatus.Sending, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task An_expired_lease_on_a_message_the_provider_accepted_is_reconciled_without_a_second_send()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: true);
        clock.Advance(Options.Lease);

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Reconciled);
        Assert.Equal(1, report.Sent);
        Assert.Equal(1, transport.StatusQueriesOf(id));
        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task An_expired_lease_on_a_message_the_provider_reports_as_accepted_is_never_sent()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        transport.SetStatus(id, new MailSendResult.Accepted());
        clock.Advance(Options.Lease + Duration.FromMinutes(1));

        await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(10);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(0, transport.SendsOf(id));
        Assert.Equal(1, transport.StatusQueriesOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task An_expired_lease_on_a_message_the_provider_does_not_know_is_sent_once()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        clock.Advance(Options.Lease);

        // The first run after the lease records the provider's answer; a later run that gets it again sends.
        var first = await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(10);
        var report = await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(10);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(0, first.Sent);
        Assert.Equal(1, report.Sent);
        Assert.Equal(2, transport.StatusQueriesOf(id));
        Assert.Equal(1, transport.SendsOf(id));
        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Sent, message.Status);
        Assert.Equal(2, message.Attempts);
    }

    [Fact]
    public async Task An_expired_lease_whose_status_cannot_be_learned_is_not_resent_blindly_but_asked_again_later()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        transport.SetStatus(id, new MailSendResult.TransientFailure("503 Service Unavailable"));
        clock.Advance(Options.Lease);

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(new DispatchReport(0, 0, 0, 0, false), report);
        Assert.Equal(0, transport.SendsOf(id));
        Assert.Equal(MailStatus.Sending, (await MessageAsync(id)).Status);

        transport.SetStatus(id, new MailSendResult.Unknown());
        clock.AdvanceMinutes(1);
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(1, transport.StatusQueriesOf(id)); // still backing off: not asked again yet

        clock.Advance(DeliveryPolicy.Backoff(2, Options));
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal((2, 0), (transport.StatusQueriesOf(id), transport.SendsOf(id))); // the first "not known" is recorded

        clock.AdvanceMinutes(1);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(3, transport.StatusQueriesOf(id));
        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task An_expired_lease_whose_status_never_becomes_known_ends_failed_for_staff_without_a_send()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        transport.SetStatus(id, new MailSendResult.TransientFailure("503 Service Unavailable"));

        for (var run = 0; run < Options.MaxAttempts + 2; run++)
        {
            clock.Advance(Options.MaxRetryDelay + Options.Lease);
            await Dispatcher().RunAsync(CancellationToken.None);
        }

        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Failed, message.Status);
        Assert.StartsWith("Outcome unknown", message.LastError, StringComparison.Ordinal);
        Assert.Equal(0, transport.SendsOf(id));
        Assert.Equal(Options.MaxAttempts - 1, transport.StatusQueriesOf(id));
    }

    [Fact]
    public async Task An_expired_lease_the_provider_reports_as_refused_fails_without_a_send()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        transport.SetStatus(id, new MailSendResult.PermanentFailure("Recipient mailbox does not exist."));
        clock.Advance(Options.Lease);

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Failed);
        Assert.Equal(0, transport.SendsOf(id));
        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Failed, message.Status);
        Assert.Equal("Recipient mailbox does not exist.", message.LastError);
    }

    [Fact]
    public async Task Transient_failures_are_retried_with_backoff_until_the_message_fails_and_staff_can_requeue_it()
    {
        var id = (await EnqueueAsync(1))[0];
        transport.OnSend = (_, call) => new MailSendResult.TransientFailure($"503 on attempt {call}");
        var dispatcher = Dispatcher();

        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(Start + Duration.FromMinutes(1), (await MessageAsync(id)).NextAttemptAt);

        clock.AdvanceSeconds(59);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(1, transport.SendsOf(id));

        clock.AdvanceSeconds(1);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(2, transport.SendsOf(id));
        Assert.Equal(clock.GetCurrentInstant() + Duration.FromMinutes(2), (await MessageAsync(id)).NextAttemptAt);

        clock.AdvanceMinutes(1);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(2, transport.SendsOf(id));

        clock.AdvanceMinutes(1);
        var last = await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(3, transport.SendsOf(id));
        Assert.Equal(1, last.Failed);

        var failed = Assert.Single(await outbox.ListFailedAsync(CancellationToken.None));
        Assert.Equal(id, failed.Message.Id);
        Assert.Equal("503 on attempt 3", failed.Message.LastError);

        clock.AdvanceHours(5);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(3, transport.SendsOf(id));

        Assert.Equal(RetryOutcome.Requeued, await dispatcher.RetryAsync(id, CancellationToken.None));
        Assert.Equal(RetryOutcome.NotFailed, await dispatcher.RetryAsync(id, CancellationToken.None));
        Assert.Empty(await outbox.ListFailedAsync(CancellationToken.None));
        var requeued = await MessageAsync(id);
        Assert.Equal(MailStatus.Pending, requeued.Status);
        Assert.Equal(0, requeued.Attempts);

        transport.OnSend = (_, _) => new MailSendResult.Accepted();
        var retried = await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(1, retried.Sent);
        Assert.Equal(4, transport.SendsOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task Retry_answers_not_found_for_an_unknown_id_and_not_failed_for_pending_or_sent_mail()
    {
        var ids = await EnqueueAsync(2);
        transport.OnSend = (mail, _) => mail.Id == ids[0] ? new MailSendResult.Accepted() : new MailSendResult.TransientFailure("busy");
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(RetryOutcome.NotFound, await Dispatcher().RetryAsync(TestMails.Numbered(99).Id, CancellationToken.None));
        Assert.Equal(RetryOutcome.NotFailed, await Dispatcher().RetryAsync(ids[0], CancellationToken.None));
        Assert.Equal(RetryOutcome.NotFailed, await Dispatcher().RetryAsync(ids[1], CancellationToken.None));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(ids[0])).Status);
        Assert.Equal(MailStatus.Pending, (await MessageAsync(ids[1])).Status);
    }

    [Fact]
    public async Task A_permanent_failure_fails_the_message_after_one_attempt()
    {
        var id = (await EnqueueAsync(1))[0];
        transport.OnSend = (_, _) => new MailSendResult.PermanentFailure("400 Bad recipient");

        var report = await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceHours(2);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Failed);
        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal("400 Bad recipient", Assert.Single(await outbox.ListFailedAsync(CancellationToken.None)).Message.LastError);
    }

    [Fact]
    public async Task An_unreachable_mail_service_counts_as_a_transient_failure()
    {
        var id = (await EnqueueAsync(1))[0];
        transport.OnSend = (_, call) => call == 1
            ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")
            : new MailSendResult.Accepted();

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Retried);
        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Pending, message.Status);
        Assert.Equal(1, message.Attempts);
        Assert.Contains("could not be reached", message.LastError, StringComparison.Ordinal);
        Assert.Equal(Start + Duration.FromMinutes(1), message.NextAttemptAt);

        clock.AdvanceMinutes(1);
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
        Assert.Equal(2, transport.SendsOf(id));
    }

    [Fact]
    public async Task Mail_enqueued_for_later_is_not_sent_early()
    {
        var mail = TestMails.Numbered(1);
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Start + Duration.FromMinutes(5), CancellationToken.None);

        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(0, transport.SendsOf(mail.Id));

        clock.AdvanceMinutes(5);
        await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(1, transport.SendsOf(mail.Id));
    }

    [Fact]
    public async Task Spec4_after_a_send_timed_out_the_next_attempt_asks_the_provider_and_does_not_send_what_it_has()
    {
        var id = (await EnqueueAsync(1))[0];
        transport.OnSend = (mail, call) =>
        {
            // The provider took the first send, but its answer was lost.
            transport.SetStatus(mail.Id, new MailSendResult.Accepted());
            return new MailSendResult.TransientFailure("The mail service did not answer in time.");
        };

        await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(1);
        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Sent);
        Assert.Equal(1, report.Reconciled);
        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(1, transport.StatusQueriesOf(id));
        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Sent, message.Status);
        Assert.False(message.OutcomeUnknown);
    }

    [Fact]
    public async Task R9_a_message_the_send_check_supersedes_is_never_handed_to_the_transport()
    {
        var ids = await EnqueueAsync(2);
        var check = new Check(m => m.Id == ids[0] ? new SendDecision.Superseded("renewed") : new SendDecision.Unchanged());
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, sendCheck: check);

        var report = await dispatcher.RunAsync(CancellationToken.None);
        clock.AdvanceHours(1);
        await dispatcher.RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Sent);
        Assert.Equal(1, report.Superseded);
        Assert.Equal([ids[1]], transport.SendOrder);
        Assert.Equal(MailStatus.Superseded, (await MessageAsync(ids[0])).Status);
        Assert.Equal(ids[0], Assert.Single(await outbox.ListSupersededAsync(CancellationToken.None)).Message.Id);
    }

    [Fact]
    public async Task R9_a_narrowed_message_is_stored_then_sent_under_the_same_id()
    {
        var id = (await EnqueueAsync(1))[0];
        var narrowed = TestMails.Numbered(1) with { PlainText = "only the other plan" };
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, sendCheck: new Check(_ => new SendDecision.Narrowed(narrowed, [], "VT-1 renewed")));
        OutgoingMail? handedOver = null;
        transport.OnSend = (mail, _) =>
        {
            handedOver = mail;
            return new MailSendResult.Accepted();
        };

        await dispatcher.RunAsync(CancellationToken.None);

        Assert.Equal("only the other plan", handedOver?.PlainText);
        Assert.Equal(id, handedOver?.Id);
        var stored = await MessageAsync(id);
        Assert.Equal("only the other plan", stored.Mail.PlainText);
        Assert.Equal("VT-1 renewed", stored.Note);
        Assert.Equal(MailStatus.Sent, stored.Status);
    }

    [Fact]
    public async Task R9_a_send_check_that_fails_for_one_reminder_never_blocks_the_mail_queued_behind_it()
    {
        var broken = Serial.Parse("VT-1");
        var reminder = TestMails.Numbered(1);
        var stage = new ReminderStage(30);
        await outbox.EnqueueAsync(reminder, MailKinds.Reminder, [MailClaim.Reminder(broken, new LocalDate(2027, 3, 1), stage)], clock.GetCurrentInstant(), CancellationToken.None);
        clock.Advance(Duration.FromSeconds(1));
        var term = TestMails.Numbered(2);
        await outbox.EnqueueAsync(term, MailKinds.Term, [], clock.GetCurrentInstant(), CancellationToken.None);
        var store = new FailingLicenseStore(broken);
        var calendar = new BusinessCalendar(clock, DateTimeZoneProviders.Tzdb["America/Denver"]);
        var licenses = new LicenseService(store, calendar, new PlanOptions(PlanOptions.DefaultProductName));
        var check = new ReminderSendCheck(store, new UnusedComposer(), ReminderSchedule.Default, licenses, calendar, "DispatchMail");
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, sendCheck: check);

        var report = await dispatcher.RunAsync(CancellationToken.None);

        Assert.Equal([term.Id], transport.SendOrder);
        Assert.Equal(1, report.Sent);
        Assert.Equal(1, report.Retried);
        var held = await MessageAsync(reminder.Id);
        Assert.Equal(MailStatus.Pending, held.Status);
        Assert.False(held.OutcomeUnknown);
        Assert.Equal(1, held.Attempts);
        Assert.NotNull(held.LastError);
        Assert.DoesNotContain("storage down", held.LastError, StringComparison.Ordinal);

        // Still failing: the attempts run out and staff see it failed, never sent.
        for (var run = 0; run < Options.MaxAttempts + 2; run++)
        {
            clock.AdvanceHours(1);
            await dispatcher.RunAsync(CancellationToken.None);
        }

        Assert.Equal(MailStatus.Failed, (await MessageAsync(reminder.Id)).Status);
        Assert.Equal([term.Id], transport.SendOrder);
    }

    [Fact]
    public async Task Section4_a_second_dispatcher_that_takes_over_a_lease_before_the_hand_over_is_the_only_one_to_send()
    {
        var id = (await EnqueueAsync(1))[0];

        // The first dispatcher leases the message, then stops right before the hand-over (inside its check).
        var paused = new PausedCheck();
        var first = new MailDispatcher(outbox, transport, clock, Options, sendCheck: paused);
        var firstRun = Task.Run(() => first.RunAsync(CancellationToken.None));
        await paused.Reached.Task;

        // A second host whose clock is an hour ahead sees the lease as run out and takes the message over.
        var aheadClock = new FakeClock(Start + Duration.FromHours(1));
        var second = new MailDispatcher(outbox, transport, aheadClock, Options);
        var secondReport = await second.RunAsync(CancellationToken.None);

        paused.Release.SetResult();
        var firstReport = await firstRun;

        Assert.Equal(1, secondReport.Sent);
        Assert.Equal(0, firstReport.Sent);
        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(0, transport.StatusQueriesOf(id)); // never handed over by the first: nothing to ask
        var message = await MessageAsync(id);
        Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts)); // the lease taken over reached nobody: one attempt
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Section4_a_second_dispatcher_that_finds_a_lease_run_out_after_the_hand_over_does_not_send_on_the_first_unknown_answer(bool firstDispatcherSends)
    {
        var id = (await EnqueueAsync(1))[0];

        // The first dispatcher hands the message over and stops right before the transport takes it.
        var paused = new PausedTransport(transport);
        var first = new MailDispatcher(outbox, paused, clock, Options);
        var firstRun = Task.Run(() => first.RunAsync(CancellationToken.None));
        await paused.Reached.Task;

        // A second host whose clock is an hour ahead sees the lease as run out; the provider does not know the message yet.
        var aheadClock = new FakeClock(Start + Duration.FromHours(1));
        var second = new MailDispatcher(outbox, transport, aheadClock, Options);
        var secondReport = await second.RunAsync(CancellationToken.None);
        Assert.Equal(0, secondReport.Sent);
        Assert.Equal(0, transport.SendsOf(id));
        Assert.Equal(1, transport.StatusQueriesOf(id));

        // The first dispatcher goes on and sends, or dies before the transport takes the message.
        if (firstDispatcherSends)
        {
            paused.Release.SetResult();
            await firstRun;
        }
        else
        {
            paused.Release.SetException(new InvalidOperationException("The process died."));
            await Assert.ThrowsAsync<InvalidOperationException>(() => firstRun);
        }

        // The second host's next runs: one asks again and sends only when the provider still does not know the message.
        aheadClock.AdvanceMinutes(1);
        await second.RunAsync(CancellationToken.None);
        aheadClock.AdvanceMinutes(1);
        await second.RunAsync(CancellationToken.None);

        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(2, transport.StatusQueriesOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task Section4_a_dispatcher_that_dies_after_recording_the_hand_over_and_before_the_send_has_the_message_sent_once_after_two_unknown_answers()
    {
        var id = (await EnqueueAsync(1))[0];
        var dying = new PausedTransport(transport);
        dying.Release.SetException(new InvalidOperationException("The process died."));
        await Assert.ThrowsAsync<InvalidOperationException>(() => new MailDispatcher(outbox, dying, clock, Options).RunAsync(CancellationToken.None));
        Assert.Equal(0, transport.SendsOf(id));

        // The lease runs out: the first run asks and records the unknown answer, the next run asks again and sends.
        clock.Advance(Options.Lease);
        var firstAfter = await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal((0, 0, 1), (firstAfter.Sent, transport.SendsOf(id), transport.StatusQueriesOf(id)));
        clock.AdvanceMinutes(1);
        var secondAfter = await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(10);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, secondAfter.Sent);
        Assert.Equal((1, 2), (transport.SendsOf(id), transport.StatusQueriesOf(id)));
        var message = await MessageAsync(id);
        Assert.Equal((MailStatus.Sent, 2), (message.Status, message.Attempts));
    }

    [Fact]
    public async Task Section4_an_expired_lease_without_a_recorded_hand_over_is_sent_again_without_asking_the_provider()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false, handedOver: false);
        clock.Advance(Options.Lease);

        var report = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.Sent);
        Assert.Equal(0, transport.StatusQueriesOf(id));
        Assert.Equal(1, transport.SendsOf(id));
        var message = await MessageAsync(id);
        Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts)); // the lease that ran out reached nobody
    }

    [Fact]
    public async Task Section4_a_message_in_doubt_whose_check_fails_is_asked_about_again_before_its_next_send()
    {
        var id = (await EnqueueAsync(1))[0];

        // The first send reaches the provider, but its answer is lost.
        transport.OnSend = (mail, _) =>
        {
            transport.SetStatus(mail.Id, new MailSendResult.Unknown()); // not visible yet when first asked
            return new MailSendResult.TransientFailure("The mail service did not answer in time.");
        };
        await Dispatcher().RunAsync(CancellationToken.None);

        // Asked, the provider does not know it yet; the message is leased again, but the check before sending fails.
        var checks = 0;
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, sendCheck: new Check(_ => ++checks == 1 ? throw new IOException("storage down") : new SendDecision.Unchanged()));
        clock.AdvanceMinutes(1);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal((1, 1), (transport.SendsOf(id), transport.StatusQueriesOf(id)));
        Assert.True((await MessageAsync(id)).OutcomeUnknown);

        // Meanwhile the provider shows the first send: the next attempt asks first and does not send it again.
        transport.SetStatus(id, new MailSendResult.Accepted());
        clock.AdvanceMinutes(5);
        await dispatcher.RunAsync(CancellationToken.None);

        Assert.Equal((1, 2), (transport.SendsOf(id), transport.StatusQueriesOf(id)));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task Section4_a_429_on_the_resend_of_a_message_in_doubt_leaves_the_next_attempt_asking_first_with_the_first_attempt_instant()
    {
        var id = (await EnqueueAsync(1))[0];
        transport.OnSend = (_, call) => call switch
        {
            1 => new MailSendResult.TransientFailure("The mail service did not answer in time."),
            2 => new MailSendResult.Throttled(TimeSpan.FromSeconds(30)),
            _ => new MailSendResult.Accepted(),
        };

        await Dispatcher().RunAsync(CancellationToken.None); // the send times out
        clock.AdvanceMinutes(1);
        await Dispatcher().RunAsync(CancellationToken.None); // asked: not known; sent again: 429
        Assert.Equal((2, 1), (transport.SendsOf(id), transport.StatusQueriesOf(id)));

        clock.AdvanceMinutes(1);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal((3, 2), (transport.SendsOf(id), transport.StatusQueriesOf(id)));
        var message = await MessageAsync(id);
        Assert.Equal(MailStatus.Sent, message.Status);
        Assert.Equal(Start, message.FirstAttemptAt);
    }

    [Fact]
    public async Task Section4_a_message_whose_status_could_not_be_learned_until_it_failed_is_asked_about_before_a_staff_retry_sends_it()
    {
        // The host died after the hand-over; the provider took the message but answers status queries with 503 until it fails.
        var id = await LeaveInSendingAsync(reachedTheProvider: true);
        transport.SetStatus(id, new MailSendResult.TransientFailure("ACS 503 ServiceUnavailable"));
        for (var run = 0; run < Options.MaxAttempts + 2; run++)
        {
            clock.Advance(Options.MaxRetryDelay + Options.Lease);
            await Dispatcher().RunAsync(CancellationToken.None);
        }

        Assert.Equal(MailStatus.Failed, (await MessageAsync(id)).Status);

        // The service recovers and shows the message; staff retry it.
        transport.SetStatus(id, new MailSendResult.Accepted());
        Assert.Equal(RetryOutcome.Requeued, await Dispatcher().RetryAsync(id, CancellationToken.None));
        await Dispatcher().RunAsync(CancellationToken.None);
        clock.AdvanceMinutes(10);
        await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, transport.SendsOf(id));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task Section5_a_429_on_a_status_query_gives_the_attempt_back_waits_for_Retry_After_counts_as_throttled_and_ends_the_run()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        transport.SetStatus(id, new MailSendResult.Throttled(TimeSpan.FromSeconds(90)));
        clock.Advance(Options.Lease);
        var behind = TestMails.Numbered(2);
        await outbox.EnqueueAsync(behind, MailKinds.Term, [], clock.GetCurrentInstant(), CancellationToken.None);
        clock.AdvanceSeconds(1);
        using var meters = new CountingMeterFactory();
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, new Smp.Core.Observability.SmpMetrics(meters));

        var report = await dispatcher.RunAsync(CancellationToken.None);

        Assert.True(report.Throttled);
        Assert.Equal(0, transport.SendsOf(behind.Id));
        Assert.Equal(1, meters.Count(Smp.Core.Observability.SmpMetrics.Instruments.MailThrottled));
        var message = await MessageAsync(id);
        Assert.Equal(1, message.Attempts);
        Assert.Equal(clock.GetCurrentInstant() + Duration.FromSeconds(90), message.NextAttemptAt);
        Assert.Contains("Throttled", message.LastError, StringComparison.Ordinal);
        Assert.True(message.InDoubt);

        // Not asked again before Retry-After; then asked, and the mail in doubt is never sent blindly.
        transport.SetStatus(id, new MailSendResult.Accepted());
        clock.AdvanceSeconds(60);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal(1, transport.StatusQueriesOf(id));
        clock.AdvanceSeconds(30);
        await dispatcher.RunAsync(CancellationToken.None);
        Assert.Equal((2, 0), (transport.StatusQueriesOf(id), transport.SendsOf(id)));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task Section4_a_second_not_known_answer_a_moment_after_the_first_does_not_send_only_one_a_minute_later_does()
    {
        var id = await LeaveInSendingAsync(reachedTheProvider: false);
        clock.Advance(Options.Lease);
        await Dispatcher().RunAsync(CancellationToken.None); // the first "not known" is recorded

        // A timer run overlapping the first (a slot swap) asks a few milliseconds later.
        clock.Advance(Duration.FromMilliseconds(5));
        var overlapping = await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal((0, 0), (overlapping.Sent, transport.SendsOf(id)));

        clock.Advance(Duration.FromMinutes(1));
        var later = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, later.Sent);
        Assert.Equal(1, transport.SendsOf(id));
    }

    [Fact]
    public async Task R9_the_hand_over_is_recorded_before_the_fence_so_the_fence_is_the_last_read_before_the_send()
    {
        var id = (await EnqueueAsync(1))[0];
        StoredOutboxMessage? atFence = null;
        StoredOutboxMessage? atSend = null;
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, sendCheck: new Check(_ => new SendDecision.Unchanged
        {
            StillCurrent = async ct =>
            {
                atFence = await outbox.GetAsync(id, ct);
                return true;
            },
        }));
        transport.OnSend = (mail, _) =>
        {
            atSend = outbox.GetAsync(mail.Id, CancellationToken.None).GetAwaiter().GetResult();
            return new MailSendResult.Accepted();
        };

        await dispatcher.RunAsync(CancellationToken.None);

        Assert.NotNull(atFence);
        Assert.NotNull(atSend);
        Assert.NotNull(atFence.Message.HandedOverAt);
        Assert.Equal(atFence.ConcurrencyToken, atSend.ConcurrencyToken); // nothing written between the fence and the send
        Assert.Equal(MailStatus.Sent, (await MessageAsync(id)).Status);
    }

    [Fact]
    public async Task R9_a_fence_that_finds_a_change_after_the_hand_over_was_recorded_checks_again_and_sends_once()
    {
        var id = (await EnqueueAsync(1))[0];
        var fences = 0;
        var dispatcher = new MailDispatcher(outbox, transport, clock, Options, sendCheck: new Check(_ => new SendDecision.Unchanged
        {
            StillCurrent = _ => Task.FromResult(++fences > 1),
        }));

        var report = await dispatcher.RunAsync(CancellationToken.None);

        Assert.Equal((1, 2), (report.Sent, fences));
        Assert.Equal((1, 0), (transport.SendsOf(id), transport.StatusQueriesOf(id)));
        var message = await MessageAsync(id);
        Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts));
    }

    /// <summary>Counts what the SMP instruments record.</summary>
    private sealed class CountingMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> meters = [];
        private readonly System.Diagnostics.Metrics.MeterListener listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> counts = new(StringComparer.Ordinal);

        public CountingMeterFactory()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (meters.Contains(instrument.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counts.AddOrUpdate(instrument.Name, value, (_, n) => n + value));
            listener.Start();
        }

        public long Count(string instrument) => counts.GetValueOrDefault(instrument);

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options.Name, options.Version, options.Tags, scope: this);
            meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            listener.Dispose();
            foreach (var meter in meters)
            {
                meter.Dispose();
            }
        }
    }

    /// <summary>A send check that stops the dispatcher right after its lease until the test releases it.</summary>
    /// <summary>A check whose fence stalls until the test releases it (a storage read the client keeps retrying).</summary>
    private sealed class PausedFence : IMailSendCheck
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken) =>
            Task.FromResult<SendDecision>(new SendDecision.Unchanged
            {
                StillCurrent = async _ =>
                {
                    if (Reached.TrySetResult())
                    {
                        await Release.Task;
                    }

                    return true;
                },
            });
    }

    /// <summary>A check during which the host stops every time (a shutdown, or a worker dying on this message).</summary>
    private sealed class StoppingCheck(CancellationTokenSource host) : IMailSendCheck
    {
        public Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            host.Cancel();
            throw new OperationCanceledException(host.Token);
        }
    }

    /// <summary>A transport whose process dies on every send, before the provider gets the mail.</summary>
    private sealed class DyingTransport(IMailTransport inner) : IMailTransport
    {
        public Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The process died.");

        public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken) => inner.GetStatusAsync(mailId, cancellationToken);
    }

    private sealed class PausedCheck : IMailSendCheck
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken)
        {
            Reached.TrySetResult();
            await Release.Task;
            return new SendDecision.Unchanged();
        }
    }

    /// <summary>A transport that stops the dispatcher right before a send until the test releases it (or fails it: the process died).</summary>
    private sealed class PausedTransport(IMailTransport inner) : IMailTransport
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
        {
            Reached.TrySetResult();
            await Release.Task;
            return await inner.SendAsync(mail, cancellationToken);
        }

        public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken) => inner.GetStatusAsync(mailId, cancellationToken);
    }

    private sealed class FailingLicenseStore(Serial failing) : ILicenseStore
    {
        public Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) =>
            serial == failing ? throw new InvalidOperationException("storage down") : Task.FromResult<StoredLicense?>(null);

        public Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => AsyncEnumerable.Empty<Serial>();

        public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private sealed class UnusedComposer : IReminderMailComposer
    {
        public OutgoingMail Compose(ReminderBatch batch) => throw new InvalidOperationException("Nothing to compose: every license was unreadable.");
    }

    private sealed class Check(Func<OutboxMessage, SendDecision> decide) : IMailSendCheck
    {
        public Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken) => Task.FromResult(decide(message));
    }
}
