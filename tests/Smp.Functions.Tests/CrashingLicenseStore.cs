using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Functions.Tests;

/// <summary>
/// The real license store, except that its <paramref name="crashOnUpdate"/>-th update makes the process "die":
/// before the write is sent, or just after storage carried it out (<paramref name="afterTheWrite"/>). Only the
/// crash is injected; the storage is the real one.
/// </summary>
internal sealed class CrashingLicenseStore(ILicenseStore inner, int crashOnUpdate, bool afterTheWrite = false) : ILicenseStore
{
    private int updates;

    public async Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref updates) != crashOnUpdate)
        {
            return await inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);
        }

        if (afterTheWrite)
        {
            await inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);
        }

        throw new SimulatedCrashException();
    }

    public async Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref updates) != crashOnUpdate)
        {
            return await inner.UpdateAsync(current, updated, newEvent, cancellationToken);
        }

        if (afterTheWrite)
        {
            await inner.UpdateAsync(current, updated, newEvent, cancellationToken);
        }

        throw new SimulatedCrashException();
    }

    public Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) => inner.GetAsync(serial, cancellationToken);

    public Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) => inner.GetEventsAsync(serial, cancellationToken);

    public Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) => inner.TryAddAsync(license, firstEvent, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => inner.ListExpiringAsync(from, to, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) => inner.ListExpiringAfterAsync(from, to, after, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => inner.ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

    // The failure-isolating listings too, so a crash test takes the same paths as the app (their interface defaults
    // would drop the callback and end the listing at the first unreadable license).
    public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListExpiringAsync(from, to, onFailure, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListReminderCandidatesAsync(dueOnOrBefore, onFailure, cancellationToken);

    public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListAllAsync(after, pageSize, onFailure, cancellationToken);

    public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(onFailure, cancellationToken);

    public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
}

/// <summary>The injected crash of <see cref="CrashingLicenseStore"/>.</summary>
internal sealed class SimulatedCrashException() : Exception("Simulated crash around a license write.");
