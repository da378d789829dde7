using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Observability;

namespace Smp.Core.Outbox;

/// <summary>What one dispatch run did.</summary>
public sealed record DispatchReport(int Sent, int Retried, int Failed, int Reconciled, bool Throttled)
{
    /// <summary>Messages dropped unsent because what they said no longer held (R9).</summary>
    public int Superseded { get; init; }

    /// <summary>Sent messages whose bodies were cleared after the retention.</summary>
    public int Purged { get; init; }
}

/// <summary>
/// Delivers pending mail from the outbox. Each message is leased (an optimistic write) before it is handed to
/// the transport, and right before the send (before the last check that what it says still holds) the hand-over is
/// recorded on the lease's token, so two dispatchers never
/// send the same message, whatever their clocks say about the lease. A lease that ran out without a recorded
/// hand-over never reached the provider: the message is leased and sent again. One that ran out after the hand-over,
/// and a send that timed out, may have reached it: the outcome is asked of the transport before the message is ever
/// sent again, and an answer that the provider does not know the message is recorded first and acted on only when it
/// comes again a minute or more later (a hand-over still under way in another dispatcher has reached the provider by
/// then). A throttled status query, like a throttled send, ends the run. Just before a message goes out,
/// <see cref="IMailSendCheck"/> may narrow it to what still holds or drop it as superseded (R9). At most <see cref="DeliveryOptions.MaxPerMinute"/> messages go out per run (the timer runs each minute),
/// and a throttled answer ends the run.
/// </summary>
public sealed class MailDispatcher(IMailOutbox outbox, IMailTransport transport, IClock clock, DeliveryOptions options, SmpMetrics? metrics = null, IMailSendCheck? sendCheck = null)
{
    /// <summary>How often a message whose licenses keep changing under the check is checked again before the run leaves it to its backoff.</summary>
    private const int MaxChecksBeforeSend = 3;

    /// <summary>
    /// How long after the provider first said it does not know a message whose lease ran out after its hand-over a
    /// second such answer may lead to a send. The pace of the every-minute timer: a hand-over under way in another
    /// dispatcher (two overlapping runs, as in a slot swap, act milliseconds apart) reaches the provider well within it.
    /// </summary>
    public static readonly Duration SecondUnknownAnswerGap = Duration.FromMinutes(1);

    /// <summary>
    /// How long after its recorded hand-over a dispatcher may still send: well inside <see cref="SecondUnknownAnswerGap"/>,
    /// so a dispatcher that found the lease run out (its clock ahead) and asked twice finds the mail at the provider.
    /// A fence slower than this records the hand-over again before the send.
    /// </summary>
    public static readonly Duration HandOverFreshness = Duration.FromSeconds(30);

    public async Task<DispatchReport> RunAsync(CancellationToken cancellationToken)
    {
        int sent = 0, retried = 0, failed = 0, reconciled = 0, handedOver = 0, customerHandedOver = 0, superseded = 0;
        // Reminders and announcements first; mail caused by anonymous customer requests gets at most its share of
        // the run, so a flood of requests never delays them (SPEC section 5). Each lane is listed on its own: however
        // much request mail was due earlier, the reminders due now are among those listed.
        var now = clock.GetCurrentInstant();
        async Task HoldAsync(StoredOutboxMessage message, string error)
        {
            var held = await outbox.TryUpdateAsync(message, DeliveryPolicy.CheckFailed(message.Message, error, clock.GetCurrentInstant(), options), cancellationToken);
            if (held is not null)
            {
                Count(held.Message.Status, ref sent, ref retried, ref failed);
                Record(held.Message);
            }
        }

        // Each lane is listed in rounds that ask only for what the run may still hand over, so a run reads about what
        // it sends, not the backlog; a round whose messages were not all handed over (superseded, taken by another
        // dispatcher, in doubt) is followed by another, up to twice the lane's allowance examined, as before.
        foreach (var (lane, allowance) in new[] { (MailLane.Reminders, options.MaxPerMinute), (MailLane.CustomerRequests, options.CustomerRequestSharePerMinute) })
        {
            var examined = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (handedOver < options.MaxPerMinute && examined < allowance * 2)
            {
                var wanted = Math.Min(options.MaxPerMinute - handedOver, allowance * 2 - examined);
                if (lane == MailLane.CustomerRequests)
                {
                    wanted = Math.Min(wanted, Math.Max(1, options.CustomerRequestSharePerMinute - customerHandedOver));
                }

                var round = await outbox.ListDueAsync(now, wanted, lane, cancellationToken);
                var fresh = round.Where(m => seen.Add(m.Message.Id)).ToList();
                foreach (var candidate in fresh)
                {
                    examined++;
                    if (handedOver >= options.MaxPerMinute)
                    {
                        break;
                    }

                    if (await HandleAsync(candidate) is { } throttledReport)
                    {
                        return throttledReport;
                    }
                }

                if (round.Count < wanted || fresh.Count == 0)
                {
                    break;
                }
            }
        }

        return new DispatchReport(sent, retried, failed, reconciled, Throttled: false) { Superseded = superseded, Purged = await PurgeAsync(cancellationToken) };

        // One message: reconcile it if in doubt, else lease, check and hand it over. A report when a 429 ends the run.
        async Task<DispatchReport?> HandleAsync(StoredOutboxMessage candidate)
        {
            var customerMail = IsCustomerRequestMail(candidate.Message.Kind);
            if (customerMail && customerHandedOver >= options.CustomerRequestSharePerMinute && !candidate.Message.InDoubt)
            {
                return null;
            }

            var current = candidate;
            if (current.Message.InDoubt)
            {
                // An earlier attempt may have reached the provider (its dispatcher died, or the answer was lost): ask, don't resend blindly.
                var outcome = await SafeAsync(() => transport.GetStatusAsync(current.Message.Id, cancellationToken), cancellationToken);
                if (outcome is MailSendResult.Throttled statusThrottled)
                {
                    // The provider's pace, like a throttled send: the attempt is not counted, the message is asked about
                    // again after Retry-After, and the run ends.
                    await outbox.TryUpdateAsync(current, DeliveryPolicy.StatusThrottled(current.Message, statusThrottled.RetryAfter, clock.GetCurrentInstant()), cancellationToken);
                    metrics?.MailThrottled();
                    return new DispatchReport(sent, retried, failed, reconciled, Throttled: true) { Superseded = superseded, Purged = await PurgeAsync(cancellationToken) };
                }

                if (outcome is MailSendResult.Accepted or MailSendResult.Delivered or MailSendResult.PermanentFailure)
                {
                    var settled = await outbox.TryUpdateAsync(current, DeliveryPolicy.Reconciled(current.Message, outcome, clock.GetCurrentInstant(), options), cancellationToken);
                    if (settled is not null)
                    {
                        reconciled++;
                        Count(settled.Message.Status, ref sent, ref retried, ref failed);
                        Record(settled.Message);
                    }

                    return null;
                }

                if (outcome is MailSendResult.Unknown)
                {
                    // A lease that ran out after its hand-over: sent again only when the provider says it does not know
                    // the message at least SecondUnknownAnswerGap after it first said so, since the dispatcher holding
                    // that lease may be handing it over right now (a lease looks run out early to a clock ahead of its
                    // own). An unknown outcome stored by its dispatcher (pending again) has no hand-over under way: it is
                    // sent again now.
                    if (current.Message.Status == MailStatus.Sending
                        && (current.Message.UnknownAnswerAt is not { } firstUnknown || clock.GetCurrentInstant() < firstUnknown + SecondUnknownAnswerGap))
                    {
                        if (current.Message.UnknownAnswerAt is null)
                        {
                            await outbox.TryUpdateAsync(current, DeliveryPolicy.UnknownOnce(current.Message, clock.GetCurrentInstant()), cancellationToken);
                        }

                        return null;
                    }
                }
                else
                {
                    // The service could not say (throttled or erring). Never resend blindly: ask again later, and
                    // after the attempt budget hand it to staff as failed, so it cannot stay invisible for ever.
                    var error = outcome is MailSendResult.TransientFailure t ? t.Error : "The mail service could not report the outcome.";
                    var unresolved = await outbox.TryUpdateAsync(current, DeliveryPolicy.Unresolved(current.Message, error, clock.GetCurrentInstant(), options), cancellationToken);
                    if (unresolved?.Message.Status == MailStatus.Failed)
                    {
                        failed++;
                        Record(unresolved.Message);
                    }

                    return null;
                }
            }

            if (DeliveryPolicy.GiveUpBeforeLease(current.Message, clock.GetCurrentInstant(), options) is { } givenUp)
            {
                // Its leases keep running out (the attempt budget is spent, or its dispatchers keep stopping before the
                // hand-over): failed for staff rather than leased for ever.
                if (await outbox.TryUpdateAsync(current, givenUp, cancellationToken) is { } failedForStaff)
                {
                    failed++;
                    Record(failedForStaff.Message);
                }

                return null;
            }

            var leased = await outbox.TryUpdateAsync(current, DeliveryPolicy.Lease(current.Message, clock.GetCurrentInstant(), options), cancellationToken);
            if (leased is null)
            {
                return null; // Another dispatcher has it.
            }

            // The check, then the hand-over recorded, then right before the send a fence: a license the check read has
            // not changed since (a renewal committed in between). When one has, the message is checked again rather
            // than sent (R9). The fence is the last read before the send: nothing is written between them.
            var ready = false;
            for (var check = 1; check <= MaxChecksBeforeSend; check++)
            {
                SendDecision decision;
                try
                {
                    decision = sendCheck is null ? new SendDecision.Unchanged() : await sendCheck.CheckAsync(leased.Message, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // The check could not read or compose what still holds (a storage error, a record that cannot be
                    // mailed). Nothing was handed over: the message waits its backoff and counts an attempt, so it ends
                    // failed for staff after the attempt budget, and the messages behind it go on.
                    await HoldAsync(leased, $"The check before sending failed ({ex.GetType().Name}).");
                    break;
                }

                if (decision is SendDecision.Superseded drop)
                {
                    if (await outbox.TryUpdateAsync(leased, DeliveryPolicy.Supersede(leased.Message, drop.Reason, clock.GetCurrentInstant()), cancellationToken) is not null)
                    {
                        superseded++;
                    }

                    break;
                }

                if (decision is SendDecision.Narrowed narrowed)
                {
                    // Stored before it goes out: staff see what was sent, and a repeat sends the same mail.
                    var narrowedMessage = await outbox.TryUpdateAsync(leased, leased.Message with { Mail = narrowed.Mail, Claims = narrowed.Claims, Note = narrowed.Note }, cancellationToken);
                    if (narrowedMessage is null)
                    {
                        break;
                    }

                    leased = narrowedMessage;
                }

                if (leased.Message.HandedOverAt is not { } recordedAt || clock.GetCurrentInstant() - recordedAt >= HandOverFreshness)
                {
                    // The hand-over, recorded on the lease's token: if another dispatcher took the lease over meanwhile
                    // (or storage fails), this one sends nothing; a lease that runs out after it is asked about. Should
                    // the fence find a change, the message stays leased with the hand-over recorded while it is checked
                    // again (a crash then costs a status query, never a second send).
                    var handingOver = await outbox.TryUpdateAsync(leased, DeliveryPolicy.HandOver(leased.Message, clock.GetCurrentInstant()), cancellationToken);
                    if (handingOver is null)
                    {
                        break;
                    }

                    leased = handingOver;
                }

                bool stillCurrent;
                try
                {
                    stillCurrent = decision.StillCurrent is null || await decision.StillCurrent(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    await HoldAsync(leased, $"The check before sending failed ({ex.GetType().Name}).");
                    break;
                }

                if (stillCurrent && clock.GetCurrentInstant() - leased.Message.HandedOverAt!.Value < HandOverFreshness)
                {
                    ready = true;
                    break;
                }

                // A fence that took so long that the hand-over is no longer fresh: another dispatcher may since have
                // asked about the message twice and sent it. The hand-over is recorded again (on the token, so that
                // fails if another took the lease) and the message checked again before it goes.

                if (check == MaxChecksBeforeSend)
                {
                    await HoldAsync(leased, "What the mail says kept changing, or its check was too slow, while it was checked before sending.");
                }
            }

            if (!ready)
            {
                return null;
            }

            handedOver++;
            customerHandedOver += customerMail ? 1 : 0;
            metrics?.DeliveryAttempted();
            var attempt = leased.Message;
            var result = await SafeAsync(() => transport.SendAsync(attempt.Mail, attempt.FirstAttemptAt ?? clock.GetCurrentInstant(), cancellationToken), cancellationToken);
            var next = DeliveryPolicy.After(leased.Message, result, clock.GetCurrentInstant(), options);
            var stored = await outbox.TryUpdateAsync(leased, next, cancellationToken);
            if (stored is not null)
            {
                Count(stored.Message.Status, ref sent, ref retried, ref failed);
                Record(stored.Message);
            }

            if (result is MailSendResult.Throttled)
            {
                metrics?.MailThrottled();
                return new DispatchReport(sent, retried, failed, reconciled, Throttled: true) { Superseded = superseded, Purged = await PurgeAsync(cancellationToken) };
            }

            return null;
        }
    }

    /// <summary>
    /// Clears the bodies of sent mail queued longer ago than <see cref="DeliveryOptions.SentBodyRetention"/> (SPEC
    /// section 5: the links they hold do not lie around), at most <see cref="DeliveryOptions.MaxPurgedPerRun"/> a run.
    /// The retention counts from when the mail was queued, a fact every history of the same work shares, so a run
    /// retried after a fault or a crash clears exactly what an uninterrupted one does.
    /// </summary>
    public Task<int> PurgeAsync(CancellationToken cancellationToken) =>
        outbox.PurgeSentBodiesAsync(clock.GetCurrentInstant() - options.SentBodyRetention, options.MaxPurgedPerRun, cancellationToken);

    private static bool IsCustomerRequestMail(string kind) => MailLanes.Of(kind) == MailLane.CustomerRequests;

    /// <summary>Staff retry of a failed message.</summary>
    public async Task<RetryOutcome> RetryAsync(string id, CancellationToken cancellationToken)
    {
        var current = await outbox.GetAsync(id, cancellationToken);
        if (current is null)
        {
            return RetryOutcome.NotFound;
        }

        if (current.Message.Status != MailStatus.Failed)
        {
            return RetryOutcome.NotFailed;
        }

        return await outbox.TryUpdateAsync(current, DeliveryPolicy.Requeue(current.Message, clock.GetCurrentInstant()), cancellationToken) is null
            ? RetryOutcome.NotFailed
            : RetryOutcome.Requeued;
    }

    private static async Task<MailSendResult> SafeAsync(Func<Task<MailSendResult>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException ex)
        {
            return new MailSendResult.TransientFailure($"The mail service could not be reached ({ex.HttpRequestError}).");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new MailSendResult.TransientFailure("The mail service did not answer in time.");
        }
    }

    private void Record(OutboxMessage message)
    {
        if (message.Status == MailStatus.Sent)
        {
            metrics?.MailSent(message.Kind);
        }
        else if (message.Status == MailStatus.Failed)
        {
            metrics?.MailFailed(message.Kind);
        }
    }

    private static void Count(MailStatus status, ref int sent, ref int retried, ref int failed)
    {
        switch (status)
        {
            case MailStatus.Sent: sent++; break;
            case MailStatus.Failed: failed++; break;
            case MailStatus.Pending: retried++; break;
        }
    }
}

public enum RetryOutcome
{
    Requeued,
    NotFound,
    NotFailed,
}
