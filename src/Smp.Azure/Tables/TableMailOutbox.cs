using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="IMailOutbox"/> on Azure Table Storage: the whole outbox is one partition, so a message, its
/// "pending" marker and its claims are written in one entity group transaction (all or nothing). Mail volume
/// is bounded by the mail service's quota (tens a minute), far below one partition's throughput.
/// </summary>
/// <remarks>
/// Rows: <c>msg|ID</c> (the message and its delivery state, with a <c>Version</c> that grows on each update),
/// <c>due|LANE|TICKS|ID</c> (a pending or sending message's marker, keyed by its <see cref="MailLane"/> and the time it is due,
/// so a dispatch run queries only what is due now, earliest first, and only as many as it may send), <c>failed|ID</c> and
/// <c>superseded|ID</c> (so staff read the few messages that need them, not every message ever sent), and <c>claim|KEY</c>
/// (which message holds a claim, forever). A state change is one entity group transaction: the message under its ETag,
/// the markers the new state needs, and the removal of those only the state read needed (its due marker when the due
/// time moves, its failed marker when it leaves the failed state). So a crash leaves no marker behind and a writer that
/// loses the race writes nothing. Each marker records the message version it was written for; a reader removes a
/// marker as stale once the message has reached that version and no longer needs it (older code wrote markers ahead of
/// the message, see <see cref="WriteAheadRows"/>, and a pending marker under <c>pending|ID</c>, which the listing moves
/// to a due marker). A message that becomes sent gets <c>purge|TICKS|ID</c> (TICKS: when it was
/// queued) in the same transaction as its new state, so the row exists exactly while a sent message keeps its body;
/// the purge reads only the rows older than the retention and clears each body and removes its row in one
/// transaction again, so an interrupted purge is finished by the next run.
/// </remarks>
public sealed class TableMailOutbox : IMailOutbox
{
    public const string Partition = "mail";
    private const string MessagePrefix = "msg|";
    private const string DuePrefix = "due|";

    /// <summary>The pending markers' layout before due markers: one row per message, not sorted by time (read once, and moved).</summary>
    private const string LegacyPendingPrefix = "pending|";
    private const string FailedPrefix = "failed|";
    private const string SupersededPrefix = "superseded|";
    private const string ClaimPrefix = "claim|";
    private const string PurgePrefix = "purge|";
    private const int ContentChunkBytes = 60 * 1024;
    private const int MaxContentChunks = 14;
    private const int MaxEnqueueAttempts = 5;

    /// <summary>A marker's column: when its message is due (pending) or changed state (failed, superseded).</summary>
    private const string AtColumn = "At";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly TableClient table;
    private readonly WriteAheadRows markerRows;
    private readonly AsyncOnce created;
    private readonly Action<UnreadableOutboxMessage> onUnreadable;

    /// <param name="onUnreadable">
    /// Told of each message row that cannot be read while messages are listed (for the dispatcher, for staff, for the
    /// purge): the row is skipped and left in place for staff, and the messages around it go on.
    /// </param>
    public TableMailOutbox(TableServiceClient service, string tableName = "mailoutbox", Action<UnreadableOutboxMessage>? onUnreadable = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        table = service.GetTableClient(tableName);
        markerRows = new WriteAheadRows(table, EarlierDue, AtColumn);
        this.onUnreadable = onUnreadable ?? (_ => { });
        created = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    /// <summary>A transaction holds 100 operations: the message, its pending marker, and up to 98 claims.</summary>
    public int MaxClaimsPerMessage => 98;

    public async Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        ArgumentNullException.ThrowIfNull(claims);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        if (claims.Count > MaxClaimsPerMessage)
        {
            throw new ArgumentException($"A message carries at most {MaxClaimsPerMessage} claims.", nameof(claims));
        }

        await created.EnsureAsync(cancellationToken);
        var message = OutboxMessage.New(mail, kind, now, claims);
        for (var attempt = 0; attempt < MaxEnqueueAttempts; attempt++)
        {
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.Add, MessageEntity(message, version: 1)),
                new(TableTransactionActionType.Add, DueMarker(MailLanes.Of(kind), message.Id, version: 1, message.NextAttemptAt)),
            };
            actions.AddRange(claims.Distinct().Select(c => new TableTransactionAction(TableTransactionActionType.Add, ClaimEntity(c, message.Id))));
            try
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
                return new EnqueueResult.Enqueued();
            }
            catch (TableTransactionFailedException e) when (e.Status == 409)
            {
                if (await GetAsync(message.Id, cancellationToken) is not null)
                {
                    return new EnqueueResult.AlreadyEnqueued();
                }

                var taken = await FindClaimsAsync(claims, cancellationToken);
                if (taken.Count > 0)
                {
                    return new EnqueueResult.ClaimsTaken(taken);
                }

                // The conflicting rows were gone by the time we looked (should not happen: claims are never removed).
            }
        }

        throw new InvalidOperationException($"Mail {message.Id} could not be enqueued: its rows kept conflicting.");
    }

    public async Task<IReadOnlyDictionary<MailClaim, string>> FindClaimsAsync(IReadOnlyCollection<MailClaim> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        await created.EnsureAsync(cancellationToken);
        var found = new Dictionary<MailClaim, string>();
        foreach (var claim in claims.Distinct())
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, ClaimKey(claim), ["MailId"], cancellationToken);
            if (row.HasValue && row.Value!.GetString("MailId") is { } mailId)
            {
                found[claim] = mailId;
            }
        }

        return found;
    }

    public async Task<StoredOutboxMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!OutgoingMail.IsValidId(id))
        {
            return null;
        }

        await created.EnsureAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, MessagePrefix + id, cancellationToken: cancellationToken);
        return row.HasValue ? ToStored(row.Value!) : null;
    }

    public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken) =>
        ListDueAsync(now, max, lane: null, cancellationToken);

    public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken) =>
        ListDueAsync(now, max, (MailLane?)lane, cancellationToken);

    private async Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane? lane, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await created.EnsureAsync(cancellationToken);
        await MoveLegacyMarkersAsync(cancellationToken);
        var due = new List<StoredOutboxMessage>();
        MailLane[] lanes = lane is { } one ? [one] : Enum.GetValues<MailLane>();
        foreach (var l in lanes)
        {
            due.AddRange(await ListDueInLaneAsync(now, max, l, cancellationToken));
        }

        return [.. due.OrderBy(m => m.Message.NextAttemptAt).ThenBy(m => m.Message.CreatedAt).Take(max)];
    }

    /// <summary>
    /// Due markers sort by lane, then by the time their message is due, so a run queries the range of its lane up to now,
    /// a page of at most <paramref name="max"/>, and reads the messages those markers name until <paramref name="max"/>
    /// are found: a run's reads follow what it may send, not the backlog. Stale markers met on the way are removed.
    /// </summary>
    private async Task<IReadOnlyList<StoredOutboxMessage>> ListDueInLaneAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken)
    {
        var first = DueLanePrefix(lane);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {first} and RowKey lt {DueKeyBound(lane, now)}");
        var due = new List<StoredOutboxMessage>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken).AsPages())
        {
            foreach (var marker in page.Values)
            {
                var id = marker.RowKey[(marker.RowKey.LastIndexOf('|') + 1)..];
                if (!seen.Add(id) || !(await TryReadAsync(id, cancellationToken)).Readable(out var message) || message is null)
                {
                    continue; // An unreadable message is left in place, with its marker, for staff.
                }

                if (IsPendingState(message.Message.Status) && message.Message.NextAttemptAt <= now)
                {
                    due.Add(message);
                    if (due.Count >= max)
                    {
                        return due;
                    }

                    continue;
                }

                // Stale once the message has reached the marker's version and is no longer due at the marker's place
                // (a newer state, or a writer of the same version that lost); a newer writer may still be committing.
                var messageVersion = Token.Parse(message.ConcurrencyToken).Version;
                if (messageVersion >= WriteAheadRows.VersionOf(marker)
                    && (!IsPendingState(message.Message.Status) || !string.Equals(DueKey(message.Message), marker.RowKey, StringComparison.Ordinal)))
                {
                    await markerRows.RemoveStaleAsync(marker, cancellationToken);
                }
            }
        }

        return due;
    }

    /// <summary>
    /// Markers of the layout before due markers (<c>pending|ID</c>, unsorted) become due markers: for each, the message
    /// is read; a pending or sending message gets the due marker of its state, a marker of a version the message has not
    /// reached yet (a writer still committing) is kept as a due marker of that version and time, and the old marker is
    /// removed. Once none are left (after the first run over an outbox written by older code), this is one query
    /// returning nothing.
    /// </summary>
    private async Task MoveLegacyMarkersAsync(CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {LegacyPendingPrefix} and RowKey lt {LegacyPendingPrefix[..^1] + "}"}");
        var legacy = new List<TableEntity>();
        await foreach (var marker in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            legacy.Add(marker);
        }

        foreach (var marker in legacy)
        {
            var id = marker.RowKey[LegacyPendingPrefix.Length..];
            if (!(await TryReadAsync(id, cancellationToken)).Readable(out var message) || message is null)
            {
                continue; // Left as it is: nothing tells its lane.
            }

            var lane = MailLanes.Of(message.Message.Kind);
            var messageVersion = Token.Parse(message.ConcurrencyToken).Version;
            var markerVersion = WriteAheadRows.VersionOf(marker);
            if (IsPendingState(message.Message.Status))
            {
                await WriteDueMarkerAsync(DueMarker(lane, id, messageVersion, message.Message.NextAttemptAt), cancellationToken);
            }

            if (markerVersion > messageVersion)
            {
                var at = marker.GetDateTimeOffset(AtColumn) is { } a ? Instant.FromDateTimeOffset(a) : message.Message.NextAttemptAt;
                await WriteDueMarkerAsync(DueMarker(lane, id, markerVersion, at), cancellationToken);
            }

            await markerRows.RemoveStaleAsync(marker, cancellationToken);
        }
    }

    /// <summary>Step 1 for a due marker: its key is new in almost every change (the due time moved), so it is added blindly, and read only on a conflict.</summary>
    private async Task WriteDueMarkerAsync(TableEntity marker, CancellationToken cancellationToken)
    {
        try
        {
            await table.AddEntityAsync(marker, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            await markerRows.WriteAsync(marker, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<StoredOutboxMessage>> ListFailedAsync(CancellationToken cancellationToken)
    {
        var failed = new List<StoredOutboxMessage>();
        await foreach (var message in ResolveMarkersAsync(FailedPrefix, s => s == MailStatus.Failed, _ => true, cancellationToken))
        {
            failed.Add(message);
        }

        return [.. failed.OrderByDescending(m => m.Message.NextAttemptAt)];
    }

    public async Task<IReadOnlyList<StoredOutboxMessage>> ListSupersededAsync(CancellationToken cancellationToken)
    {
        var superseded = new List<StoredOutboxMessage>();
        await foreach (var message in ResolveMarkersAsync(SupersededPrefix, s => s == MailStatus.Superseded, _ => true, cancellationToken))
        {
            superseded.Add(message);
        }

        return [.. superseded.OrderByDescending(m => m.Message.NextAttemptAt)];
    }

    public async Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        if (!string.Equals(current.Message.Id, updated.Id, StringComparison.Ordinal))
        {
            throw new ArgumentException("An update cannot change a message's id.", nameof(updated));
        }

        await created.EnsureAsync(cancellationToken);
        var token = Token.Parse(current.ConcurrencyToken);
        var version = token.Version + 1;

        // One entity group transaction (the outbox is one partition): the state, only if nobody changed it since it
        // was read, with the markers the new state needs and without those only the state read needed. All or nothing,
        // so no crash leaves a marker behind and a writer that loses the race writes nothing.
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.UpdateReplace, MessageEntity(updated, version), token.ETag),
        };
        var dueKey = IsPendingState(updated.Status) ? DueKey(updated) : null;
        if (dueKey is not null)
        {
            actions.Add(new(TableTransactionActionType.UpsertReplace, DueMarker(MailLanes.Of(updated.Kind), updated.Id, version, updated.NextAttemptAt)));
        }
        else if (updated.Status == MailStatus.Failed)
        {
            actions.Add(new(TableTransactionActionType.UpsertReplace, Marker(FailedPrefix, updated.Id, version, updated.NextAttemptAt)));
        }
        else if (updated.Status == MailStatus.Superseded)
        {
            // A superseded message is final: its marker is never removed.
            actions.Add(new(TableTransactionActionType.UpsertReplace, Marker(SupersededPrefix, updated.Id, version, updated.NextAttemptAt)));
        }

        if (updated.Status == MailStatus.Sent && !updated.BodyPurged)
        {
            actions.Add(new(TableTransactionActionType.UpsertReplace, PurgeMarker(updated, version)));
        }

        // The ETag matched, so the state read is the stored one and these are its markers (the due marker, unless the
        // new state is due at the same place; the failed marker when leaving the failed state).
        if (IsPendingState(current.Message.Status) && DueKey(current.Message) is var readKey && !string.Equals(readKey, dueKey, StringComparison.Ordinal))
        {
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(Partition, readKey), ETag.All));
        }

        if (current.Message.Status == MailStatus.Failed && updated.Status != MailStatus.Failed)
        {
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(Partition, FailedPrefix + updated.Id), ETag.All));
        }

        while (true)
        {
            try
            {
                var results = await table.SubmitTransactionAsync(actions, cancellationToken);
                return new StoredOutboxMessage(updated, new Token(version, results.Value[0].Headers.ETag ?? default).ToString());
            }
            catch (TableTransactionFailedException e) when (e.Status == 404 && e.FailedTransactionActionIndex is { } index && index > 0 && actions[index].ActionType == TableTransactionActionType.Delete)
            {
                // A marker of the state read is not there (an outbox written by older code keeps it under its old key,
                // which the listing moves): nothing to remove.
                actions.RemoveAt(index);
            }
            catch (RequestFailedException e) when (e.Status is 412 or 404)
            {
                return null;
            }
        }
    }

    public async Task<int> PurgeSentBodiesAsync(Instant queuedBefore, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        await created.EnsureAsync(cancellationToken);

        // Purge rows sort by the time their message was queued, so only the rows that are due are read.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {PurgePrefix} and RowKey lt {PurgeKeyPrefix(queuedBefore)}");
        var due = new List<TableEntity>();
        await foreach (var marker in table.QueryAsync<TableEntity>(filter, maxPerPage: max, cancellationToken: cancellationToken))
        {
            due.Add(marker);
            if (due.Count >= max)
            {
                break;
            }
        }

        var purged = 0;
        foreach (var marker in due)
        {
            var id = marker.RowKey[(marker.RowKey.LastIndexOf('|') + 1)..];
            if (!(await TryReadAsync(id, cancellationToken)).Readable(out var stored))
            {
                continue; // Left in place, with its row, for staff; the next run skips it again.
            }

            if (stored is { Message: { Status: MailStatus.Sent, BodyPurged: false } message })
            {
                // The body goes and the row that found it goes with it, or neither: a failure leaves both for the next run.
                var token = Token.Parse(stored.ConcurrencyToken);
                try
                {
                    await table.SubmitTransactionAsync(
                        [
                            new TableTransactionAction(TableTransactionActionType.UpdateReplace, MessageEntity(message.WithoutBody(), token.Version + 1), token.ETag),
                            new TableTransactionAction(TableTransactionActionType.Delete, marker, ETag.All),
                        ],
                        cancellationToken);
                    purged++;
                }
                catch (RequestFailedException e) when (e.Status is 412 or 404)
                {
                    // Changed or purged since it was read: the next run looks again.
                }

                continue;
            }

            // Purged already, or not a sent message (the row is written only with the sent state): nothing to keep it for.
            try
            {
                await table.DeleteEntityAsync(marker, ETag.All, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // Removed by a concurrent run.
            }
        }

        return purged;
    }

    private static bool IsPendingState(MailStatus status) => status is MailStatus.Pending or MailStatus.Sending;

    private async IAsyncEnumerable<StoredOutboxMessage> ResolveMarkersAsync(string prefix, Func<MailStatus, bool> wanted, Func<TableEntity, bool> markerWanted, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {prefix} and RowKey lt {prefix[..^1] + "}"}");
        var markers = new List<TableEntity>();
        await foreach (var marker in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (markerWanted(marker))
            {
                markers.Add(marker);
            }
        }

        foreach (var marker in markers.OrderBy(m => m.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue))
        {
            var id = marker.RowKey[prefix.Length..];
            if (!(await TryReadAsync(id, cancellationToken)).Readable(out var message))
            {
                continue; // Left in place, with its marker, for staff: one bad row must not stop the others.
            }

            var markerVersion = WriteAheadRows.VersionOf(marker);
            if (message is not null && wanted(message.Message.Status))
            {
                yield return message;
                continue;
            }

            // Stale only once the message has reached the marker's version: a newer writer may still be committing.
            var messageVersion = message is null ? 0 : Token.Parse(message.ConcurrencyToken).Version;
            if (message is not null && messageVersion >= markerVersion)
            {
                await markerRows.RemoveStaleAsync(marker, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Reads a message for a listing: a row that cannot be read (an unknown status written by another version, a
    /// missing content chunk, bad JSON, an address that no longer parses) is reported and skipped, never thrown.
    /// </summary>
    private async Task<ReadAttempt> TryReadAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return new ReadAttempt(true, await GetAsync(id, cancellationToken));
        }
        catch (Exception e) when (IsUnreadableRecord(e))
        {
            // The type only: the message of a parse failure may quote what the row holds (addresses, body).
            onUnreadable(new UnreadableOutboxMessage(id, e.GetType().Name));
            return new ReadAttempt(false, null);
        }
    }

    private static bool IsUnreadableRecord(Exception e) =>
        e is JsonException or InvalidDataException or NotSupportedException or FormatException or ArgumentException;

    private readonly record struct ReadAttempt(bool Ok, StoredOutboxMessage? Message)
    {
        public bool Readable(out StoredOutboxMessage? message)
        {
            message = Message;
            return Ok;
        }
    }

    /// <summary>
    /// Of two markers of one version (two writers that read the same message, at most one of which commits), the one due
    /// earlier stays: the message is then never listed later than it is due; listed early, it is read and left for later.
    /// </summary>
    private static bool EarlierDue(TableEntity stored, TableEntity written) =>
        (written.GetDateTimeOffset(AtColumn) ?? DateTimeOffset.MaxValue) < (stored.GetDateTimeOffset(AtColumn) ?? DateTimeOffset.MaxValue);

    /// <summary><c>due|LANE|</c>: the start of a lane's due markers.</summary>
    private static string DueLanePrefix(MailLane lane) => $"{DuePrefix}{lane}|";

    /// <summary><c>due|LANE|TICKS|ID</c>: Unix ticks of when the message is due, zero-padded so that keys sort by time.</summary>
    private static string DueKey(MailLane lane, Instant at, string id) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{DueLanePrefix(lane)}{Math.Max(0, at.ToUnixTimeTicks()):D19}|{id}");

    private static string DueKey(OutboxMessage message) => DueKey(MailLanes.Of(message.Kind), message.NextAttemptAt, message.Id);

    /// <summary>The first key after every due marker of <paramref name="lane"/> due at or before <paramref name="now"/>.</summary>
    private static string DueKeyBound(MailLane lane, Instant now) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{DueLanePrefix(lane)}{Math.Max(0, now.ToUnixTimeTicks()) + 1:D19}|");

    private static TableEntity DueMarker(MailLane lane, string id, long version, Instant at) =>
        Marker(DueKey(lane, at, id), version, at, lane);

    /// <summary><c>purge|TICKS|</c>: Unix ticks of when the message was queued, zero-padded so that keys sort by time.</summary>
    private static string PurgeKeyPrefix(Instant queuedAt) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{PurgePrefix}{Math.Max(0, queuedAt.ToUnixTimeTicks()):D19}|");

    private static TableEntity PurgeMarker(OutboxMessage message, long version) =>
        new(Partition, PurgeKeyPrefix(message.CreatedAt) + message.Id) { ["Version"] = version };

    private static string ClaimKey(MailClaim claim) => ClaimPrefix + TableKey.Encode(claim.Key);

    private static TableEntity ClaimEntity(MailClaim claim, string mailId) =>
        new(Partition, ClaimKey(claim)) { ["MailId"] = mailId, ["Claim"] = claim.Key };

    private static TableEntity Marker(string prefix, string id, long version, Instant at) => Marker(prefix + id, version, at, lane: null);

    private static TableEntity Marker(string rowKey, long version, Instant at, MailLane? lane)
    {
        var marker = new TableEntity(Partition, rowKey) { [WriteAheadRows.VersionColumn] = version, [AtColumn] = at.ToDateTimeOffset() };
        if (lane is { } l)
        {
            marker["Lane"] = l.ToString();
        }

        return marker;
    }

    private static TableEntity MessageEntity(OutboxMessage message, long version)
    {
        var entity = new TableEntity(Partition, MessagePrefix + message.Id)
        {
            ["Version"] = version,
            ["Kind"] = message.Kind,
            ["Status"] = message.Status.ToString(),
            ["Attempts"] = message.Attempts,
            ["CreatedAt"] = message.CreatedAt.ToDateTimeOffset(),
            ["NextAttemptAt"] = message.NextAttemptAt.ToDateTimeOffset(),
            ["LastError"] = Truncate(message.LastError, 2000),
            ["SentAt"] = message.SentAt?.ToDateTimeOffset(),
            ["OutcomeUnknown"] = message.OutcomeUnknown,
            ["FirstAttemptAt"] = message.FirstAttemptAt?.ToDateTimeOffset(),
            ["HandOverRecorded"] = message.HandedOverAt is not null,
            ["HandedOverAt"] = message.HandedOverAt?.ToDateTimeOffset(),
            ["UnknownAnswerAt"] = message.UnknownAnswerAt?.ToDateTimeOffset(),
            ["Takeovers"] = message.Takeovers,
            ["Note"] = Truncate(message.Note, 2000),
            ["Subject"] = Truncate(message.Mail.Subject, 1000),
            ["To"] = Truncate(string.Join(", ", message.Mail.To.Select(a => a.Value)), 4000),
            ["BodyPurged"] = message.BodyPurged,
        };

        var content = JsonSerializer.SerializeToUtf8Bytes(StoredMail.Of(message.Mail, message.Claims), Json);
        var chunks = content.Chunk(ContentChunkBytes).ToList();
        if (chunks.Count > MaxContentChunks)
        {
            throw new ArgumentException($"Mail {message.Id} is larger than an outbox row holds ({MaxContentChunks * ContentChunkBytes} bytes).", nameof(message));
        }

        entity["ContentChunks"] = chunks.Count;
        for (var i = 0; i < chunks.Count; i++)
        {
            entity[$"Content{i}"] = chunks[i];
        }

        return entity;
    }

    private static StoredOutboxMessage ToStored(TableEntity entity)
    {
        var chunks = entity.GetInt32("ContentChunks") ?? 0;
        var bytes = new List<byte>();
        for (var i = 0; i < chunks; i++)
        {
            bytes.AddRange(entity.GetBinary($"Content{i}") ?? throw new InvalidDataException($"Outbox row {entity.RowKey} lacks content chunk {i}."));
        }

        var content = JsonSerializer.Deserialize<StoredMail>(bytes.ToArray(), Json)
            ?? throw new InvalidDataException($"Outbox row {entity.RowKey} has no content.");
        var status = StatusOf(entity);
        var message = new OutboxMessage(
            content.ToMail(),
            entity.GetString("Kind") ?? string.Empty,
            status,
            entity.GetInt32("Attempts") ?? 0,
            Instant.FromDateTimeOffset(entity.GetDateTimeOffset("CreatedAt") ?? default),
            Instant.FromDateTimeOffset(entity.GetDateTimeOffset("NextAttemptAt") ?? default),
            entity.GetString("LastError"),
            entity.GetDateTimeOffset("SentAt") is { } sent ? Instant.FromDateTimeOffset(sent) : null)
        {
            Claims = [.. (content.Claims ?? []).Select(c => new MailClaim(c))],
            // Rows stored by code that did not record hand-overs (no HandOverRecorded): a lease may have been handed over,
            // and a message pending or failed after an attempt may have had its outcome lost without being marked so
            // (older code cleared the mark on a later answer); all are in doubt: asked about once before they are sent.
            OutcomeUnknown = (entity.GetBoolean("OutcomeUnknown") ?? false)
                || (entity.GetBoolean("HandOverRecorded") is null
                    && (status == MailStatus.Sending || (status is MailStatus.Failed or MailStatus.Pending && (entity.GetInt32("Attempts") ?? 0) > 0))),
            FirstAttemptAt = entity.GetDateTimeOffset("FirstAttemptAt") is { } first ? Instant.FromDateTimeOffset(first) : null,
            HandedOverAt = entity.GetDateTimeOffset("HandedOverAt") is { } handedOver ? Instant.FromDateTimeOffset(handedOver) : null,
            UnknownAnswerAt = entity.GetDateTimeOffset("UnknownAnswerAt") is { } unknown ? Instant.FromDateTimeOffset(unknown) : null,
            Takeovers = entity.GetInt32("Takeovers") ?? 0,
            Note = entity.GetString("Note"),
            BodyPurged = entity.GetBoolean("BodyPurged") ?? false,
        };
        return new StoredOutboxMessage(message, new Token(entity.GetInt64("Version") ?? 1, entity.ETag).ToString());
    }

    private static MailStatus StatusOf(TableEntity entity)
    {
        var text = entity.GetString("Status") ?? nameof(MailStatus.Pending);
        return Enum.TryParse<MailStatus>(text, ignoreCase: false, out var status) && Enum.IsDefined(status) && !char.IsAsciiDigit(text[0])
            ? status
            : throw new InvalidDataException($"Outbox row {entity.RowKey} has a status this version does not know.");
    }

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];

    /// <summary>
    /// The message's stored form: what a transport needs to send it again, exactly, and the claims it covers (absent
    /// from messages stored before they were kept).
    /// </summary>
    private sealed record StoredMail(string Id, string From, string[] To, string? ReplyTo, string Subject, string PlainText, string Html, string[]? Claims = null)
    {
        public static StoredMail Of(OutgoingMail mail, IReadOnlyList<MailClaim> claims) =>
            new(mail.Id, mail.From.Value, [.. mail.To.Select(a => a.Value)], mail.ReplyTo?.Value, mail.Subject, mail.PlainText, mail.Html, [.. claims.Select(c => c.Key)]);

        public OutgoingMail ToMail() => new(
            Id,
            EmailAddress.Parse(From),
            [.. To.Select(EmailAddress.Parse)],
            ReplyTo is null ? null : EmailAddress.Parse(ReplyTo),
            Subject,
            PlainText,
            Html);
    }

    /// <summary>The concurrency token handed to callers: the message version and its ETag.</summary>
    private readonly record struct Token(long Version, ETag ETag)
    {
        public static Token Parse(string token)
        {
            var separator = token.IndexOf(' ', StringComparison.Ordinal);
            return separator > 0 && long.TryParse(token.AsSpan(0, separator), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
                ? new Token(version, new ETag(token[(separator + 1)..]))
                : throw new ArgumentException("Not an outbox concurrency token.", nameof(token));
        }

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Version} {ETag}");
    }
}
