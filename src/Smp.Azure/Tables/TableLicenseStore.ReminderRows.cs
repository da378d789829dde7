using Azure;
using Azure.Data.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Search;

namespace Smp.Azure.Tables;

/// <summary>
/// Confirmed reminder rows. A reminder row (partition <see cref="LicenseIndex.RemindersPartition"/>, not the
/// <see cref="LicenseIndex.ReplacingRowPrefix"/> rows) may carry a copy of its license's summary as committed, the
/// summary's ETag (<see cref="LicenseEntities.LicenseETagColumn"/>) and the offsets that owned the reminder index
/// (<see cref="LicenseEntities.OffsetsColumn"/>); the reminder listing then uses the copy instead of reading the license.
/// </summary>
/// <remarks>
/// <para>
/// Invariant: a row is confirmed only while its license is exactly at that ETag. A change writes the reminder rows of
/// the old and of the new state before its transaction, in one batch: it unconfirms those that exist (a merge of an
/// empty <c>LicenseETag</c>, If-Match *, which never lowers a version) and inserts the new ones unconfirmed, keeping the
/// ETag each answered. After its transaction, and only then, the writer that committed confirms the rows of the new
/// state under those ETags, from the transaction's answer, and deletes the rows of the old state under them. A row any
/// other write touched in between (another change's unconfirm, a rebuild, a reader's removal) no longer has that ETag:
/// the confirm fails and the row stays unconfirmed, which costs a license read later and nothing else. A confirm is
/// never retried after a read: the one thing that must not happen is a confirm that is not of the current state.
/// </para>
/// <para>
/// Every other writer of reminder rows writes them unconfirmed: the rebuild and the readers' repairs replace a row
/// whole (<see cref="WriteAheadRows"/>), and a rebuild toward other offsets unconfirms every confirmed row before the
/// index is recorded as built for them, those confirmed under them (when those offsets owned the index before, in a change
/// of offsets and back, a row may be of a state that the writers of the offsets in between did not unconfirm).
/// </para>
/// </remarks>
public sealed partial class TableLicenseStore
{
    /// <summary>The most operations of one entity group transaction.</summary>
    private const int MaxPerTransaction = 100;

    private static readonly string[] ConfirmedReminderColumns =
    [
        "PartitionKey", "RowKey", LicenseEntities.SerialColumn, LicenseEntities.VersionColumn, LicenseEntities.SchemaColumn,
        LicenseEntities.LicenseColumn, LicenseEntities.LicenseETagColumn, LicenseEntities.OffsetsColumn,
    ];

    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];

    private static bool IsReminderRow(IndexKey key) => key.PartitionKey == LicenseIndex.RemindersPartition;

    private static bool IsConfirmable(IndexKey key) =>
        IsReminderRow(key) && !key.RowKey.StartsWith(LicenseIndex.ReplacingRowPrefix, StringComparison.Ordinal);

    private static IndexKey KeyOf(ITableEntity row) => new(row.PartitionKey, row.RowKey);

    /// <summary>
    /// Step 1 of a new license: inserts the rows written ahead of it without reading them, one request per partition
    /// (a batch of inserts, up to <see cref="MaxPerTransaction"/> each, for a partition of several rows; a refused batch,
    /// that is a row that exists already, is done again row by row through <see cref="WriteAheadRows.InsertAsync"/>, as
    /// is a partition of one row). The search partition goes first, the serial's own search row first in it: when that
    /// first batch is refused and <paramref name="isStored"/> says the serial is stored, nothing has been written and
    /// nothing more is (null). A search row left by a crashed or concurrent add, with no license yet, goes on row by row.
    /// The reminder rows' ETags as written (null: a row left as another writer wrote it).
    /// </summary>
    private async Task<Dictionary<IndexKey, ETag?>?> InsertAheadAsync(IReadOnlyList<TableEntity> rows, Func<CancellationToken, Task<bool>> isStored, CancellationToken cancellationToken)
    {
        var ours = new Dictionary<IndexKey, ETag?>();
        var partitions = rows
            .GroupBy(row => row.PartitionKey, StringComparer.Ordinal)
            .OrderBy(partition => partition.Key == LicenseSearchKeys.Partition ? 0 : 1)
            .Select(partition => partition.OrderBy(row => LicenseSearchKeys.LookupOf(KeyOf(row)) is { Kind: SearchKind.Serial } ? 0 : 1).ToList());
        foreach (var partition in partitions)
        {
            foreach (var chunk in partition.Chunk(MaxPerTransaction))
            {
                if (chunk.Length > 1)
                {
                    if (await TryBatchAsync([.. chunk.Select(row => new TableTransactionAction(TableTransactionActionType.Add, row))], cancellationToken) is { } answers)
                    {
                        for (var i = 0; i < chunk.Length; i++)
                        {
                            ours[KeyOf(chunk[i])] = answers.Count > i ? answers[i].Headers.ETag : null;
                        }

                        continue;
                    }

                    if (ours.Count == 0 && chunk[0].PartitionKey == LicenseSearchKeys.Partition && await isStored(cancellationToken))
                    {
                        return null; // The serial is stored: a refused batch wrote nothing, and nothing else was written.
                    }
                }

                foreach (var row in chunk)
                {
                    ours[KeyOf(row)] = await indexRows.InsertAsync(row, cancellationToken);
                }
            }
        }

        foreach (var key in ours.Keys.Where(key => !IsReminderRow(key)).ToList())
        {
            ours.Remove(key);
        }

        return ours;
    }

    /// <summary>
    /// Step 1 of a change, for its reminder rows: one batch that inserts the rows only the new state has (unconfirmed)
    /// and unconfirms those of the old state (kept or removed; If-Match *, so nothing is read). A refused batch is done
    /// again row by row: an insert that conflicts through <see cref="WriteAheadRows.InsertAsync"/> (read, and replaced
    /// only when lower), an unconfirm that finds no row inserts it when the new state needs it. The ETag each row
    /// answered (null: left as another writer wrote it); a key without an entry has no row.
    /// </summary>
    private async Task<Dictionary<IndexKey, ETag?>> WriteReminderRowsAheadAsync(Serial serial, IReadOnlySet<IndexKey> oldKeys, IReadOnlySet<IndexKey> newKeys, long version, CancellationToken cancellationToken)
    {
        var ours = new Dictionary<IndexKey, ETag?>();
        var added = newKeys.Where(key => IsReminderRow(key) && !oldKeys.Contains(key)).ToList();
        var unconfirmed = oldKeys.Where(IsReminderRow).ToList();
        var actions = new List<TableTransactionAction>(added.Count + unconfirmed.Count);
        actions.AddRange(added.Select(key => new TableTransactionAction(TableTransactionActionType.Add, LicenseEntities.IndexRow(key, serial, version))));
        actions.AddRange(unconfirmed.Select(key => new TableTransactionAction(TableTransactionActionType.UpdateMerge, LicenseEntities.Unconfirmed(key), ETag.All)));
        if (actions.Count == 0)
        {
            return ours;
        }

        if (actions.Count > 1 && actions.Count <= MaxPerTransaction && await TryBatchAsync(actions, cancellationToken) is { } answers)
        {
            for (var i = 0; i < actions.Count; i++)
            {
                ours[KeyOf(actions[i].Entity)] = answers.Count > i ? answers[i].Headers.ETag : null;
            }

            return ours;
        }

        foreach (var key in added)
        {
            ours[key] = await indexRows.InsertAsync(LicenseEntities.IndexRow(key, serial, version), cancellationToken);
        }

        foreach (var key in unconfirmed)
        {
            try
            {
                ours[key] = (await index.UpdateEntityAsync(LicenseEntities.Unconfirmed(key), ETag.All, TableUpdateMode.Merge, cancellationToken)).Headers.ETag;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // No row: nothing to unconfirm. One the new state needs is written (a reader removed it, or it never was).
                if (newKeys.Contains(key))
                {
                    ours[key] = await indexRows.InsertAsync(LicenseEntities.IndexRow(key, serial, version), cancellationToken);
                }
            }
        }

        return ours;
    }

    /// <summary>
    /// Step 3 of a committed change, for its reminder rows, in one batch: the rows of the new state that still have this
    /// write's ETag are confirmed (the summary as committed under <paramref name="committed"/>, the offsets that own the
    /// index), the rows of the old state that still have it are deleted. A refused batch is done again row by row: a
    /// confirm that fails leaves its row unconfirmed (never read and confirmed), a delete that fails with 412 is judged as
    /// <see cref="WriteAheadRows.RetireAsync(string, string, long, CancellationToken)"/> judges it. Nothing here fails the
    /// change, which is committed: a row left unconfirmed costs a license read, one left behind is stale.
    /// </summary>
    private async Task ConfirmReminderRowsAsync(License state, TableEntity summary, ETag? committed, ReminderSchedule? ownerSchedule, Dictionary<IndexKey, ETag?> ours, IReadOnlyList<IndexKey> removed, long retireUpTo, CancellationToken cancellationToken)
    {
        try
        {
            var actions = new List<TableTransactionAction>();
            var retire = new List<IndexKey>();
            if (committed is { } licenseETag)
            {
                var owner = ownerSchedule ?? reminders;
                var offsets = OffsetsText(owner);
                foreach (var key in LicenseIndex.KeysFor(state, owner).Where(IsConfirmable))
                {
                    if (ours.TryGetValue(key, out var etag) && etag is { } rowETag)
                    {
                        actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, LicenseEntities.Confirmed(key, summary, licenseETag.ToString(), offsets), rowETag));
                    }
                }
            }

            foreach (var key in removed.Where(IsReminderRow))
            {
                if (!ours.TryGetValue(key, out var etag))
                {
                    continue; // No row.
                }

                if (etag is { } rowETag)
                {
                    actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(key.PartitionKey, key.RowKey), rowETag));
                }
                else
                {
                    retire.Add(key);
                }
            }

            if (actions.Count > 1 && actions.Count <= MaxPerTransaction && await TryBatchAsync(actions, cancellationToken) is not null)
            {
                actions.Clear();
            }

            foreach (var action in actions)
            {
                var key = KeyOf(action.Entity);
                try
                {
                    if (action.ActionType == TableTransactionActionType.Delete)
                    {
                        await index.DeleteEntityAsync(key.PartitionKey, key.RowKey, action.ETag, cancellationToken);
                    }
                    else
                    {
                        await index.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Merge, cancellationToken);
                    }
                }
                catch (RequestFailedException e) when (e.Status == 412 && action.ActionType == TableTransactionActionType.Delete)
                {
                    retire.Add(key); // Written since: read and judged.
                }
                catch (RequestFailedException e) when (e.Status is 404 or 412)
                {
                    // Gone, or touched by another write since this one's: it stays as that write left it, unconfirmed.
                }
            }

            foreach (var key in retire)
            {
                await indexRows.RetireAsync(key.PartitionKey, key.RowKey, retireUpTo, cancellationToken);
            }
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            // The change is committed. A row left unconfirmed costs the listing a read; one left behind is stale.
        }
    }

    /// <summary>
    /// The license a reminder row carries, when the listing may use it without reading the license: the row is confirmed
    /// under this store's offsets (which own the index while a scan lists it), its copy is of the row's version, is of
    /// the row's serial, and still needs the row.
    /// </summary>
    private StoredLicense? TryTrustConfirmed(TableEntity row, Serial serial)
    {
        if (LicenseEntities.TryReadConfirmed(row, OffsetsText(reminders)) is not { } copy || copy.License.Serial != serial)
        {
            return null;
        }

        return LicenseIndex.KeysFor(copy.License, reminders).Contains(KeyOf(row)) ? copy : null;
    }

    /// <summary>
    /// Proves a trusted copy current without reading the license: a merge of no column into the summary under the copied
    /// ETag, which storage refuses unless the summary is exactly as copied. The copy under the merge's ETag (the license
    /// is unchanged; its ETag is not); null when refused or the summary is not there, and then the license is read. So the
    /// listing never answers a state the license has left, whatever wrote it: the invariant above is kept by this
    /// version's writers, but a host of an earlier release still running during a slot swap changes a license without
    /// unconfirming its rows, and a writer's view of the offsets that own the index may be seconds old. A write, not a
    /// read: one request, no entity read.
    /// </summary>
    private async Task<StoredLicense?> ProveCurrentAsync(StoredLicense copy, CancellationToken cancellationToken)
    {
        var serial = copy.License.Serial;
        try
        {
            var merged = await licenses.UpdateEntityAsync(
                new TableEntity(LicenseEntities.PartitionKey(serial), LicenseEntities.SummaryRowKey(serial)),
                new ETag(copy.ConcurrencyToken),
                TableUpdateMode.Merge,
                cancellationToken);
            return merged.Headers.ETag is { } etag ? copy with { ConcurrencyToken = etag.ToString() } : null;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null; // Changed since the copy was confirmed (or moved, or gone): the license is read.
        }
    }

    /// <summary>
    /// Unconfirms every reminder row confirmed under <paramref name="offsets"/> (under its ETag: a row written since was
    /// written by a change that knows the offsets now being built). Run by a rebuild toward <paramref name="offsets"/>
    /// before it records the index as built for them: a row confirmed when those offsets owned the index before may be of
    /// a state that the writers of the offsets in between did not unconfirm. Rows confirmed under other offsets are never
    /// trusted by this index and stay as they are.
    /// </summary>
    private async Task UnconfirmReminderRowsAsync(string offsets, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LicenseIndex.RemindersPartition} and Offsets eq {offsets} and LicenseETag gt {string.Empty}");
        await foreach (var row in index.QueryAsync<TableEntity>(filter, select: KeyColumns, cancellationToken: cancellationToken))
        {
            try
            {
                await index.UpdateEntityAsync(LicenseEntities.Unconfirmed(KeyOf(row)), row.ETag, TableUpdateMode.Merge, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                // Removed, or written since by a change that unconfirmed or confirmed it knowing these offsets.
            }
        }
    }

    /// <summary>One entity group transaction in the index table; the answers, or null when it was refused (nothing written).</summary>
    private async Task<IReadOnlyList<Response>?> TryBatchAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            return (await index.SubmitTransactionAsync(actions, cancellationToken)).Value;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            return null;
        }
    }
}
