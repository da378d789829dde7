using Azure;
using Azure.Data.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Azure.Tables;

/// <summary>An activation that adds its license without reading first (see <see cref="LicenseService.ActivateAsync"/>).</summary>
public sealed partial class TableLicenseStore
{
    private static readonly object NothingWritten = new();

    /// <summary>The licenses (by reference) whose add was refused before it wrote anything; weak, so never a leak.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<License, object> refusedBeforeWriting = new();

    /// <summary>
    /// <see cref="ILicenseStore.DiscardRefusedAddAsync"/>: the index rows the refused add wrote ahead that the stored
    /// license does not need are retired as a change retires its old state's rows (only while their version is not
    /// newer than the stored license's, so a row a newer writer raised stays); its row among the latest events is
    /// deleted unless it is the stored license's own (a first event of the very same time has the very same key).
    /// Rows the stored license needs were left as they were by the add's inserts. A storage failure leaves the rest:
    /// stale rows, which readers skip and remove.
    /// </summary>
    /// <remarks>
    /// An add refused before it wrote anything (the search batch refused, the serial found stored: the usual repeated or
    /// conflicting activation) is remembered here, by the very license object that was to be added, so that its discard
    /// costs no request. What remains is the rarer case of a conflict found only at the transaction (a concurrent add of
    /// the same serial, or a search row left without a license), whose rows are retired as below.
    /// </remarks>
    public async Task DiscardRefusedAddAsync(License attempted, LicenseEvent firstEvent, StoredLicense stored, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempted);
        ArgumentNullException.ThrowIfNull(firstEvent);
        ArgumentNullException.ThrowIfNull(stored);
        if (refusedBeforeWriting.Remove(attempted))
        {
            return; // Nothing was written ahead.
        }

        var serial = attempted.Serial;
        try
        {
            var ownerSchedule = await OwnerScheduleAsync(cancellationToken);
            foreach (var key in KeysFor(attempted, ownerSchedule).Except(KeysFor(stored.License, ownerSchedule)))
            {
                await indexRows.RetireAsync(key.PartitionKey, key.RowKey, stored.Version, cancellationToken);
            }

            var first = await licenses.GetEntityIfExistsAsync<TableEntity>(
                LicenseEntities.PartitionKey(serial), LicenseEntities.EventRowKey(serial, 1), [LicenseEntities.AtColumn], cancellationToken);
            if (first.HasValue && first.Value!.GetString(LicenseEntities.AtColumn) is { } at
                && NodaTime.Text.InstantPattern.ExtendedIso.Parse(at) is { Success: true } parsed && parsed.Value == firstEvent.At)
            {
                return; // The stored license's own row among the latest events: the add's insert met it and left it.
            }

            await index.DeleteEntityAsync(RecentPartition, RecentRowKey(firstEvent.At, serial, 1), ETag.All, cancellationToken);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            // Best effort: what is left is stale, and the readers (the dashboard for the latest events) remove it.
        }
    }
}
