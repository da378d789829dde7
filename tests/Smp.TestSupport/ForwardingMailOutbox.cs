using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;

namespace Smp.TestSupport;

/// <summary>
/// A mail outbox that passes every call to <see cref="Inner"/>. A test double derives from it and overrides only the
/// calls it alters; a member added to <see cref="IMailOutbox"/> is added here once.
/// </summary>
public class ForwardingMailOutbox(IMailOutbox inner) : IMailOutbox
{
    /// <summary>The outbox every call goes to.</summary>
    protected IMailOutbox Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public virtual int MaxClaimsPerMessage => Inner.MaxClaimsPerMessage;

    public virtual Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken) =>
        Inner.EnqueueAsync(mail, kind, claims, now, cancellationToken);

    public virtual Task<IReadOnlyDictionary<MailClaim, string>> FindClaimsAsync(IReadOnlyCollection<MailClaim> claims, CancellationToken cancellationToken) => Inner.FindClaimsAsync(claims, cancellationToken);

    public virtual Task<StoredOutboxMessage?> GetAsync(string id, CancellationToken cancellationToken) => Inner.GetAsync(id, cancellationToken);

    public virtual Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken) => Inner.ListDueAsync(now, max, cancellationToken);

    public virtual Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken) => Inner.ListDueAsync(now, max, lane, cancellationToken);

    public virtual Task<IReadOnlyList<StoredOutboxMessage>> ListFailedAsync(CancellationToken cancellationToken) => Inner.ListFailedAsync(cancellationToken);

    public virtual Task<IReadOnlyList<StoredOutboxMessage>> ListSupersededAsync(CancellationToken cancellationToken) => Inner.ListSupersededAsync(cancellationToken);

    public virtual Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken) => Inner.TryUpdateAsync(current, updated, cancellationToken);

    public virtual Task<int> PurgeSentBodiesAsync(Instant queuedBefore, int max, CancellationToken cancellationToken) => Inner.PurgeSentBodiesAsync(queuedBefore, max, cancellationToken);
}
