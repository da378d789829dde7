using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.TestSupport;

/// <summary>
/// A license store that passes every call to <see cref="Inner"/>, members with a default body in the interface included
/// (a wrapper that leaves one out silently takes the default's path instead of the real store's). A test double derives
/// from it and overrides only the calls it alters; a member added to <see cref="ILicenseStore"/> is added here once.
/// </summary>
public class ForwardingLicenseStore(ILicenseStore inner) : ILicenseStore
{
    /// <summary>The store every call goes to.</summary>
    protected ILicenseStore Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public virtual Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) => Inner.GetAsync(serial, cancellationToken);

    public virtual Task<long?> GetVersionAsync(Serial serial, CancellationToken cancellationToken) => Inner.GetVersionAsync(serial, cancellationToken);

    public virtual Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) => Inner.GetEventsAsync(serial, cancellationToken);

    public virtual Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) => Inner.TryAddAsync(license, firstEvent, cancellationToken);

    public virtual Task<StoredLicense?> AddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) => Inner.AddAsync(license, firstEvent, cancellationToken);

    public virtual Task DiscardRefusedAddAsync(License attempted, LicenseEvent firstEvent, StoredLicense stored, CancellationToken cancellationToken) =>
        Inner.DiscardRefusedAddAsync(attempted, firstEvent, stored, cancellationToken);

    public virtual Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => Inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);

    public virtual Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => Inner.UpdateAsync(current, updated, newEvent, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => Inner.ListByCustomerAsync(customerId, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        Inner.ListByCustomerAsync(customerId, onFailure, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => Inner.ListExpiringAsync(from, to, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        Inner.ListExpiringAsync(from, to, onFailure, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) =>
        Inner.ListExpiringAfterAsync(from, to, after, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        Inner.ListExpiringAfterAsync(from, to, after, onFailure, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => Inner.ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        Inner.ListReminderCandidatesAsync(dueOnOrBefore, onFailure, cancellationToken);

    public virtual IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => Inner.ListPendingReplacementsAsync(cancellationToken);

    public virtual IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => Inner.ListPendingReplacementsAsync(onFailure, cancellationToken);

    public virtual IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        Inner.ListAllAsync(after, pageSize, onFailure, cancellationToken);

    public virtual Task<bool> PingAsync(CancellationToken cancellationToken) => Inner.PingAsync(cancellationToken);
}
