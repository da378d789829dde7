using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// The real license store, except that its <paramref name="crashOnUpdate"/>-th update makes the process "die":
/// before the write is sent, or just after storage carried it out (<paramref name="afterTheWrite"/>). Only the
/// crash is injected; the storage is the real one.
/// </summary>
internal sealed class CrashingLicenseStore(ILicenseStore inner, int crashOnUpdate, bool afterTheWrite = false) : ForwardingLicenseStore(inner)
{
    private int updates;

    public override async Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref updates) != crashOnUpdate)
        {
            return await Inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);
        }

        if (afterTheWrite)
        {
            await Inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);
        }

        throw new SimulatedCrashException();
    }

    // The write that answers with its new state (the reminder scan's recordings) counts and crashes alike.
    public override async Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref updates) != crashOnUpdate)
        {
            return await Inner.UpdateAsync(current, updated, newEvent, cancellationToken);
        }

        if (afterTheWrite)
        {
            await Inner.UpdateAsync(current, updated, newEvent, cancellationToken);
        }

        throw new SimulatedCrashException();
    }
}

/// <summary>The injected crash of <see cref="CrashingLicenseStore"/>.</summary>
internal sealed class SimulatedCrashException() : Exception("Simulated crash around a license write.");
