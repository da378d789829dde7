using NodaTime;
using Smp.Core.Requests;

namespace Smp.TestSupport;

/// <summary>
/// A customer request queue that passes every call to <see cref="Inner"/>, members with a default body in the interface
/// included (a wrapper that leaves one out silently takes the default's path instead of the real queue's). A test double
/// derives from it and overrides only the calls it alters; a member added to <see cref="ICustomerRequestQueue"/> is
/// added here once.
/// </summary>
public class ForwardingCustomerRequestQueue(ICustomerRequestQueue inner) : ICustomerRequestQueue
{
    /// <summary>The queue every call goes to.</summary>
    protected ICustomerRequestQueue Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public virtual Task<bool> RecordAsync(CustomerRequest request, CancellationToken cancellationToken) => Inner.RecordAsync(request, cancellationToken);

    public virtual Task<bool> RecordFromStaffAsync(CustomerRequest request, CancellationToken cancellationToken) => Inner.RecordFromStaffAsync(request, cancellationToken);

    public virtual Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, CancellationToken cancellationToken) => Inner.ListPendingAsync(now, max, cancellationToken);

    public virtual Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, CancellationToken cancellationToken) =>
        Inner.ListPendingAsync(now, max, onUnreadable, cancellationToken);

    public virtual Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, Action<PendingBacklog> onBacklog, CancellationToken cancellationToken) =>
        Inner.ListPendingAsync(now, max, onUnreadable, onBacklog, cancellationToken);

    public virtual Task MarkDoneAsync(PendingCustomerRequest pending, CancellationToken cancellationToken) => Inner.MarkDoneAsync(pending, cancellationToken);

    public virtual Task RecordFailureAsync(PendingCustomerRequest pending, Instant? retryAt, CancellationToken cancellationToken) => Inner.RecordFailureAsync(pending, retryAt, cancellationToken);

    public virtual Task<int> PurgeBeforeAsync(LocalDate day, CancellationToken cancellationToken) => Inner.PurgeBeforeAsync(day, cancellationToken);

    public virtual Task<int> PurgeBeforeAsync(LocalDate day, LocalDate quotesFrom, CancellationToken cancellationToken) => Inner.PurgeBeforeAsync(day, quotesFrom, cancellationToken);

    public virtual Task<IReadOnlyList<CustomerRequest>> ListQuoteRequestsAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => Inner.ListQuoteRequestsAsync(from, to, cancellationToken);
}
