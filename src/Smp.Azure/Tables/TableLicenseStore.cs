using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Azure.Identity;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="ILicenseStore"/> on Azure Table Storage.
/// </summary>
/// <remarks>
/// <para>
/// Table <see cref="TableLicenseStoreOptions.LicensesTable"/>: one partition per license (see
/// <see cref="LicenseEntities"/>). A change is one entity group transaction: the summary row (replaced
/// under the ETag that was read, or added) and the next event row (added). The event's row key is the
/// new version, so two writers that start from the same version collide on it even where the emulator
/// ignores If-Match inside a batch; the loser's whole batch fails and nothing of it is written.
/// </para>
/// <para>
/// Table <see cref="TableLicenseStoreOptions.IndexTable"/>: secondary indexes (<see cref="LicenseIndex"/>),
/// in other partitions, so outside the transaction. They are kept so that a crash at any point loses no
/// entry: rows the new state needs are written before the transaction, rows only the old state needed
/// are removed after it. Each index row records the license version it was written for; it is never
/// lowered, and a row is removed only while its version is not newer than the version that stopped
/// needing it (and under its ETag), so a late clean-up can never remove a row that a newer state needs.
/// Readers load each license an index row points to and keep it only when the row is among the keys of
/// the license's current state; stale rows are skipped and removed under the same rule. The reminder listing
/// uses a confirmed reminder row's copy of its license instead (see the remarks of the ReminderRows part).
/// </para>
/// <para>
/// Lost answers. When the answer to a transaction is lost (a timeout or a broken connection after storage did the
/// work), Azure.Core sends it again, and the resend fails on the rows the first send wrote (409 on the event row, or
/// on the summary of a new license). That is indistinguishable here from losing a race, so the write reports false
/// and nothing more; the caller reads the license again and finds the change in it. <see cref="LicenseService"/>
/// then decides again, sees its own change and ends Unchanged: the state is right, but the outcome says Unchanged
/// where Created or Updated happened. Decisions that leave no trace on the license (customer requests) look for
/// their own event instead.
/// </para>
/// </remarks>
public sealed partial class TableLicenseStore : ILicenseStore, IReminderIndexOwnership
{
    private const int ParallelReads = 16;
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);
    private static readonly LocalDate EarliestIndexedDate = new(1, 1, 1);
    private static readonly LocalDate LatestIndexedDate = new(9999, 12, 31);
    private static readonly string[] IndexColumns = ["PartitionKey", "RowKey", LicenseEntities.SerialColumn, LicenseEntities.VersionColumn];

    /// <summary>
    /// The row that records which offsets the reminder index was built for, kept in the licenses table (in a
    /// partition no encoded serial can name: <see cref="TableKey"/> escapes '~'), so that index queries never meet it.
    /// </summary>
    private const string MetaPartition = "~meta";
    private const string ReminderIndexRow = "reminder-index";
    private const string BuiltForColumn = "BuiltFor";
    private const string TargetColumn = "RebuildingFor";
    private const string AfterColumn = "RebuiltThrough";

    /// <summary>
    /// One row per configuration of <c>Smp:Reminders</c> that any host ran ("reminder-config|90,30"): when it was first seen
    /// (inserted if absent, never moved by a restart) and last seen (its lease, refreshed by every host of it).
    /// </summary>
    private const string ConfigRowPrefix = "reminder-config|";
    private const string FirstSeenColumn = "FirstSeen";
    private const string LastSeenColumn = "LastSeen";

    /// <summary>
    /// Written on the index record by older code, which kept a host off the index when its process started before this.
    /// Still written (the later of the stored value and now) on every rewrite so that hosts on that code keep off; read
    /// to date an owner that older code recorded without a configuration row.
    /// </summary>
    private const string SinceColumn = "ConfiguredSince";

    /// <summary>The licenses (partition keys, space-separated) whose records a rebuild could not read; see <see cref="EnsureReminderIndexAsync(Action{LicenseReadFailure}?, CancellationToken)"/>.</summary>
    private const string SkippedColumn = "Skipped";

    /// <summary>At most this many skipped records are remembered (a property holds 32 Ki characters); past that a rebuild resumes instead.</summary>
    private const int MaxSkippedRecords = 300;

    private static readonly string[] RebuildColumns = ["PartitionKey", "RowKey", LicenseEntities.SchemaColumn, LicenseEntities.LicenseColumn, LicenseEntities.VersionColumn];

    private readonly TableClient licenses;
    private readonly TableClient index;
    private readonly WriteAheadRows indexRows;
    private readonly AsyncOnce tablesCreated;
    private readonly ReminderSchedule reminders;
    private readonly int rebuildPageSize;
    private readonly IClock clock;

    /// <summary>When this store last refreshed its configuration's lease (Unix ticks; <see cref="long.MinValue"/>: not yet).</summary>
    private long seenAt = long.MinValue;

    /// <summary>A host refreshes its configuration's <c>LastSeen</c> at most this often (at start-up, when a scan runs and from the mail dispatch).</summary>
    private static readonly Duration SeenRefreshInterval = Duration.FromMinutes(10);

    /// <summary>
    /// A configuration of <c>Smp:Reminders</c> not seen by any host for longer than this is gone: another may take the
    /// reminder index over from it. Longer than the daily scan period, so that a live owner never loses the index.
    /// </summary>
    public static readonly Duration ReminderConfigurationGoneAfter = Duration.FromDays(2);

    /// <summary>
    /// How long the offsets that own the reminder index are remembered before a write reads them again: a host of
    /// other offsets writes the owner's reminder rows too (see <see cref="OwnerScheduleAsync"/>).
    /// </summary>
    private static readonly TimeSpan OwnerReadInterval = TimeSpan.FromSeconds(10);

    private volatile OwnerRead? owner;

    /// <summary>
    /// Whether the licenses table may still hold licenses of its first layout (read at first use): then a license not
    /// found under its keys is looked for under the old ones and moved (see <see cref="LicenseLayoutMigration"/>).
    /// </summary>
    private volatile bool oldLayoutRows;

    /// <summary>The offsets that owned the reminder index when it was last read (null: this store's own), and when (<see cref="Environment.TickCount64"/>).</summary>
    private sealed record OwnerRead(ReminderSchedule? Schedule, long ReadAt);

    /// <summary>Creates the store; the tables are created on first use, not here.</summary>
    public TableLicenseStore(TableServiceClient service, TableLicenseStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        options ??= new TableLicenseStoreOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(options.LicensesTable);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.IndexTable);
        licenses = service.GetTableClient(options.LicensesTable);
        index = service.GetTableClient(options.IndexTable);
        indexRows = new WriteAheadRows(index);
        reminders = options.Reminders ?? throw new ArgumentException("A reminder schedule is required.", nameof(options));
        rebuildPageSize = options.ReminderRebuildPageSize is >= 1 and <= 1000
            ? options.ReminderRebuildPageSize
            : throw new ArgumentException("The reminder index rebuild reads 1-1000 licenses per page.", nameof(options));
        clock = options.Clock ?? SystemClock.Instance;
        tablesCreated = new AsyncOnce(async ct =>
        {
            await licenses.CreateIfNotExistsAsync(ct);
            await index.CreateIfNotExistsAsync(ct);
            await SeeConfigurationAsync(ct); // Before the index record names these offsets: their configuration is dated first.
            await MarkNewStoreAsync(ct);
            await MarkNewSearchIndexAsync(ct);
            oldLayoutRows = await LicenseLayoutMigration.MayHoldOldRowsAsync(licenses, ct);
        });
    }

    public async Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        return await ReadAsync(serial, cancellationToken);
    }

    public async Task<long?> GetVersionAsync(Serial serial, CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        var response = await licenses.GetEntityIfExistsAsync<TableEntity>(
            LicenseEntities.PartitionKey(serial), LicenseEntities.SummaryRowKey(serial), [LicenseEntities.VersionColumn], cancellationToken);
        if (!response.HasValue && oldLayoutRows)
        {
            return (await ReadAsync(serial, cancellationToken))?.Version;
        }

        return response.HasValue ? response.Value!.GetInt64(LicenseEntities.VersionColumn) : null;
    }

    public async Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LicenseEntities.PartitionKey(serial)} and RowKey ge {LicenseEntities.EventRowKeyLower} and RowKey lt {LicenseEntities.EventRowKeyUpper}");

        // Both layouts' event rows: while a license moves, one version can be under both keys (the same event).
        var events = new SortedDictionary<long, LicenseEvent>();
        await foreach (var row in licenses.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var version = row.GetInt64(LicenseEntities.VersionColumn) ?? throw new InvalidDataException($"Stored row ({row.PartitionKey}, {row.RowKey}) has no {LicenseEntities.VersionColumn}.");
            events[version] = LicenseEntities.ToEvent(row);
        }

        return [.. events.Values];
    }

    public async Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) =>
        await AddAsync(license, firstEvent, cancellationToken) is not null;

    /// <summary>
    /// <see cref="ILicenseStore.AddAsync"/> in one read-free pass: the rows written ahead of a new license (its index
    /// rows and its row among the latest events) are inserted without reading them first, one request per partition
    /// (see <see cref="InsertAheadAsync"/>), the search partition first: every license of a serial has the search row of
    /// its serial, so that batch is refused whenever the serial is stored, and then one point read of the summary tells,
    /// and a stored serial ends the add there (null) with nothing written. Otherwise a row is read only when its insert conflicts (see
    /// <see cref="WriteAheadRows.InsertAsync"/>); then the transaction; then its reminder rows are confirmed (see
    /// <see cref="ConfirmReminderRowsAsync"/>), and the license is answered from the summary just written with the ETag
    /// of the transaction's answer, not read back.
    /// </summary>
    public async Task<StoredLicense?> AddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(license);
        ArgumentNullException.ThrowIfNull(firstEvent);
        await tablesCreated.EnsureAsync(cancellationToken);
        if (oldLayoutRows
            && await LicenseLayoutMigration.MigrateAsync(licenses, LicenseEntities.PartitionKey(license.Serial), cleanUp: false, cancellationToken))
        {
            return null; // The serial is stored under the first layout's keys (moved now): it exists.
        }

        const long version = 1;

        // Build the rows first: a license too large to store must leave no index row behind.
        var summary = LicenseEntities.Summary(license, version);
        TableTransactionAction[] actions =
        [
            new TableTransactionAction(TableTransactionActionType.Add, summary),
            new TableTransactionAction(TableTransactionActionType.Add, LicenseEntities.Event(license.Serial, version, firstEvent)),
        ];
        var ownerSchedule = await OwnerScheduleAsync(cancellationToken);
        var keys = KeysFor(license, ownerSchedule);
        var ours = await InsertAheadAsync(
            [.. keys.Select(key => LicenseEntities.IndexRow(key, license.Serial, version)), RecentRow(license.Serial, version, firstEvent)],
            ct => IsStoredAsync(license.Serial, ct),
            cancellationToken);
        if (ours is null)
        {
            // The search batch was refused and the serial is stored: nothing was written ahead, so nothing is discarded.
            refusedBeforeWriting.AddOrUpdate(license, NothingWritten);
            return null;
        }

        if (await TryCommitAsync(actions, cancellationToken) is not { } answers)
        {
            return null;
        }

        if (answers.Count == 0 || answers[0].Headers.ETag is not { } etag)
        {
            // An answer without the summary's ETag (not what Table Storage sends): read the license instead.
            return await ReadAsync(license.Serial, cancellationToken);
        }

        await ConfirmReminderRowsAsync(license, summary, etag, ownerSchedule, ours, [], version, cancellationToken);
        summary.ETag = etag;
        return LicenseEntities.ToStoredLicense(summary);
    }

    public async Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) =>
        await UpdateAsync(current, updated, newEvent, cancellationToken) is not null;

    /// <summary>
    /// <see cref="ILicenseStore.UpdateAsync"/>: the new state is the summary row this write sent, with the ETag of the
    /// transaction's answer, so nothing is read back (only when storage answers without an ETag).
    /// </summary>
    public async Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentNullException.ThrowIfNull(newEvent);
        if (current.License.Serial != updated.Serial)
        {
            throw new ArgumentException($"An update cannot change the serial ({current.License.Serial} to {updated.Serial}).", nameof(updated));
        }

        await tablesCreated.EnsureAsync(cancellationToken);

        var version = checked(current.Version + 1);

        // Build the rows first: a license too large to store must leave no index row behind.
        var summary = LicenseEntities.Summary(updated, version);
        TableTransactionAction[] actions =
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, summary, new ETag(current.ConcurrencyToken)),
            new TableTransactionAction(TableTransactionActionType.Add, LicenseEntities.Event(updated.Serial, version, newEvent)),
        ];
        var ownerSchedule = await OwnerScheduleAsync(cancellationToken);
        var oldKeys = KeysFor(current.License, ownerSchedule);
        var newKeys = KeysFor(updated, ownerSchedule);
        var removed = oldKeys.Except(newKeys).ToList();

        // The reminder rows first (one request): those of the old and the new state unconfirmed, the new ones added.
        var ours = await WriteReminderRowsAheadAsync(updated.Serial, oldKeys, newKeys, version, cancellationToken);
        await WriteIndexRowsAsync(updated.Serial, newKeys.Except(oldKeys).Where(key => !IsReminderRow(key)), version, cancellationToken);
        await WriteRecentRowAsync(updated.Serial, version, newEvent, cancellationToken);

        if (await TryCommitAsync(actions, cancellationToken) is not { } answers)
        {
            return null;
        }

        var written = answers.Count > 0 ? answers[0].Headers.ETag : null;

        // The reminder rows of the new state confirmed and those of the old one removed, under this write's ETags.
        await ConfirmReminderRowsAsync(updated, summary, written, ownerSchedule, ours, removed, current.Version, cancellationToken);
        try
        {
            foreach (var key in removed.Where(key => !IsReminderRow(key)))
            {
                // Only rows no newer writer has raised: one at the new version was written ahead by a writer that lost
                // to this one, and readers remove it.
                await indexRows.RetireAsync(key.PartitionKey, key.RowKey, current.Version, cancellationToken);
            }
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            // The change is committed. A row left behind is stale, which readers skip and remove.
        }

        if (written is { } etag)
        {
            summary.ETag = etag;
            return LicenseEntities.ToStoredLicense(summary);
        }

        return await ReadAsync(updated.Serial, cancellationToken) ?? throw new InvalidOperationException($"License {updated.Serial} vanished after its update.");
    }

    public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        ListByCustomerCoreAsync(customerId, null, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListByCustomerCoreAsync(customerId, onFailure ?? throw new ArgumentNullException(nameof(onFailure)), cancellationToken);

    private async IAsyncEnumerable<StoredLicense> ListByCustomerCoreAsync(string customerId, Action<LicenseReadFailure>? onFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customerId);
        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LicenseIndex.CustomerPartition(customerId)}");
        await foreach (var license in ResolveIndexAsync(filter, onFailure, cancellationToken))
        {
            yield return license;
        }
    }

    public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) =>
        ListExpiringAfterAsync(from, to, null, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListExpiringAsync(from, to, null, onFailure ?? throw new ArgumentNullException(nameof(onFailure)), cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) =>
        ListExpiringAsync(from, to, after, null, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListExpiringAsync(from, to, after, onFailure ?? throw new ArgumentNullException(nameof(onFailure)), cancellationToken);

    private async IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, ExpiryPosition? after, Action<LicenseReadFailure>? onFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        from = LocalDate.Max(from, EarliestIndexedDate);
        to = LocalDate.Min(to, LatestIndexedDate);
        if (from > to)
        {
            yield break;
        }

        await tablesCreated.EnsureAsync(cancellationToken);

        // Index rows sort by (expiresOn, serial), so the rows after a position are the row keys above its own.
        var filter = after is { } position && position.ExpiresOn >= from
            ? TableClient.CreateQueryFilter(
                $"PartitionKey eq {LicenseIndex.ExpiresPartition} and RowKey gt {LicenseIndex.ExpiresKey(position.ExpiresOn, position.Serial).RowKey} and RowKey lt {LicenseIndex.ExpiresUpperBound(to)}")
            : TableClient.CreateQueryFilter(
                $"PartitionKey eq {LicenseIndex.ExpiresPartition} and RowKey ge {LicenseIndex.ExpiresLowerBound(from)} and RowKey lt {LicenseIndex.ExpiresUpperBound(to)}");
        await foreach (var license in ResolveIndexAsync(filter, onFailure, cancellationToken))
        {
            yield return license;
        }
    }

    public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) =>
        ListReminderCandidatesCoreAsync(dueOnOrBefore, null, cancellationToken);

    public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListReminderCandidatesCoreAsync(dueOnOrBefore, onFailure ?? throw new ArgumentNullException(nameof(onFailure)), cancellationToken);

    private async IAsyncEnumerable<StoredLicense> ListReminderCandidatesCoreAsync(LocalDate dueOnOrBefore, Action<LicenseReadFailure>? onFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        dueOnOrBefore = LocalDate.Min(dueOnOrBefore, LatestIndexedDate);
        await tablesCreated.EnsureAsync(cancellationToken);
        await EnsureReminderIndexAsync(onFailure, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LicenseIndex.RemindersPartition} and RowKey lt {LicenseIndex.RemindersUpperBound(dueOnOrBefore)}");
        var seen = new HashSet<Serial>();
        await foreach (var license in ResolveIndexAsync(filter, onFailure, StillOwnerAsync, trustConfirmed: true, cancellationToken))
        {
            // A license with two stages due (a catch-up) has two rows: it is one candidate.
            if (seen.Add(license.License.Serial))
            {
                yield return license;
            }
        }
    }

    public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) =>
        ListPendingReplacementsCoreAsync(null, cancellationToken);

    public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
        ListPendingReplacementsCoreAsync(onFailure ?? throw new ArgumentNullException(nameof(onFailure)), cancellationToken);

    private async IAsyncEnumerable<Serial> ListPendingReplacementsCoreAsync(Action<LicenseReadFailure>? onFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LicenseIndex.RemindersPartition} and RowKey ge {LicenseIndex.ReplacingRowPrefix} and RowKey lt {LicenseIndex.ReplacingRowEnd}");
        await foreach (var license in ResolveIndexAsync(filter, onFailure, cancellationToken))
        {
            yield return license.License.Serial;
        }
    }

    /// <summary>
    /// <see cref="ILicenseStore.ListAllAsync"/> over the summary rows of the licenses table (one per license, in
    /// partition order, which is serial order: a serial's characters stand for themselves in a key), resumed after a
    /// serial by its partition key.
    /// </summary>
    public async IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onFailure);
        pageSize = Math.Clamp(pageSize, 1, 1000);
        await tablesCreated.EnsureAsync(cancellationToken);
        var from = after is { } serial ? LicenseEntities.PartitionKey(serial) : string.Empty;
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {LicenseEntities.SummaryRowKeyLower} and RowKey lt {LicenseEntities.SummaryRowKeyUpper} and PartitionKey gt {from}");
        await foreach (var page in licenses.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(pageSizeHint: pageSize))
        {
            foreach (var row in page.Values)
            {
                StoredLicense stored;
                try
                {
                    stored = LicenseEntities.ToStoredLicense(row);
                }
                catch (Exception e) when (IsUnreadableRecord(e))
                {
                    onFailure(new LicenseReadFailure(SerialOf(row.PartitionKey), e));
                    continue;
                }

                yield return stored;
            }
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PingTimeout);
        try
        {
            await tablesCreated.EnsureAsync(timeout.Token);

            // One real, authorized read that touches at most one row.
            var pages = licenses.QueryAsync<TableEntity>(maxPerPage: 1, select: [LicenseEntities.VersionColumn], cancellationToken: timeout.Token).AsPages(pageSizeHint: 1);
            await using var page = pages.GetAsyncEnumerator(timeout.Token);
            await page.MoveNextAsync();
            return true;
        }
        catch (Exception e) when (e is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Makes the reminder rows match the configured offsets (R9: a change of <c>Smp:Reminders</c> applies to every
    /// stored license). The index records the offsets it was built for; when they differ from this store's, every
    /// license's pending reminders are written again for the new offsets, page by page, the progress recorded after
    /// each page so that a run that dies resumes where the last one got to. Only when every license is done does
    /// the index record the new offsets; until then each scan finishes the rebuild before it reads the index, so
    /// no scan works from a half-built index. Rows of the old offsets are stale for the new ones: readers remove
    /// them as they meet them. Rewriting a row is idempotent, and the outbox claims keep overlapping scans at one
    /// mail per reminder. Each call refreshes this configuration's lease; whether this store may take the index over
    /// from other offsets is <see cref="ConflictAsync"/>'s rule.
    /// </summary>
    public Task EnsureReminderIndexAsync(CancellationToken cancellationToken) => EnsureReminderIndexAsync(null, cancellationToken);

    /// <summary>
    /// As <see cref="EnsureReminderIndexAsync(CancellationToken)"/>; with <paramref name="onFailure"/>, a license whose
    /// rows cannot be read or written is reported and the others go on. A record that cannot be understood (it will
    /// not read any better next time) is skipped: the rebuild finishes without it and records it with the offsets
    /// (<c>Skipped</c> on the record row), and each later call tries that license again (one point read each) until
    /// it reads, reporting it each time it does not. A storage failure is different: the license is fine, so the index
    /// is not recorded as built and the next call resumes the rebuild from just before the first license that failed.
    /// </summary>
    public async Task EnsureReminderIndexAsync(Action<LicenseReadFailure>? onFailure, CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        await SeeConfigurationAsync(cancellationToken);
        var wanted = OffsetsText(reminders);
        while (true)
        {
            var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ReminderIndexRow, cancellationToken: cancellationToken);
            var state = read.HasValue ? read.Value : null;
            if (await ConflictAsync(state, cancellationToken) is { } conflict)
            {
                throw new ReminderOffsetsConflictException(conflict);
            }

            if (state is not null && state.GetString(BuiltForColumn) == wanted && state.GetString(TargetColumn) is null)
            {
                await RetrySkippedAsync(state, onFailure, cancellationToken);
                return;
            }

            // Resume a rebuild toward the same offsets; start over when it was toward others (they may be taken over).
            var resuming = state?.GetString(TargetColumn) == wanted;
            var rebuild = new TableEntity(MetaPartition, ReminderIndexRow)
            {
                [BuiltForColumn] = state?.GetString(BuiltForColumn),
                [TargetColumn] = wanted,
                [AfterColumn] = resuming ? state!.GetString(AfterColumn) ?? string.Empty : string.Empty,
                [SkippedColumn] = resuming ? state!.GetString(SkippedColumn) : null,
                [SinceColumn] = state?.GetInt64(SinceColumn),
            };
            var etag = await TryWriteStateAsync(rebuild, state?.ETag, cancellationToken);
            if (etag is null)
            {
                continue; // Another host changed the record since it was read: read it again.
            }

            if (await RebuildAsync(rebuild, etag.Value, onFailure, cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Writes every license's reminder rows for this host's offsets from where <paramref name="state"/> says, recording
    /// progress after each page under the record's ETag. False when the record must be read again.
    /// </summary>
    private async Task<bool> RebuildAsync(TableEntity state, ETag etag, Action<LicenseReadFailure>? onFailure, CancellationToken cancellationToken)
    {
        var wanted = OffsetsText(reminders);
        var after = state.GetString(AfterColumn) ?? string.Empty;
        var skipped = SkippedOf(state);
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {LicenseEntities.SummaryRowKeyLower} and RowKey lt {LicenseEntities.SummaryRowKeyUpper} and PartitionKey gt {after}");
        var done = after;
        string? resumeAfter = null; // Set at the first license whose storage failed: where the next rebuild resumes.
        await foreach (var page in licenses.QueryAsync<TableEntity>(filter, maxPerPage: rebuildPageSize, select: RebuildColumns, cancellationToken: cancellationToken).AsPages(pageSizeHint: rebuildPageSize))
        {
            foreach (var row in page.Values)
            {
                try
                {
                    await WriteReminderRowsAsync(row, cancellationToken);
                }
                catch (Exception e) when (onFailure is not null && IsRowFailure(e, cancellationToken))
                {
                    if (IsUnreadableRecord(e) && skipped.Count < MaxSkippedRecords)
                    {
                        // Skipped for good by this rebuild, and remembered: later calls try it again on its own.
                        skipped.Add(row.PartitionKey);
                    }
                    else
                    {
                        resumeAfter ??= done;
                    }

                    onFailure(new LicenseReadFailure(SerialOf(row.PartitionKey), e));
                }

                done = row.PartitionKey;
            }

            if (page.Values.Count > 0)
            {
                state[AfterColumn] = resumeAfter ?? done;
                state[SkippedColumn] = SkippedText(skipped);
                var saved = await SaveRebuildStateAsync(state, etag, wanted, cancellationToken);
                if (saved is not { } next)
                {
                    return true; // Another host of these offsets finished it.
                }

                etag = next;
            }
        }

        if (resumeAfter is not null)
        {
            return true;
        }

        // Rows confirmed under these offsets when they owned the index before were not kept up by the writers of the
        // offsets in between: none is trusted by the index built now.
        await UnconfirmReminderRowsAsync(wanted, cancellationToken);
        state[BuiltForColumn] = wanted;
        state[TargetColumn] = null;
        state[AfterColumn] = null;
        await SaveRebuildStateAsync(state, etag, wanted, cancellationToken);
        return true;
    }

    /// <summary>
    /// Records a rebuild's progress (or its end) under <paramref name="etag"/>. A lost race reads the record again:
    /// another host of the same offsets working on the same rebuild adds its skipped records and this one writes again;
    /// one that finished it ends this one (null); a newer configuration that took the index over stops it (throws).
    /// </summary>
    private async Task<ETag?> SaveRebuildStateAsync(TableEntity state, ETag etag, string wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryWriteStateAsync(state, etag, cancellationToken) is { } written)
            {
                return written;
            }

            var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ReminderIndexRow, cancellationToken: cancellationToken);
            var current = read.HasValue ? read.Value! : null;
            if (current?.GetString(TargetColumn) == wanted)
            {
                state[SkippedColumn] = SkippedText([.. SkippedOf(state).Union(SkippedOf(current))]);
                etag = current.ETag;
                continue;
            }

            if (current is not null && current.GetString(BuiltForColumn) == wanted && current.GetString(TargetColumn) is null)
            {
                return null;
            }

            throw new ReminderOffsetsConflictException(new ReminderOffsetsConflict(wanted, current?.GetString(TargetColumn) ?? current?.GetString(BuiltForColumn) ?? "(none)"));
        }
    }

    /// <summary>Writes the record under <paramref name="etag"/> (adds it when null); the new ETag, or null when another host changed it first.</summary>
    private async Task<ETag?> TryWriteStateAsync(TableEntity state, ETag? etag, CancellationToken cancellationToken)
    {
        state[SinceColumn] = Math.Max(state.GetInt64(SinceColumn) ?? long.MinValue, clock.GetCurrentInstant().ToUnixTimeTicks());
        try
        {
            var response = etag is { } match
                ? await licenses.UpdateEntityAsync(state, match, TableUpdateMode.Replace, cancellationToken)
                : await licenses.AddEntityAsync(state, cancellationToken);
            return response.Headers.ETag;
        }
        catch (RequestFailedException e) when (IsConflict(e) || e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// The reminder index belongs to the offsets it is being rebuilt for, else to those it was built for. A host of other
    /// offsets may take it over only when the owner's configuration is gone (not seen for longer than
    /// <see cref="ReminderConfigurationGoneAfter"/>, or never recorded) or when its own configuration was first seen
    /// later than the owner's: of the live configurations, the one first seen most recently owns the index, and a host
    /// that merely restarts does not date its configuration anew. Otherwise it is in conflict and must leave the index alone.
    /// </summary>
    private async Task<ReminderOffsetsConflict?> ConflictAsync(TableEntity? state, CancellationToken cancellationToken)
    {
        var wanted = OffsetsText(reminders);
        var owner = state?.GetString(TargetColumn) ?? state?.GetString(BuiltForColumn);
        if (owner is null || owner == wanted)
        {
            return null;
        }

        var theirs = await ReadSeenAsync(owner, cancellationToken) ?? await RecordOlderOwnerAsync(owner, state!, cancellationToken);
        if (theirs is null || clock.GetCurrentInstant() - theirs.Value.LastSeen > ReminderConfigurationGoneAfter)
        {
            return null;
        }

        var mine = await ReadSeenAsync(wanted, cancellationToken);
        return mine is { } own && own.FirstSeen > theirs.Value.FirstSeen ? null : new ReminderOffsetsConflict(wanted, owner);
    }

    /// <summary>
    /// An owner recorded by older code has no configuration row: it is given one, first and last seen at the record's
    /// <c>ConfiguredSince</c> (the earliest instant when absent), so that it is judged like any other and a later restart
    /// of its offsets is not dated "now".
    /// </summary>
    private async Task<(Instant FirstSeen, Instant LastSeen)?> RecordOlderOwnerAsync(string offsets, TableEntity state, CancellationToken cancellationToken)
    {
        var since = state.GetInt64(SinceColumn) ?? Instant.MinValue.ToUnixTimeTicks();
        try
        {
            await licenses.AddEntityAsync(new TableEntity(MetaPartition, ConfigRowPrefix + offsets) { [FirstSeenColumn] = since, [LastSeenColumn] = since }, cancellationToken);
        }
        catch (RequestFailedException e) when (IsConflict(e))
        {
            // Another host recorded it first: judge by that row.
        }

        return await ReadSeenAsync(offsets, cancellationToken);
    }

    /// <summary>When a configuration (offsets as the index records them) was first and last seen; null when no host recorded it.</summary>
    private async Task<(Instant FirstSeen, Instant LastSeen)?> ReadSeenAsync(string offsets, CancellationToken cancellationToken)
    {
        var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ConfigRowPrefix + offsets, [FirstSeenColumn, LastSeenColumn], cancellationToken);
        if (!read.HasValue || read.Value!.GetInt64(FirstSeenColumn) is not { } first)
        {
            return null;
        }

        return (Instant.FromUnixTimeTicks(first), Instant.FromUnixTimeTicks(read.Value!.GetInt64(LastSeenColumn) ?? first));
    }

    /// <summary>
    /// Records that this host runs its configuration: inserts the configuration's row, first seen now, if no host did
    /// before, else moves its <c>LastSeen</c> (the lease) forward. At start-up, when a scan runs and from every mail dispatch run, at most once per
    /// <see cref="SeenRefreshInterval"/>. A lost race leaves the other host's write: it is as recent.
    /// </summary>
    private async Task SeeConfigurationAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetCurrentInstant();
        var last = Interlocked.Read(ref seenAt);
        if (last != long.MinValue && now - Instant.FromUnixTimeTicks(last) < SeenRefreshInterval && now >= Instant.FromUnixTimeTicks(last))
        {
            return;
        }

        var rowKey = ConfigRowPrefix + OffsetsText(reminders);
        var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, rowKey, [LastSeenColumn], cancellationToken);
        try
        {
            if (!read.HasValue)
            {
                await licenses.AddEntityAsync(new TableEntity(MetaPartition, rowKey) { [FirstSeenColumn] = now.ToUnixTimeTicks(), [LastSeenColumn] = now.ToUnixTimeTicks() }, cancellationToken);
            }
            else if ((read.Value!.GetInt64(LastSeenColumn) ?? long.MinValue) < now.ToUnixTimeTicks())
            {
                var update = new TableEntity(MetaPartition, rowKey) { [LastSeenColumn] = now.ToUnixTimeTicks() };
                await licenses.UpdateEntityAsync(update, read.Value!.ETag, TableUpdateMode.Merge, cancellationToken);
            }
        }
        catch (RequestFailedException e) when (IsConflict(e) || e.Status == 404)
        {
            // Another host of this configuration recorded it at the same moment.
        }

        Interlocked.Exchange(ref seenAt, now.ToUnixTimeTicks());
    }

    /// <summary>
    /// The index rows a license's state needs: its keys for this store's offsets and, when the reminder index belongs to
    /// other offsets (<paramref name="ownerSchedule"/>), the reminder rows of those too, so that the owner's scan finds
    /// the reminders of a license this host wrote (R9: a reminder is never lost to a configuration change under way).
    /// </summary>
    private IReadOnlySet<IndexKey> KeysFor(License license, ReminderSchedule? ownerSchedule)
    {
        var keys = LicenseIndex.KeysFor(license, reminders);
        if (ownerSchedule is null)
        {
            return keys;
        }

        var union = new HashSet<IndexKey>(keys);
        union.UnionWith(LicenseIndex.KeysFor(license, ownerSchedule));
        return union;
    }

    /// <summary>
    /// The offsets that own the reminder index (those it is being rebuilt for, else those it was built for) when they
    /// are not this store's; null when they are (or nothing is recorded). Read at most every <see cref="OwnerReadInterval"/>.
    /// </summary>
    private async Task<ReminderSchedule?> OwnerScheduleAsync(CancellationToken cancellationToken)
    {
        var known = owner;
        if (known is not null && Environment.TickCount64 - known.ReadAt < (long)OwnerReadInterval.TotalMilliseconds)
        {
            return known.Schedule;
        }

        // One read for all the writes that find the remembered owner out of date at once (at any concurrency, one
        // request per interval), not one each; each write waits for it as long as its own cancellation allows.
        var reading = ownerReading;
        if (reading is null || reading.IsCompleted)
        {
            var next = new TaskCompletionSource<OwnerRead>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref ownerReading, next.Task, reading) == reading)
            {
                _ = ReadOwnerAsync(next);
                reading = next.Task;
            }
            else
            {
                reading = ownerReading!;
            }
        }

        return (await reading.WaitAsync(cancellationToken)).Schedule;
    }

    /// <summary>The read under way (or the last one) of which offsets own the reminder index, shared by the writes that wait for it.</summary>
    private Task<OwnerRead>? ownerReading;

    private async Task ReadOwnerAsync(TaskCompletionSource<OwnerRead> result)
    {
        try
        {
            var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ReminderIndexRow, [BuiltForColumn, TargetColumn], CancellationToken.None);
            var schedule = read.HasValue ? OtherSchedule(read.Value!.GetString(TargetColumn) ?? read.Value!.GetString(BuiltForColumn)) : null;
            var fresh = new OwnerRead(schedule, Environment.TickCount64);
            owner = fresh;
            result.SetResult(fresh);
        }
        catch (Exception e)
        {
            result.SetException(e); // Each waiting write fails as its own read would have; the next write reads again.
        }
    }

    /// <summary>The schedule of recorded offsets ("90,14") when they are not this store's; null for this store's or unreadable ones.</summary>
    private ReminderSchedule? OtherSchedule(string? offsets)
    {
        if (offsets is null || offsets == OffsetsText(reminders))
        {
            return null;
        }

        var days = new List<int>();
        foreach (var part in offsets.Split(','))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var day) || day is < 1 or > 366)
            {
                return null;
            }

            days.Add(day);
        }

        return days.Count == 0 ? null : new ReminderSchedule(days);
    }

    /// <summary>
    /// Whether the reminder index is still built for this store's offsets, read just before a scan removes reminder rows
    /// it found stale: a host of other offsets may have taken the index over since the scan began, and the rows this
    /// store finds stale are then the new owner's (R9). Anything else (a rebuild under way, other offsets, no record)
    /// leaves the rows in place; stale rows that stay are only skipped.
    /// </summary>
    private async Task<bool> StillOwnerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ReminderIndexRow, [BuiltForColumn, TargetColumn], cancellationToken);
            return read.HasValue && read.Value!.GetString(TargetColumn) is null && read.Value!.GetString(BuiltForColumn) == OffsetsText(reminders);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            return false; // Removal is best effort: the rows stay and are skipped again.
        }
    }

    /// <summary>Whether the reminder index belongs to another configuration of <c>Smp:Reminders</c> (see <see cref="ConflictAsync"/>).</summary>
    public async Task<ReminderOffsetsConflict?> CheckAsync(CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        var read = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ReminderIndexRow, [BuiltForColumn, TargetColumn, SinceColumn], cancellationToken);
        return await ConflictAsync(read.HasValue ? read.Value : null, cancellationToken);
    }

    /// <summary>Refreshes this configuration's lease (see <see cref="SeeConfigurationAsync"/>); the mail dispatcher calls it every run.</summary>
    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        await tablesCreated.EnsureAsync(cancellationToken);
        await SeeConfigurationAsync(cancellationToken);
    }

    /// <summary>Writes the reminder rows of the current offsets for the license of a summary row.</summary>
    private async Task WriteReminderRowsAsync(TableEntity row, CancellationToken cancellationToken)
    {
        var stored = LicenseEntities.ToStoredLicense(row);
        foreach (var reminder in reminders.Pending(stored.License))
        {
            await WriteIndexRowAsync(LicenseIndex.ReminderKey(reminder, stored.License.Serial), stored.License.Serial, stored.Version, cancellationToken);
        }
    }

    /// <summary>
    /// Tries again the licenses a finished rebuild skipped: one that now reads (corrected, or removed) gets its rows and
    /// leaves the list; one that still does not is reported again. The list shrinks under the record's ETag, so a
    /// concurrent rebuild or retry is never undone (a lost update only means one more try next time).
    /// </summary>
    private async Task RetrySkippedAsync(TableEntity state, Action<LicenseReadFailure>? onFailure, CancellationToken cancellationToken)
    {
        var skipped = SkippedOf(state);
        if (skipped.Count == 0)
        {
            return;
        }

        var remaining = new List<string>();
        foreach (var partition in skipped)
        {
            try
            {
                var row = await licenses.GetEntityIfExistsAsync<TableEntity>(partition, LicenseEntities.SummaryRowKeyOf(partition), RebuildColumns, cancellationToken);
                if (!row.HasValue && oldLayoutRows)
                {
                    row = await licenses.GetEntityIfExistsAsync<TableEntity>(partition, LicenseEntities.LegacySummaryRowKey, RebuildColumns, cancellationToken);
                }

                if (row.HasValue)
                {
                    await WriteReminderRowsAsync(row.Value!, cancellationToken);
                }
            }
            catch (Exception e) when (onFailure is not null && IsRowFailure(e, cancellationToken))
            {
                remaining.Add(partition);
                onFailure(new LicenseReadFailure(SerialOf(partition), e));
            }
        }

        if (remaining.Count == skipped.Count)
        {
            return;
        }

        try
        {
            var update = new TableEntity(MetaPartition, ReminderIndexRow) { [SkippedColumn] = SkippedText(remaining) };
            await licenses.UpdateEntityAsync(update, state.ETag, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (IsConflict(e) || e.Status == 404)
        {
            // Changed by another scan or a new rebuild since it was read: theirs stands; this one is tried again.
        }
    }

    private static Serial? SerialOf(string partitionKey) =>
        Serial.TryParse(TableKey.TryDecode(partitionKey), out var serial) ? serial : null;

    private static List<string> SkippedOf(TableEntity state) =>
        [.. (state.GetString(SkippedColumn) ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    private static string? SkippedText(List<string> skipped) => skipped.Count == 0 ? null : string.Join(' ', skipped);

    /// <summary>A record that cannot be understood: reading it again gives the same answer until someone corrects it.</summary>
    private static bool IsUnreadableRecord(Exception e) =>
        e is System.Text.Json.JsonException or InvalidDataException or NotSupportedException or FormatException;

    /// <summary>A failure that concerns one license's rows: storage that failed for good, or a record that cannot be read.</summary>
    private static bool IsRowFailure(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && (StorageFailures.IsStorageFailure(e) || e is System.Text.Json.JsonException or InvalidDataException or NotSupportedException or FormatException);

    /// <summary>The offsets as the index records them: "90,30".</summary>
    private static string OffsetsText(ReminderSchedule schedule) =>
        string.Join(',', schedule.Stages.Select(s => s.DaysBefore.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// A store that holds no license yet has nothing to rebuild: its index is built for this store's offsets from
    /// the start. A store that holds licenses but no record (written before the index recorded its offsets) is
    /// rebuilt once by the next scan.
    /// </summary>
    private async Task MarkNewStoreAsync(CancellationToken cancellationToken)
    {
        var state = await licenses.GetEntityIfExistsAsync<TableEntity>(MetaPartition, ReminderIndexRow, [BuiltForColumn], cancellationToken);
        if (state.HasValue)
        {
            return;
        }

        var filter = TableClient.CreateQueryFilter($"RowKey ge {LicenseEntities.SummaryRowKeyLower} and RowKey lt {LicenseEntities.SummaryRowKeyUpper}");
        var pages = licenses.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken).AsPages(pageSizeHint: 1);
        await foreach (var page in pages)
        {
            if (page.Values.Count > 0)
            {
                return;
            }

            if (page.ContinuationToken is null)
            {
                break;
            }
        }

        try
        {
            await licenses.AddEntityAsync(new TableEntity(MetaPartition, ReminderIndexRow) { [BuiltForColumn] = OffsetsText(reminders), [SinceColumn] = clock.GetCurrentInstant().ToUnixTimeTicks() }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Another instance recorded it first; a rebuild, if its offsets differ, is the next scan's.
        }
    }

    private static bool IsConflict(RequestFailedException e) => e.Status is 409 or 412;

    private async Task<StoredLicense?> ReadAsync(Serial serial, CancellationToken cancellationToken)
    {
        var response = await licenses.GetEntityIfExistsAsync<TableEntity>(
            LicenseEntities.PartitionKey(serial), LicenseEntities.SummaryRowKey(serial), cancellationToken: cancellationToken);
        if (!response.HasValue && oldLayoutRows
            && await LicenseLayoutMigration.MigrateAsync(licenses, LicenseEntities.PartitionKey(serial), cleanUp: false, cancellationToken))
        {
            // Found under the first layout's keys and moved now: every write starts from the current layout.
            response = await licenses.GetEntityIfExistsAsync<TableEntity>(
                LicenseEntities.PartitionKey(serial), LicenseEntities.SummaryRowKey(serial), cancellationToken: cancellationToken);
        }

        return response.HasValue ? LicenseEntities.ToStoredLicense(response.Value!) : null;
    }

    /// <summary>Whether the summary of <paramref name="serial"/> is stored (one point read of its version).</summary>
    private async Task<bool> IsStoredAsync(Serial serial, CancellationToken cancellationToken) =>
        (await licenses.GetEntityIfExistsAsync<TableEntity>(
            LicenseEntities.PartitionKey(serial), LicenseEntities.SummaryRowKey(serial), [LicenseEntities.VersionColumn], cancellationToken)).HasValue;

    private async Task<bool> TrySubmitAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken) =>
        await TryCommitAsync(actions, cancellationToken) is not null;

    /// <summary>The answers to the transaction's operations, in their order; null when it was refused (nothing written).</summary>
    private async Task<IReadOnlyList<Response>?> TryCommitAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            return (await licenses.SubmitTransactionAsync(actions, cancellationToken)).Value;
        }
        catch (RequestFailedException e) when (IsConflict(e))
        {
            // 409: the summary or this version's event row exists (another writer got there first);
            // 412: the summary changed since it was read. Either way nothing of this batch was written.
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 404 && oldLayoutRows)
        {
            // The summary was read under the first layout's keys (a listing): move it; the caller reads it again.
            await LicenseLayoutMigration.MigrateAsync(licenses, actions[0].Entity.PartitionKey, cleanUp: false, cancellationToken);
            return null;
        }
    }

    private async Task WriteIndexRowsAsync(Serial serial, IEnumerable<IndexKey> keys, long version, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            // Keys of the state about to be written: new but for a row an interrupted or losing write left ahead.
            await indexRows.InsertAsync(LicenseEntities.IndexRow(key, serial, version), cancellationToken);
        }
    }

    /// <summary>Makes the row exist with a version of at least <paramref name="version"/>; never lowers it.</summary>
    private async Task WriteIndexRowAsync(IndexKey key, Serial serial, long version, CancellationToken cancellationToken) =>
        await indexRows.WriteAsync(LicenseEntities.IndexRow(key, serial, version), cancellationToken);

    /// <summary>
    /// The licenses that the index rows matching <paramref name="filter"/> point to and still apply to, in row order.
    /// With <paramref name="onFailure"/>, a license that cannot be read is reported (in row order) and skipped;
    /// without, its error ends the listing.
    /// </summary>
    private IAsyncEnumerable<StoredLicense> ResolveIndexAsync(string filter, Action<LicenseReadFailure>? onFailure, CancellationToken cancellationToken) =>
        ResolveIndexAsync(filter, onFailure, null, trustConfirmed: false, cancellationToken);

    /// <summary>
    /// As <see cref="ResolveIndexAsync(string, Action{LicenseReadFailure}?, CancellationToken)"/>; with
    /// <paramref name="mayRemove"/>, the stale rows of each batch are removed only when it answers true just before;
    /// with <paramref name="trustConfirmed"/>, a confirmed reminder row gives its license without reading it (see
    /// <see cref="TryTrustConfirmed"/>).
    /// </summary>
    private async IAsyncEnumerable<StoredLicense> ResolveIndexAsync(string filter, Action<LicenseReadFailure>? onFailure, Func<CancellationToken, Task<bool>>? mayRemove, bool trustConfirmed, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = index.QueryAsync<TableEntity>(filter, select: trustConfirmed ? ConfirmedReminderColumns : IndexColumns, cancellationToken: cancellationToken);
        await foreach (var page in rows.AsPages())
        {
            foreach (var chunk in page.Values.Chunk(ParallelReads))
            {
                var resolved = await Task.WhenAll(chunk.Select(row => ResolveIndexRowAsync(row, onFailure is not null, cancellationToken, trustConfirmed)));
                var stale = resolved.Where(r => r.Stale is not null).Select(r => r.Stale!).ToList();
                if (stale.Count > 0 && (mayRemove is null || await mayRemove(cancellationToken)))
                {
                    await Task.WhenAll(stale.Select(row => indexRows.RemoveStaleAsync(row, cancellationToken)));
                }

                for (var i = 0; i < resolved.Length; i++)
                {
                    var (license, failure, _) = resolved[i];
                    if (failure is not null)
                    {
                        onFailure!(failure);
                    }
                    else if (license is not null)
                    {
                        yield return license;
                    }
                }
            }
        }
    }

    private async Task<(StoredLicense? License, LicenseReadFailure? Failure, TableEntity? Stale)> ResolveIndexRowAsync(TableEntity row, bool isolate, CancellationToken cancellationToken, bool trustConfirmed = false)
    {
        if (!Serial.TryParse(row.GetString(LicenseEntities.SerialColumn), out var serial))
        {
            return (null, null, null);
        }

        try
        {
            if (trustConfirmed && TryTrustConfirmed(row, serial) is { } confirmed && await ProveCurrentAsync(confirmed, cancellationToken) is { } current)
            {
                return (current, null, null);
            }

            var (license, stale) = await ResolveIndexRowAsync(row, serial, cancellationToken);
            return (license, null, stale);
        }
        catch (Exception e) when (isolate && IsRowFailure(e, cancellationToken))
        {
            return (null, new LicenseReadFailure(serial, e, LicenseIndex.TryReadExpiresKey(row.PartitionKey, row.RowKey, serial)), null);
        }
    }

    /// <summary>The license the row points to when the row applies to it; else, when the row may be removed, the row (stale).</summary>
    private async Task<(StoredLicense? License, TableEntity? Stale)> ResolveIndexRowAsync(TableEntity row, Serial serial, CancellationToken cancellationToken)
    {
        var stored = await ReadAsync(serial, cancellationToken);
        if (stored is null)
        {
            // Written ahead of an add that failed or is still under way: nothing to show, and not ours to remove.
            return (null, null);
        }

        var key = new IndexKey(row.PartitionKey, row.RowKey);
        if (LicenseIndex.KeysFor(stored.License, reminders).Contains(key))
        {
            return (stored, null);
        }

        // Stale: written ahead of a change that lost or crashed, or left by an interrupted clean-up.
        // A writer about to need it again would first raise its version above the stored one.
        return (null, WriteAheadRows.VersionOf(row) <= stored.Version ? row : null);
    }
}
