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

    /// <summary>
    /// Asked by the dispatcher right before it hands the message over, after the decision is stored: does what the
    /// check read still hold (a cheap comparison of versions, not a second check)? False: a license changed in the
    /// meantime (a renewal committed after the check), so the message is checked again instead of sent. Null: nothing
    /// to compare.
    /// </summary>
    public Func<CancellationToken, Task<bool>>? StillCurrent { get; init; }

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
