using System.Globalization;
using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;

namespace Smp.Core.Tests.Outbox;

/// <summary>
/// A thread-safe, in-memory <see cref="IMailOutbox"/> that keeps the port's promises: a message and its claims
/// are stored together or not at all, every write hands out a new concurrency token, and a write against a stale
/// token changes nothing. Each call yields first, so that concurrent callers really interleave.
/// </summary>
public sealed class InMemoryMailOutbox(int maxClaimsPerMessage = 50) : IMailOutbox
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Entry> messages = new(StringComparer.Ordinal);
    private readonly Dictionary<MailClaim, string> held = [];
    private long writes;

    public int MaxClaimsPerMessage { get; } = maxClaimsPerMessage;

    /// <summary>How many enqueue calls stored a message.</summary>
    public int EnqueuedCount
    {
        get
        {
            lock (gate)
            {
                return messages.Count;
            }
        }
    }

    public async Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        ArgumentNullException.ThrowIfNull(claims);
        if (claims.Count > MaxClaimsPerMessage)
        {
            throw new ArgumentException($"A message carries at most {MaxClaimsPerMessage} claims.", nameof(claims));
        }

        if (claims.Distinct().Count() != claims.Count)
        {
            throw new ArgumentException("A claim is taken once.", nameof(claims));
        }

        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            if (messages.ContainsKey(mail.Id))
            {
                return new EnqueueResult.AlreadyEnqueued();
            }

            var taken = claims
                .Where(held.ContainsKey)
                .ToDictionary(c => c, c => held[c]);
            if (taken.Count > 0)
            {
                return new EnqueueResult.ClaimsTaken(taken);
            }

            messages[mail.Id] = new Entry(OutboxMessage.New(mail, kind, now, claims), NextToken(), messages.Count, [.. claims]);
            foreach (var claim in claims)
            {
                held[claim] = mail.Id;
            }

            return new EnqueueResult.Enqueued();
        }
    }

    public async Task<IReadOnlyDictionary<MailClaim, string>> FindClaimsAsync(IReadOnlyCollection<MailClaim> claims, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return claims.Distinct().Where(held.ContainsKey).ToDictionary(c => c, c => held[c]);
        }
    }

    public async Task<StoredOutboxMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return messages.TryGetValue(id, out var entry) ? entry.Stored : null;
        }
    }

    public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken) =>
        ListDueAsync(now, max, _ => true);

    public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken) =>
        ListDueAsync(now, max, kind => MailLanes.Of(kind) == lane);

    private async Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, Func<string, bool> kindWanted)
    {
        await Task.Yield();
        lock (gate)
        {
            return [.. messages.Values
                .Where(e => e.Message.Status is MailStatus.Pending or MailStatus.Sending && e.Message.NextAttemptAt <= now && kindWanted(e.Message.Kind))
                .OrderBy(e => e.Message.CreatedAt)
                .ThenBy(e => e.Sequence)
                .Take(max)
                .Select(e => e.Stored)];
        }
    }

    public async Task<IReadOnlyList<StoredOutboxMessage>> ListFailedAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return [.. messages.Values
                .Where(e => e.Message.Status == MailStatus.Failed)
                .OrderByDescending(e => e.Message.CreatedAt)
                .ThenByDescending(e => e.Sequence)
                .Select(e => e.Stored)];
        }
    }

    public async Task<IReadOnlyList<StoredOutboxMessage>> ListSupersededAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return [.. messages.Values
                .Where(e => e.Message.Status == MailStatus.Superseded)
                .OrderByDescending(e => e.Message.CreatedAt)
                .ThenByDescending(e => e.Sequence)
                .Select(e => e.Stored)];
        }
    }

    public async Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        if (!string.Equals(current.Message.Id, updated.Id, StringComparison.Ordinal))
        {
            throw new ArgumentException("An update keeps the message id.", nameof(updated));
        }

        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            if (!messages.TryGetValue(current.Message.Id, out var entry)
                || !string.Equals(entry.Token, current.ConcurrencyToken, StringComparison.Ordinal))
            {
                return null;
            }

            var next = entry with { Message = updated, Token = NextToken() };
            messages[updated.Id] = next;
            return next.Stored;
        }
    }

    public async Task<int> PurgeSentBodiesAsync(Instant queuedBefore, int max, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            var due = messages.Values
                .Where(e => e.Message is { Status: MailStatus.Sent, BodyPurged: false } m && m.CreatedAt < queuedBefore)
                .OrderBy(e => e.Message.CreatedAt)
                .Take(max)
                .ToList();
            foreach (var entry in due)
            {
                messages[entry.Message.Id] = entry with { Message = entry.Message.WithoutBody(), Token = NextToken() };
            }

            return due.Count;
        }
    }

    /// <summary>Every stored message, in the order they were enqueued.</summary>
    public IReadOnlyList<OutboxMessage> All()
    {
        lock (gate)
        {
            return [.. messages.Values.OrderBy(e => e.Sequence).Select(e => e.Message)];
        }
    }

    /// <summary>The claims stored with a message.</summary>
    public IReadOnlyList<MailClaim> ClaimsOf(string id)
    {
        lock (gate)
        {
            return messages.TryGetValue(id, out var entry) ? entry.Claims : [];
        }
    }

    /// <summary>Every claim and the message holding it.</summary>
    public IReadOnlyDictionary<MailClaim, string> AllClaims()
    {
        lock (gate)
        {
            return new Dictionary<MailClaim, string>(held);
        }
    }

    // Called under the lock.
    private string NextToken() => (++writes).ToString("x8", CultureInfo.InvariantCulture);

    private sealed record Entry(OutboxMessage Message, string Token, int Sequence, IReadOnlyList<MailClaim> Claims)
    {
        public StoredOutboxMessage Stored => new(Message, Token);
    }
}
