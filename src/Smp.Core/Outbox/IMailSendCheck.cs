using Smp.Core.Mail;

namespace Smp.Core.Outbox;

/// <summary>
/// Asked by the dispatcher just before a message goes out: is what it says still true? A reminder held by
/// throttling or backoff may have been overtaken by a renewal (R9).
/// </summary>
public interface IMailSendCheck
{
    Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken);
}

/// <summary>What to do with a message about to go out.</summary>
public abstract record SendDecision
{
    private SendDecision()
    {
    }

    /// <summary>Everything in it still holds: send it as stored.</summary>
    public sealed record Unchanged : SendDecision;

    /// <summary>
    /// Part of it no longer holds: send <see cref="Mail"/> (same id) instead, which covers only <see cref="Claims"/>;
    /// <see cref="Note"/> says what was dropped and why.
    /// </summary>
    public sealed record Narrowed(OutgoingMail Mail, IReadOnlyList<MailClaim> Claims, string Note) : SendDecision;

    /// <summary>Nothing in it holds any more: do not send it.</summary>
    public sealed record Superseded(string Reason) : SendDecision;
}
