using NodaTime;
using Smp.Core.Mail;

namespace Smp.Core.Outbox;

/// <summary>Delivery settings (<c>Smp:Email:*</c>).</summary>
public sealed record DeliveryOptions
{
    /// <summary>Messages handed to the transport per minute at most (the ACS default quota is 30 a minute).</summary>
    public int MaxPerMinute { get; init; } = 25;

    /// <summary>
    /// Of <see cref="MaxPerMinute"/>, how many may be mail caused by anonymous customer requests (password links,
    /// plan terms, quotations); reminders and announcements go first in every run.
    /// </summary>
    public int CustomerRequestSharePerMinute { get; init; } = 5;

    /// <summary>Attempts before a message is marked failed.</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>The wait after the first failed attempt; it doubles after each further failure.</summary>
    public Duration FirstRetryDelay { get; init; } = Duration.FromMinutes(1);

    /// <summary>The longest wait between attempts.</summary>
    public Duration MaxRetryDelay { get; init; } = Duration.FromHours(1);

    /// <summary>How long a dispatcher holds a message while handing it over; after that its outcome is reconciled.</summary>
    public Duration Lease { get; init; } = Duration.FromMinutes(5);

    /// <summary>
    /// How long a sent message keeps its body (which holds customer links), counted from when it was queued; then the
    /// body is cleared and its metadata stays (SPEC section 5).
    /// </summary>
    public Duration SentBodyRetention { get; init; } = Duration.FromDays(DefaultSentBodyRetentionDays);

    /// <summary>The default of <see cref="SentBodyRetention"/>, in days.</summary>
    public const int DefaultSentBodyRetentionDays = 30;

    /// <summary>The most sent bodies one dispatch run clears (a backlog clears over a few runs).</summary>
    public int MaxPurgedPerRun { get; init; } = 100;
}

/// <summary>
/// The delivery state machine as pure functions: lease, then the state each transport answer leads to.
/// While <see cref="MailStatus.Sending"/>, <see cref="OutboxMessage.NextAttemptAt"/> is when the lease runs out.
/// </summary>
public static class DeliveryPolicy
{
    /// <summary>
    /// How long after a send's first attempt a repeat still carries that first attempt's instant. ACS tracks a send
    /// for 5 minutes after its first-sent time: within them a repeat must carry the same time (another one is
    /// refused as a mismatch), after them an old time is refused with 412, which is retried like a timeout. The
    /// extra minute covers clock skew. After it, the provider was asked and did not know the message, so the next
    /// attempt is a first attempt again.
    /// </summary>
    public static readonly Duration RepeatWindow = Duration.FromMinutes(6);

    /// <summary>How the last error of a message failed with its outcome unknown begins (staff decide whether to retry).</summary>
    public const string OutcomeUnknownPrefix = "Outcome unknown:";

    /// <summary>
    /// A lease for one attempt. A lease that ran out before its hand-over was recorded reached nobody (its host shut
    /// down or died, or a host whose clock runs ahead took it over from a live one): the attempt it counted is the one
    /// this lease makes, so it is not counted twice and the attempt budget stays a budget of real tries.
    /// </summary>
    public static OutboxMessage Lease(OutboxMessage message, Instant now, DeliveryOptions options)
    {
        var takeover = TakesOverBeforeHandOver(message);
        return message with
        {
            Status = MailStatus.Sending,
            Attempts = takeover ? Math.Max(1, message.Attempts) : message.Attempts + 1,
            Takeovers = takeover ? message.Takeovers + 1 : 0,
            NextAttemptAt = now + options.Lease,
            FirstAttemptAt = message.InDoubt && message.FirstAttemptAt is { } first && now - first < RepeatWindow ? first : now,
            HandedOverAt = null,
            UnknownAnswerAt = null,
        };
    }

    /// <summary>
    /// A message whose lease ran out and that must not be leased again: its attempts are spent (every lease after a
    /// hand-over is one), or its dispatchers stopped <see cref="DeliveryOptions.MaxAttempts"/> times before handing it
    /// over. It is failed for staff; one that may have reached the provider stays in doubt, so a staff retry asks first.
    /// Null while the message may still be leased.
    /// </summary>
    public static OutboxMessage? GiveUpBeforeLease(OutboxMessage message, Instant now, DeliveryOptions options)
    {
        if (message.Status != MailStatus.Sending)
        {
            return null;
        }

        if (message.InDoubt && message.Attempts >= options.MaxAttempts)
        {
            return message with
            {
                Status = MailStatus.Failed,
                OutcomeUnknown = true,
                NextAttemptAt = now,
                LastError = $"{OutcomeUnknownPrefix} its dispatchers stopped after handing it over, {message.Attempts} attempts in all.",
            };
        }

        // The lease that just ran out counts too: after MaxAttempts leases in a row ran out before the hand-over.
        if (!message.InDoubt && message.Takeovers + 1 >= options.MaxAttempts)
        {
            return message with
            {
                Status = MailStatus.Failed,
                NextAttemptAt = now,
                LastError = $"Its dispatchers stopped {message.Takeovers + 1} times in a row before handing it over (a host shutting down or dying on this message); it was not sent.",
            };
        }

        return null;
    }

    private static bool TakesOverBeforeHandOver(OutboxMessage message) => message.Status == MailStatus.Sending && !message.InDoubt;

    /// <summary>
    /// A leased message about to go to the transport, with the hand-over recorded (stored on the lease's token right
    /// before the send, ahead of the last check that the mail still holds: a dispatcher that took the lease over in
    /// between makes it fail, and then nothing is sent).
    /// </summary>
    public static OutboxMessage HandOver(OutboxMessage leased, Instant now) =>
        leased with { HandedOverAt = now };

    /// <summary>
    /// A message in doubt whose provider, asked, does not know it, for the first time since its lease: the answer is
    /// recorded and the message is not sent in the same breath (a hand-over under way elsewhere may not have reached the
    /// provider yet). It stays due; the same answer a minute or more later sends it again.
    /// </summary>
    public static OutboxMessage UnknownOnce(OutboxMessage message, Instant now) =>
        message with { OutcomeUnknown = true, UnknownAnswerAt = now };

    /// <summary>A message no longer to be sent at all (R9): final, visible to staff, never retried.</summary>
    public static OutboxMessage Supersede(OutboxMessage message, string reason, Instant now) =>
        message with { Status = MailStatus.Superseded, OutcomeUnknown = false, Note = reason, NextAttemptAt = now };

    /// <summary>The state after the transport answered <paramref name="result"/> for a leased message.</summary>
    public static OutboxMessage After(OutboxMessage leased, MailSendResult result, Instant now, DeliveryOptions options) =>
        result switch
        {
            MailSendResult.Accepted or MailSendResult.Delivered =>
                leased with { Status = MailStatus.Sent, SentAt = now, LastError = null, NextAttemptAt = now, OutcomeUnknown = false },
            MailSendResult.Throttled throttled =>
                // Throttling is the provider's pace, not a fault of the message: the attempt is given back. A refused
                // resend says nothing of an earlier attempt in doubt: the doubt (and its first attempt's instant) stays.
                leased with
                {
                    Status = MailStatus.Pending,
                    OutcomeUnknown = leased.OutcomeUnknown,
                    Attempts = Math.Max(0, leased.Attempts - 1),
                    NextAttemptAt = now + Duration.FromTimeSpan(throttled.RetryAfter),
                    LastError = "Throttled by the mail service.",
                },
            // Refused, this attempt sent nothing; an earlier one in doubt may have: the doubt stays, so a staff retry asks first.
            MailSendResult.PermanentFailure failure =>
                leased with { Status = MailStatus.Failed, LastError = failure.Error, NextAttemptAt = now },

            // A timeout, a dropped connection or a 5xx may come after the provider took the message: ask before resending.
            MailSendResult.TransientFailure failure => Retry(leased with { OutcomeUnknown = true }, failure.Error, now, options),
            MailSendResult.Unknown => Retry(leased with { OutcomeUnknown = true }, "The mail service did not report an outcome.", now, options),
            _ => throw new ArgumentOutOfRangeException(nameof(result), result, "Unknown send result."),
        };

    /// <summary>
    /// The state after the provider, asked about a message in doubt, answered with its outcome (accepted, delivered,
    /// or failed for good): the doubt is settled.
    /// </summary>
    public static OutboxMessage Reconciled(OutboxMessage message, MailSendResult answer, Instant now, DeliveryOptions options) =>
        After(message, answer, now, options) with { OutcomeUnknown = false };

    /// <summary>
    /// A leased message that was not handed to the transport because the check before sending failed: the attempt
    /// counts, and after the last attempt it is failed for staff. This attempt sent nothing, but an earlier one whose
    /// outcome is unknown may have reached the provider: that doubt stays, so the next attempt asks before it sends.
    /// </summary>
    public static OutboxMessage CheckFailed(OutboxMessage leased, string error, Instant now, DeliveryOptions options) =>
        Retry(leased, error, now, options);

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1: doubling from the first delay, capped.</summary>
    public static Duration Backoff(int attempts, DeliveryOptions options)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = Duration.FromTicks((long)Math.Min(options.FirstRetryDelay.BclCompatibleTicks * factor, options.MaxRetryDelay.BclCompatibleTicks));
        return delay;
    }

    /// <summary>
    /// A leased message whose outcome could not be learned (the status query failed): it stays leased for a backoff
    /// and counts an attempt; after the last attempt it is failed with the outcome unknown, for staff to decide. In
    /// both cases it is marked in doubt, so whoever sends it next (a staff retry too) asks the provider first.
    /// </summary>
    public static OutboxMessage Unresolved(OutboxMessage leased, string error, Instant now, DeliveryOptions options) =>
        leased.Attempts + 1 >= options.MaxAttempts
            ? leased with { Status = MailStatus.Failed, Attempts = leased.Attempts + 1, LastError = $"{OutcomeUnknownPrefix} {error}", NextAttemptAt = now, OutcomeUnknown = true }
            : leased with { Attempts = leased.Attempts + 1, LastError = error, NextAttemptAt = now + Backoff(leased.Attempts + 1, options), OutcomeUnknown = true };

    /// <summary>
    /// A message in doubt whose status query was throttled: the provider's pace, so the attempt is not counted; it is
    /// asked about again after <paramref name="retryAfter"/>, still in doubt.
    /// </summary>
    public static OutboxMessage StatusThrottled(OutboxMessage message, TimeSpan retryAfter, Instant now) =>
        message with { NextAttemptAt = now + Duration.FromTimeSpan(retryAfter), LastError = "Throttled by the mail service (status query).", OutcomeUnknown = true };

    /// <summary>Staff retry of a failed message: pending now, with a fresh attempt budget; a message in doubt stays in doubt (asked about before it is sent).</summary>
    public static OutboxMessage Requeue(OutboxMessage failed, Instant now) =>
        failed with { Status = MailStatus.Pending, Attempts = 0, Takeovers = 0, NextAttemptAt = now };

    private static OutboxMessage Retry(OutboxMessage leased, string error, Instant now, DeliveryOptions options) =>
        leased.Attempts >= options.MaxAttempts
            ? leased with { Status = MailStatus.Failed, LastError = error, NextAttemptAt = now }
            : leased with { Status = MailStatus.Pending, LastError = error, NextAttemptAt = now + Backoff(leased.Attempts, options) };
}
