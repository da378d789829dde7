using NodaTime;
using Smp.Core.Mail;

namespace Smp.Core.Outbox;

/// <summary>The durable mail outbox: a message is recorded here before any delivery attempt.</summary>
public interface IMailOutbox
{
    /// <summary>
    /// Stores a new pending message together with its claims, atomically. The most claims one call takes is
    /// <see cref="MaxClaimsPerMessage"/>.
    /// </summary>
    Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken);

    /// <summary>The message ids that hold any of <paramref name="claims"/>.</summary>
    Task<IReadOnlyDictionary<MailClaim, string>> FindClaimsAsync(IReadOnlyCollection<MailClaim> claims, CancellationToken cancellationToken);

    Task<StoredOutboxMessage?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> messages to work on now, oldest first: pending ones whose next attempt is due,
    /// and sending ones whose lease ran out (their dispatcher died; their outcome is unknown).
    /// </summary>
    Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ListDueAsync(Instant, int, CancellationToken)"/>, but only messages of <paramref name="lane"/>
    /// (see <see cref="MailLanes.Of"/>): up to <paramref name="max"/> of that lane however many of the other are due earlier.
    /// </summary>
    Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken);

    /// <summary>Every failed message, newest first.</summary>
    Task<IReadOnlyList<StoredOutboxMessage>> ListFailedAsync(CancellationToken cancellationToken);

    /// <summary>Every message dropped unsent as superseded (R9), newest first.</summary>
    Task<IReadOnlyList<StoredOutboxMessage>> ListSupersededAsync(CancellationToken cancellationToken);

    /// <summary>Replaces a message's delivery state; null, with nothing written, when it changed since it was read.</summary>
    Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken);

    /// <summary>
    /// Clears the bodies (plain text and HTML, which hold customer links) of up to <paramref name="max"/> sent messages
    /// queued before <paramref name="queuedBefore"/>, keeping their id, kind, recipients, subject, status and times, and
    /// marking them <see cref="OutboxMessage.BodyPurged"/>. Messages not sent (pending, sending, failed, superseded) keep
    /// their bodies. Reads only the messages it purges, never every message sent; a run that stops half-way is finished
    /// by the next. Returns how many it purged.
    /// </summary>
    Task<int> PurgeSentBodiesAsync(Instant queuedBefore, int max, CancellationToken cancellationToken);

    /// <summary>The most claims a single message may carry (one atomic write).</summary>
    int MaxClaimsPerMessage { get; }
}

/// <summary>
/// An outbox message that could not be read while messages were listed: its id and the kind of failure (never what
/// the row holds). The listing skips it and leaves it in place for staff.
/// </summary>
public sealed record UnreadableOutboxMessage(string Id, string Reason);
