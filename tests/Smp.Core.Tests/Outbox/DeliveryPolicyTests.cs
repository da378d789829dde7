using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;

namespace Smp.Core.Tests.Outbox;

public class DeliveryPolicyTests
{
    private static readonly Instant Created = Instant.FromUtc(2027, 1, 1, 7, 0);
    private static readonly Instant Now = Instant.FromUtc(2027, 1, 1, 8, 0);

    private static readonly DeliveryOptions Options = new()
    {
        MaxAttempts = 5,
        FirstRetryDelay = Duration.FromMinutes(1),
        MaxRetryDelay = Duration.FromMinutes(10),
        Lease = Duration.FromMinutes(5),
    };

    private static OutboxMessage Pending(int attempts = 0) =>
        OutboxMessage.New(TestMails.Numbered(1), MailKinds.Reminder, Created) with { Attempts = attempts };

    [Fact]
    public void Lease_counts_an_attempt_and_holds_the_message_until_the_lease_runs_out()
    {
        var pending = Pending(attempts: 2);

        var leased = DeliveryPolicy.Lease(pending, Now, Options);

        Assert.Equal(MailStatus.Sending, leased.Status);
        Assert.Equal(3, leased.Attempts);
        Assert.Equal(Now + Duration.FromMinutes(5), leased.NextAttemptAt);
        Assert.Same(pending.Mail, leased.Mail);
        Assert.Equal(Created, leased.CreatedAt);
    }

    [Fact]
    public void Section4_a_check_that_fails_on_a_message_in_doubt_keeps_the_doubt_so_the_next_attempt_asks_first()
    {
        // An earlier send's answer was lost; the provider did not know the message when asked, so it was leased again.
        var inDoubt = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.Unknown(), Now, Options);
        var leased = DeliveryPolicy.Lease(inDoubt, Now + Duration.FromMinutes(2), Options);

        var held = DeliveryPolicy.CheckFailed(leased, "The check before sending failed (IOException).", Now + Duration.FromMinutes(2), Options);

        Assert.Equal(MailStatus.Pending, held.Status);
        Assert.True(held.OutcomeUnknown);
        Assert.True(held.InDoubt);
    }

    [Fact]
    public void Section4_a_429_on_a_resend_of_a_message_in_doubt_keeps_the_doubt_and_the_first_attempt_instant()
    {
        // The first send timed out; the provider did not know the message when asked, so it was sent again and got a 429.
        var inDoubt = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.TransientFailure("The mail service did not answer in time."), Now, Options);
        var resend = DeliveryPolicy.Lease(inDoubt, Now + Duration.FromMinutes(1), Options);

        var throttled = DeliveryPolicy.After(resend, new MailSendResult.Throttled(TimeSpan.FromSeconds(30)), Now + Duration.FromMinutes(1), Options);
        var next = DeliveryPolicy.Lease(throttled, Now + Duration.FromMinutes(2), Options);

        Assert.Equal(MailStatus.Pending, throttled.Status);
        Assert.True(throttled.OutcomeUnknown);
        Assert.True(throttled.InDoubt);
        Assert.Equal(Now, next.FirstAttemptAt);
    }

    [Fact]
    public void Section4_a_permanent_failure_of_a_resend_of_a_message_in_doubt_keeps_the_doubt_so_a_staff_retry_asks_first()
    {
        var inDoubt = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.TransientFailure("The mail service did not answer in time."), Now, Options);
        var resend = DeliveryPolicy.Lease(inDoubt, Now + Duration.FromMinutes(1), Options);

        var failed = DeliveryPolicy.After(resend, new MailSendResult.PermanentFailure("ACS 400 BadRequest: x: y"), Now + Duration.FromMinutes(1), Options);
        var retried = DeliveryPolicy.Requeue(failed, Now + Duration.FromMinutes(5));

        Assert.Equal(MailStatus.Failed, failed.Status);
        Assert.True(failed.OutcomeUnknown);
        Assert.True(retried.InDoubt);
    }

    [Fact]
    public void Section4_a_permanent_failure_of_a_first_send_is_not_in_doubt()
    {
        var failed = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.PermanentFailure("ACS 400 BadRequest: x: y"), Now, Options);

        Assert.False(DeliveryPolicy.Requeue(failed, Now + Duration.FromMinutes(5)).InDoubt);
    }

    [Fact]
    public void Section4_a_status_query_that_fails_marks_the_doubt_and_a_staff_retry_of_the_failed_message_keeps_it()
    {
        var handedOver = DeliveryPolicy.HandOver(DeliveryPolicy.Lease(Pending(), Now, Options), Now);

        var unresolved = DeliveryPolicy.Unresolved(handedOver, "ACS 503 ServiceUnavailable", Now + Duration.FromMinutes(5), Options);
        var lastTry = DeliveryPolicy.Unresolved(unresolved with { Attempts = Options.MaxAttempts - 1 }, "ACS 503 ServiceUnavailable", Now + Duration.FromMinutes(30), Options);
        var retried = DeliveryPolicy.Requeue(lastTry, Now + Duration.FromHours(1));

        Assert.True(unresolved.OutcomeUnknown);
        Assert.Equal(MailStatus.Failed, lastTry.Status);
        Assert.True(lastTry.OutcomeUnknown);
        Assert.Equal(MailStatus.Pending, retried.Status);
        Assert.True(retried.OutcomeUnknown);
        Assert.True(retried.InDoubt);
    }

    [Fact]
    public void Section4_a_check_that_fails_on_a_message_never_handed_over_leaves_it_not_in_doubt()
    {
        var leased = DeliveryPolicy.Lease(Pending(), Now, Options);

        var held = DeliveryPolicy.CheckFailed(leased, "The check before sending failed (IOException).", Now, Options);

        Assert.Equal(MailStatus.Pending, held.Status);
        Assert.False(held.InDoubt);
    }

    public static TheoryData<MailSendResult> Acceptances => [new MailSendResult.Accepted(), new MailSendResult.Delivered()];

    [Theory]
    [MemberData(nameof(Acceptances))]
    public void Accepted_or_delivered_mail_is_sent(MailSendResult answer)
    {
        var leased = DeliveryPolicy.Lease(Pending() with { LastError = "earlier failure" }, Now, Options);

        var after = DeliveryPolicy.After(leased, answer, Now + Duration.FromSeconds(2), Options);

        Assert.Equal(MailStatus.Sent, after.Status);
        Assert.Equal(Now + Duration.FromSeconds(2), after.SentAt);
        Assert.Null(after.LastError);
        Assert.Equal(1, after.Attempts);
    }

    [Fact]
    public void Throttling_gives_the_attempt_back_and_waits_for_Retry_After()
    {
        var leased = DeliveryPolicy.Lease(Pending(attempts: 2), Now, Options);

        var after = DeliveryPolicy.After(leased, new MailSendResult.Throttled(TimeSpan.FromSeconds(42)), Now, Options);

        Assert.Equal(MailStatus.Pending, after.Status);
        Assert.Equal(2, after.Attempts);
        Assert.Equal(Now + Duration.FromSeconds(42), after.NextAttemptAt);
        Assert.Null(after.SentAt);
    }

    [Fact]
    public void Throttling_never_uses_up_the_attempt_budget()
    {
        var message = Pending();
        for (var i = 0; i < Options.MaxAttempts * 3; i++)
        {
            message = DeliveryPolicy.After(DeliveryPolicy.Lease(message, Now, Options), new MailSendResult.Throttled(TimeSpan.FromSeconds(1)), Now, Options);
        }

        Assert.Equal(MailStatus.Pending, message.Status);
        Assert.Equal(0, message.Attempts);
    }

    [Fact]
    public void A_negative_Retry_After_means_now()
    {
        var after = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.Throttled(TimeSpan.FromSeconds(-5)), Now, Options);

        Assert.Equal(Now, after.NextAttemptAt);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    public void A_transient_failure_waits_longer_after_each_attempt(int attempt, int expectedMinutes)
    {
        var options = Options with { MaxAttempts = 10 };
        var leased = DeliveryPolicy.Lease(Pending(attempts: attempt - 1), Now, options);

        var after = DeliveryPolicy.After(leased, new MailSendResult.TransientFailure("503 Service Unavailable"), Now, options);

        Assert.Equal(MailStatus.Pending, after.Status);
        Assert.Equal(attempt, after.Attempts);
        Assert.Equal("503 Service Unavailable", after.LastError);
        Assert.Equal(Now + Duration.FromMinutes(expectedMinutes), after.NextAttemptAt);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    [InlineData(5, 10)]
    [InlineData(6, 10)]
    [InlineData(40, 10)]
    [InlineData(int.MaxValue, 10)]
    public void Backoff_doubles_from_the_first_delay_and_is_capped(int attempts, int expectedMinutes)
    {
        Assert.Equal(Duration.FromMinutes(expectedMinutes), DeliveryPolicy.Backoff(attempts, Options));
    }

    [Fact]
    public void Backoff_never_exceeds_the_cap_even_with_a_large_first_delay()
    {
        var options = Options with { FirstRetryDelay = Duration.FromDays(1), MaxRetryDelay = Duration.FromHours(1) };

        Assert.Equal(Duration.FromHours(1), DeliveryPolicy.Backoff(1, options));
        Assert.Equal(Duration.FromHours(1), DeliveryPolicy.Backoff(30, options));
    }

    [Fact]
    public void After_MaxAttempts_transient_failures_the_message_fails_with_the_last_error()
    {
        var message = Pending();
        for (var attempt = 1; attempt <= Options.MaxAttempts; attempt++)
        {
            Assert.Equal(MailStatus.Pending, message.Status);
            message = DeliveryPolicy.After(DeliveryPolicy.Lease(message, Now, Options), new MailSendResult.TransientFailure($"timeout {attempt}"), Now, Options);
        }

        Assert.Equal(MailStatus.Failed, message.Status);
        Assert.Equal(Options.MaxAttempts, message.Attempts);
        Assert.Equal($"timeout {Options.MaxAttempts}", message.LastError);
        Assert.Null(message.SentAt);
    }

    [Fact]
    public void An_unknown_outcome_is_retried_like_a_transient_failure()
    {
        var after = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.Unknown(), Now, Options);

        Assert.Equal(MailStatus.Pending, after.Status);
        Assert.Equal(Now + Duration.FromMinutes(1), after.NextAttemptAt);
        Assert.False(string.IsNullOrEmpty(after.LastError));
    }

    [Fact]
    public void A_permanent_failure_fails_the_message_at_once()
    {
        var after = DeliveryPolicy.After(DeliveryPolicy.Lease(Pending(), Now, Options), new MailSendResult.PermanentFailure("400 Invalid recipient"), Now, Options);

        Assert.Equal(MailStatus.Failed, after.Status);
        Assert.Equal("400 Invalid recipient", after.LastError);
        Assert.Equal(1, after.Attempts);
    }

    [Fact]
    public void Requeue_makes_a_failed_message_pending_now_with_a_fresh_attempt_budget()
    {
        var failed = Pending(attempts: Options.MaxAttempts) with { Status = MailStatus.Failed, LastError = "timeout", NextAttemptAt = Created };

        var requeued = DeliveryPolicy.Requeue(failed, Now);

        Assert.Equal(MailStatus.Pending, requeued.Status);
        Assert.Equal(0, requeued.Attempts);
        Assert.Equal(Now, requeued.NextAttemptAt);
        Assert.Same(failed.Mail, requeued.Mail);
        Assert.Equal("timeout", requeued.LastError);
    }

    [Theory]
    [MemberData(nameof(UnknownOutcomes))]
    public void Spec4_an_attempt_whose_outcome_is_unknown_is_retried_only_after_asking(MailSendResult result)
    {
        var leased = DeliveryPolicy.Lease(Pending(), Now, Options);

        var next = DeliveryPolicy.After(leased, result, Now, Options);

        Assert.Equal(MailStatus.Pending, next.Status);
        Assert.True(next.OutcomeUnknown);
        Assert.True(next.InDoubt);
    }

    public static TheoryData<MailSendResult> UnknownOutcomes =>
        [new MailSendResult.TransientFailure("ACS did not answer within 30 s."), new MailSendResult.Unknown()];

    [Fact]
    public void Spec4_a_repeat_carries_the_first_attempt_while_the_provider_tracks_it_and_starts_afresh_after()
    {
        var first = DeliveryPolicy.Lease(Pending(), Now, Options);
        Assert.Equal(Now, first.FirstAttemptAt);
        var unknown = DeliveryPolicy.After(first, new MailSendResult.TransientFailure("timeout"), Now, Options);

        var repeat = DeliveryPolicy.Lease(unknown, Now + Duration.FromMinutes(3), Options);
        var late = DeliveryPolicy.Lease(unknown, Now + DeliveryPolicy.RepeatWindow, Options);
        var known = DeliveryPolicy.Lease(DeliveryPolicy.After(first, new MailSendResult.Throttled(TimeSpan.FromSeconds(30)), Now, Options), Now + Duration.FromMinutes(1), Options);

        Assert.Equal(Now, repeat.FirstAttemptAt);
        Assert.Equal(Now + DeliveryPolicy.RepeatWindow, late.FirstAttemptAt);
        Assert.Equal(Now + Duration.FromMinutes(1), known.FirstAttemptAt);
    }

    [Fact]
    public void R9_a_superseded_message_is_final_and_says_why()
    {
        var superseded = DeliveryPolicy.Supersede(DeliveryPolicy.Lease(Pending(), Now, Options), "VT-1 renewed", Now);

        Assert.Equal(MailStatus.Superseded, superseded.Status);
        Assert.Equal("VT-1 renewed", superseded.Note);
        Assert.Null(superseded.SentAt);
        Assert.False(superseded.InDoubt);
    }
}
