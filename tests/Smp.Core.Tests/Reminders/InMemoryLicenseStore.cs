using System.Globalization;
using System.Runtime.CompilerServices;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Tests.Reminders;

/// <summary>
/// A thread-safe, in-memory <see cref="ILicenseStore"/> for use-case tests: each write replaces the license and
/// appends its event atomically, and a write against a stale concurrency token writes nothing. Reminder candidates
/// are found by asking the schedule, as the real store's due-date index would. A test can make the next update of a
/// serial throw, to stand for a process that dies at that moment.
/// </summary>
public sealed class InMemoryLicenseStore(ReminderSchedule schedule) : ILicenseStore
{
    private readonly Lock gate = new();
    private readonly Dictionary<Serial, Entry> licenses = [];
    private readonly HashSet<Serial> failNextUpdate = [];
    private long writes;

    /// <summary>The next <see cref="TryUpdateAsync"/> for <paramref name="serial"/> throws instead of writing.</summary>
    public void CrashOnNextUpdate(Serial serial)
    {
        lock (gate)
        {
            failNextUpdate.Add(serial);
        }
    }

    public async Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return licenses.TryGetValue(serial, out var entry) ? entry.Stored : null;
        }
    }

    public async Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return licenses.TryGetValue(serial, out var entry) ? [.. entry.Events] : [];
        }
    }

    public async Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (gate)
        {
            return licenses.TryAdd(license.Serial, new Entry(license, [firstEvent], NextToken()));
        }
    }

    public async Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        if (current.License.Serial != updated.Serial)
        {
            throw new ArgumentException("An update keeps the serial.", nameof(updated));
        }

        await Task.Yield();
        lock (gate)
        {
            if (failNextUpdate.Remove(updated.Serial))
            {
                throw new IOException($"Simulated crash while updating {updated.Serial}.");
            }

            if (!licenses.TryGetValue(updated.Serial, out var entry) || !string.Equals(entry.Token, current.ConcurrencyToken, StringComparison.Ordinal))
            {
                return false;
            }

            licenses[updated.Serial] = new Entry(updated, [.. entry.Events, newEvent], NextToken());
            return true;
        }
    }

    public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        ListAsync(l => string.Equals(l.Customer.Id, customerId, StringComparison.Ordinal), cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) =>
        ListAsync(l => l.Replacement is null && l.ExpiresOn >= from && l.ExpiresOn <= to, cancellationToken);

    public async IAsyncEnumerable<Serial> ListPendingReplacementsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var license in ListAsync(l => l.Replacement is { Completed: false }, cancellationToken))
        {
            yield return license.License.Serial;
        }
    }

    public async IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ordered = new List<StoredLicense>();
        await foreach (var license in ListExpiringAsync(from, to, cancellationToken))
        {
            if (after is not { } position || ExpiryPosition.Order.Compare(ExpiryPosition.Of(license.License), position) > 0)
            {
                ordered.Add(license);
            }
        }

        foreach (var license in ordered.OrderBy(l => ExpiryPosition.Of(l.License), ExpiryPosition.Order))
        {
            yield return license;
        }
    }

    public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) =>
        ListAsync(l => l.Replacement is { Completed: false } || schedule.Pending(l).Any(p => p.DueOn <= dueOnOrBefore), cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListAsync(l => after is not { } position || string.CompareOrdinal(l.Serial.Value, position.Value) > 0, cancellationToken);

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    private async IAsyncEnumerable<StoredLicense> ListAsync(Func<License, bool> filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<StoredLicense> matches;
        lock (gate)
        {
            matches = [.. licenses.Values.Where(e => filter(e.License)).Select(e => e.Stored).OrderBy(s => s.License.Serial.Value, StringComparer.Ordinal)];
        }

        foreach (var match in matches)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return match;
        }
    }

    // Called under the lock.
    private string NextToken() => (++writes).ToString("x8", CultureInfo.InvariantCulture);

    private sealed record Entry(License License, IReadOnlyList<LicenseEvent> Events, string Token)
    {
        public StoredLicense Stored => new(License, Events.Count, Token);
    }
}
