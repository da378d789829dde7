using Smp.Core.Plans;
using NodaTime;

namespace Smp.Core.Licenses;

/// <summary>A license as stored, with the optimistic-concurrency facts needed to change it.</summary>
/// <param name="Version">The number of events recorded on the license so far.</param>
/// <param name="ConcurrencyToken">Opaque to callers; the store uses it to refuse a stale write.</param>
public sealed record StoredLicense(License License, long Version, string ConcurrencyToken);

/// <summary>
/// Durable storage of licenses and their events. Every write stores the license and its new event
/// atomically, or not at all.
/// </summary>
public interface ILicenseStore
{
    Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken);

    /// <summary>The license's version (see <see cref="StoredLicense.Version"/>), null when it is not stored; reads no more than that.</summary>
    async Task<long?> GetVersionAsync(Serial serial, CancellationToken cancellationToken) => (await GetAsync(serial, cancellationToken))?.Version;

    /// <summary>The license's events, oldest first.</summary>
    Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new license with its first event; false when the serial is already stored. Throws
    /// <see cref="LicenseTooLargeException"/>, with nothing written, when the license or event exceeds what the store holds.
    /// </summary>
    Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="TryAddAsync"/>, answering the license as stored (version 1 and its concurrency token) where that
    /// answers true, null where it answers false. A store that learns the token from its write answers without reading
    /// the license back.
    /// </summary>
    async Task<StoredLicense?> AddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) =>
        await TryAddAsync(license, firstEvent, cancellationToken) ? await GetAsync(license.Serial, cancellationToken) : null;

    /// <summary>
    /// After <see cref="AddAsync"/> of <paramref name="attempted"/> answered null and the serial was read as
    /// <paramref name="stored"/>: removes what that add wrote ahead of the license that the stored license does not need
    /// (and only while no newer writer needs it), so that an activation refused or repeated leaves storage as it found
    /// it. Best effort: what stays is stale, and readers skip and remove it. A store that writes nothing ahead of a new
    /// license has nothing to do.
    /// </summary>
    Task DiscardRefusedAddAsync(License attempted, LicenseEvent firstEvent, StoredLicense stored, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>
    /// Replaces <paramref name="current"/> by <paramref name="updated"/> and appends <paramref name="newEvent"/>;
    /// false, with nothing written, when another writer changed the license since <paramref name="current"/> was read.
    /// Throws <see cref="LicenseTooLargeException"/>, with nothing written, when the license or event exceeds what the store holds.
    /// </summary>
    Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="TryUpdateAsync"/>, answering the license as this write stored it (its new version and concurrency
    /// token) where that answers true, null where it answers false. A store that learns the token from its write answers
    /// without reading the license back; a store that wraps another forwards this too, or its callers read back again.
    /// </summary>
    async Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) =>
        await TryUpdateAsync(current, updated, newEvent, cancellationToken) ? await GetAsync(current.License.Serial, cancellationToken) : null;

    /// <summary>Every license of a customer, without reading other customers' licenses.</summary>
    IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken);

    /// <summary>Licenses whose plan expires in [<paramref name="from"/>, <paramref name="to"/>], by expiry date, without a full scan.</summary>
    IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken);

    /// <summary>
    /// Licenses whose plan expires in [<paramref name="from"/>, <paramref name="to"/>], in (expiresOn, serial) order,
    /// starting after <paramref name="after"/> when one is given: a page of the expiring report reads the expiry index
    /// on from where the previous page ended, so no page costs more than the licenses it holds.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken);

    /// <summary>
    /// Licenses that have a pending reminder (see <see cref="Reminders.ReminderSchedule.Pending"/>) due on or before
    /// <paramref name="dueOnOrBefore"/>, read through a due-date index: the cost follows the reminders due, not the
    /// licenses stored. Callers re-check each license against the rules; a stale index entry only costs a read.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ListExpiringAsync(LocalDate, LocalDate, CancellationToken)"/>, but a license that cannot be read
    /// (a storage error that outlived the retries, a record that cannot be understood) is reported to
    /// <paramref name="onFailure"/> and skipped: the others are still listed.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListExpiringAsync(from, to, cancellationToken);

    /// <summary>
    /// As <see cref="ListReminderCandidatesAsync(LocalDate, CancellationToken)"/>, but a license that cannot be read is
    /// reported to <paramref name="onFailure"/> and skipped (R9: one storage error never stops the reminders of other
    /// licenses); its index rows stay, so a later call lists it again.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

    /// <summary>
    /// The serials of licenses with a dongle replacement begun and not yet finished (SPEC section 10), read through an
    /// index of their own: usually none, so finishing them before a listing costs one small read. Such a license is
    /// also among <see cref="ListReminderCandidatesAsync(LocalDate, CancellationToken)"/> on any date, so that the
    /// reminder scan finishes it without a read of its own.
    /// </summary>
    IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ListPendingReplacementsAsync(CancellationToken)"/>, but a pending replacement whose license cannot be
    /// read is reported to <paramref name="onFailure"/> and skipped: the others are still listed.
    /// </summary>
    IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListPendingReplacementsAsync(cancellationToken);

    /// <summary>
    /// As <see cref="ListExpiringAfterAsync(LocalDate, LocalDate, ExpiryPosition?, CancellationToken)"/>, but a license
    /// that cannot be read is reported to <paramref name="onFailure"/> (with its place in the expiry order, so a page
    /// can end after it) and skipped: the others are still listed.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListExpiringAfterAsync(from, to, after, cancellationToken);

    /// <summary>
    /// As <see cref="ListByCustomerAsync(string, CancellationToken)"/>, but a license that cannot be read is reported
    /// to <paramref name="onFailure"/> and skipped: the customer's other licenses are still listed.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListByCustomerAsync(customerId, cancellationToken);

    /// <summary>
    /// Every license (replaced ones included), by serial in ordinal order, after <paramref name="after"/> when one is
    /// given, read from the license records themselves <paramref name="pageSize"/> at a time: no index, and nothing
    /// read but the licenses listed, so a reader that stops after a page has read that page only. A serial never
    /// changes, so a license changed while a reader steps through the listing keeps its place. A license that cannot be
    /// read is reported to <paramref name="onFailure"/> (with its serial when known) and skipped.
    /// </summary>
    IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken);

    /// <summary>True when the store answers (health check).</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>A license a listing could not read; <paramref name="Serial"/> is null when not even that was known.</summary>
/// <paramref name="Position"/> is its place in the expiry order when it was met there (the expiring listings).
public sealed record LicenseReadFailure(Serial? Serial, Exception Error, ExpiryPosition? Position = null);

/// <summary>
/// A license or event that the store cannot hold (Table Storage keeps at most 32 Ki characters in one property).
/// Every field of a request is bounded, but not every combination fits: twenty long non-ASCII addresses, stored
/// escaped, in the license and again in its event, for instance.
/// </summary>
public sealed class LicenseTooLargeException(Serial serial, string detail)
    : Exception($"License {serial} cannot be stored: {detail}");

/// <summary>A place in the (expiresOn, serial) order of licenses: the last license a page of the expiring report listed.</summary>
public readonly record struct ExpiryPosition(LocalDate ExpiresOn, Serial Serial)
{
    /// <summary>The order of the expiry index: by expiry date, then by serial (ordinal).</summary>
    public static IComparer<ExpiryPosition> Order { get; } = Comparer<ExpiryPosition>.Create((a, b) => a.CompareTo(b));

    public static ExpiryPosition Of(License license)
    {
        ArgumentNullException.ThrowIfNull(license);
        return new ExpiryPosition(license.ExpiresOn, license.Serial);
    }

    private int CompareTo(ExpiryPosition other)
    {
        var byDate = ExpiresOn.CompareTo(other.ExpiresOn);
        return byDate != 0 ? byDate : string.CompareOrdinal(Serial.Value, other.Serial.Value);
    }
}
