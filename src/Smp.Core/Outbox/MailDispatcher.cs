using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Observability;

namespace Smp.Core.Outbox;

/// <summary>What one dispatch run did.</summary>
public sealed record DispatchReport(int Sent, int Retried, int Failed, int Reconciled, bool Throttled);

/// <summary>
/// Delivers pending mail from the outbox. Each message is leased (an optimistic write) before it is handed to
/// the transport, so two dispatchers never send the same message; a message whose lease ran out was being
/// sent when its dispatcher died, so its outcome is asked of the transport before it is ever sent again.
/// At most <see cref="DeliveryOptions.MaxPerMinute"/> messages go out per run (the timer runs each minute),
/// and a throttled answer ends the run.
/// </summary>
public sealed class MailDispatcher(IMailOutbox outbox, IMailTransport transport, IClock clock, DeliveryOptions options, SmpMetrics? metrics = null)
{
    public async Task<DispatchReport> RunAsync(CancellationToken cancellationToken)
    {
        int sent = 0, retried = 0, failed = 0, reconciled = 0, handedOver = 0;
        var due = await outbox.ListDueAsync(clock.GetCurrentInstant(), options.MaxPerMinute * 2, cancellationToken);
        foreach (var candidate in due)
        {
            if (handedOver >= options.MaxPerMinute)
            {
                break;
            }

            var current = candidate;
            if (current.Message.Status == MailStatus.Sending)
            {
                // The previous dispatcher died between sending and recording the outcome: ask, don't resend blindly.
                var outcome = await SafeAsync(() => transport.GetStatusAsync(current.Message.Id, cancellationToken), cancellationToken);
                if (outcome is MailSendResult.Accepted or MailSendResult.Delivered or MailSendResult.PermanentFailure)
                {
                    var settled = await outbox.TryUpdateAsync(current, DeliveryPolicy.After(current.Message, outcome, clock.GetCurrentInstant(), options), cancellationToken);
                    if (settled is not null)
                    {
                        reconciled++;
                        Count(settled.Message.Status, ref sent, ref retried, ref failed);
                        Record(settled.Message);
                    }

                    continue;
                }

                if (outcome is not MailSendResult.Unknown)
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

                    continue;
                }
            }

            var leased = await outbox.TryUpdateAsync(current, DeliveryPolicy.Lease(current.Message, clock.GetCurrentInstant(), options), cancellationToken);
            if (leased is null)
            {
                continue; // Another dispatcher has it.
            }

            handedOver++;
            metrics?.DeliveryAttempted();
            var result = await SafeAsync(() => transport.SendAsync(leased.Message.Mail, cancellationToken), cancellationToken);
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
                return new DispatchReport(sent, retried, failed, reconciled, Throttled: true);
            }
        }

        return new DispatchReport(sent, retried, failed, reconciled, Throttled: false);
    }

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
