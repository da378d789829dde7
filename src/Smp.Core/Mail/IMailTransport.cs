using NodaTime;

namespace Smp.Core.Mail;

/// <summary>
/// Hands rendered mail to a delivery provider. Implementations are idempotent per
/// <see cref="OutgoingMail.Id"/>: sending the same id again never produces a second message where
/// the provider allows it to be prevented. Outcomes are returned, not thrown; exceptions mean a bug
/// or a cancelled call.
/// </summary>
public interface IMailTransport
{
    Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken);

    /// <summary>
    /// One attempt of a send first attempted at <paramref name="firstAttemptAt"/>: a repeat of a send whose outcome
    /// was not learned carries the same instant, so that a provider that recognises repeats (ACS
    /// <c>repeatability-first-sent</c>) does not deliver it twice. Providers without that notion ignore it.
    /// </summary>
    Task<MailSendResult> SendAsync(OutgoingMail mail, Instant firstAttemptAt, CancellationToken cancellationToken) =>
        SendAsync(mail, cancellationToken);

    /// <summary>
    /// What the provider knows about the message with this id, for reconciling a send whose outcome
    /// was not learned (the process died, the connection dropped). <see cref="MailSendResult.Unknown"/>
    /// when the provider has no trace of it.
    /// </summary>
    Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken);
}
