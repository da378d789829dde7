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
/// <c>pending|ID</c> (with the time the message is due and its <see cref="MailLane"/>), <c>failed|ID</c> and <c>superseded|ID</c> (markers, so the dispatcher and staff read the few
/// messages that need them, not every message ever sent), and <c>claim|KEY</c> (which message holds a claim, forever). A state
/// change writes the markers the new state needs first, then the message under its ETag (a single operation,
/// which Azurite checks too), then removes markers the new state no longer needs. Each marker records the
/// message version it was written for; readers treat a marker as stale only when the message's version has
/// reached it and its state disagrees, so a crash between steps loses no message and a late clean-up never
/// removes a marker a newer state needs. Markers follow the protocol of the license index (<see cref="WriteAheadRows"/>): a
/// marker's version is never lowered, so a writer that read an older message (and will lose) cannot overwrite a newer
/// state's marker; of two markers of one version the one due earlier stays. A message that becomes sent gets <c>purge|TICKS|ID</c> (TICKS: when it was
/// queued) in the same transaction as its new state, so the row exists exactly while a sent message keeps its body;
/// the purge reads only the rows older than the retention and clears each body and removes its row in one
/// transaction again, so an interrupted purge is finished by the next run.
/// </remarks>
public sealed class TableMailOutbox : IMailOutbox
{
    public const string Partition = "mail";
    private const string MessagePrefix = "msg|";
    private const string PendingPrefix = "pending|";
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
                new(TableTransactionActionType.Add, Marker(PendingPrefix, message.Id, version: 1, message.NextAttemptAt, MailLanes.Of(kind))),
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
        var due = new List<StoredOutboxMessage>();
        // Markers carry the time their message is due and its lane, so only messages of the lane due now are read,
        // earliest first, until `max` are found: a run's cost follows what it may send, not the backlog. A marker
        // written before markers carried the lane is read for either lane; its message's kind decides.
        var dueMarkers = ResolveMarkersAsync(
            PendingPrefix,
            IsPendingState,
            m => (m.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue) <= now.ToDateTimeOffset()
                && (lane is null || m.GetString("Lane") is not { } markerLane || markerLane == lane.Value.ToString()),
            cancellationToken);
        await foreach (var message in dueMarkers)
        {
            if (message.Message.NextAttemptAt <= now && (lane is null || MailLanes.Of(message.Message.Kind) == lane))
            {
                due.Add(message);
                if (due.Count >= max)
                {
                    break;
                }
            }
        }

        return [.. due.OrderBy(m => m.Message.NextAttemptAt).ThenBy(m => m.Message.CreatedAt).Take(max)];
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

        // 1. Markers the new state needs, before the state itself; never over a marker a newer state wrote.
        if (IsPendingState(updated.Status))
        {
            await markerRows.WriteAsync(Marker(PendingPrefix, updated.Id, version, updated.NextAttemptAt, MailLanes.Of(updated.Kind)), cancellationToken);
        }
        else if (updated.Status == MailStatus.Failed)
        {
            await markerRows.WriteAsync(Marker(FailedPrefix, updated.Id, version, updated.NextAttemptAt), cancellationToken);
        }
        else if (updated.Status == MailStatus.Superseded)
        {
            await markerRows.WriteAsync(Marker(SupersededPrefix, updated.Id, version, updated.NextAttemptAt), cancellationToken);
        }

        // 2. The state, only if nobody changed it since it was read. A sent message's purge row goes with it, atomically.
        Response response;
        try
        {
            if (updated.Status == MailStatus.Sent && !updated.BodyPurged)
            {
                var results = await table.SubmitTransactionAsync(
                    [
                        new TableTransactionAction(TableTransactionActionType.UpdateReplace, MessageEntity(updated, version), token.ETag),
                        new TableTransactionAction(TableTransactionActionType.UpsertReplace, PurgeMarker(updated, version)),
                    ],
                    cancellationToken);
                response = results.Value[0];
            }
            else
            {
                response = await table.UpdateEntityAsync(MessageEntity(updated, version), token.ETag, TableUpdateMode.Replace, cancellationToken);
            }
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return null;
        }

        // 3. Markers only the old state needed. Best effort: a marker left behind is recognised as stale.
        try
        {
            if (!IsPendingState(updated.Status))
            {
                await RetireMarkerAsync(PendingPrefix, updated.Id, version, cancellationToken);
            }

            if (updated.Status != MailStatus.Failed)
            {
                await RetireMarkerAsync(FailedPrefix, updated.Id, version, cancellationToken);
            }

            // A superseded message is final: its marker is never retired.
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            // The new state is committed: report it. A marker left behind is recognised as stale and removed by readers.
        }

        return new StoredOutboxMessage(updated, new Token(version, response.Headers.ETag ?? default).ToString());
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

    private Task RetireMarkerAsync(string prefix, string id, long version, CancellationToken cancellationToken) =>
        markerRows.RetireAsync(Partition, prefix + id, version, cancellationToken);

    /// <summary>
    /// Of two markers of one version (two writers that read the same message, at most one of which commits), the one due
    /// earlier stays: the message is then never listed later than it is due; listed early, it is read and left for later.
    /// </summary>
    private static bool EarlierDue(TableEntity stored, TableEntity written) =>
        (written.GetDateTimeOffset(AtColumn) ?? DateTimeOffset.MaxValue) < (stored.GetDateTimeOffset(AtColumn) ?? DateTimeOffset.MaxValue);

    /// <summary><c>purge|TICKS|</c>: Unix ticks of when the message was queued, zero-padded so that keys sort by time.</summary>
    private static string PurgeKeyPrefix(Instant queuedAt) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{PurgePrefix}{Math.Max(0, queuedAt.ToUnixTimeTicks()):D19}|");

    private static TableEntity PurgeMarker(OutboxMessage message, long version) =>
        new(Partition, PurgeKeyPrefix(message.CreatedAt) + message.Id) { ["Version"] = version };

    private static string ClaimKey(MailClaim claim) => ClaimPrefix + TableKey.Encode(claim.Key);

    private static TableEntity ClaimEntity(MailClaim claim, string mailId) =>
        new(Partition, ClaimKey(claim)) { ["MailId"] = mailId, ["Claim"] = claim.Key };

    private static TableEntity Marker(string prefix, string id, long version, Instant at, MailLane? lane = null)
    {
        var marker = new TableEntity(Partition, prefix + id) { [WriteAheadRows.VersionColumn] = version, [AtColumn] = at.ToDateTimeOffset() };
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
        var message = new OutboxMessage(
            content.ToMail(),
            entity.GetString("Kind") ?? string.Empty,
            StatusOf(entity),
            entity.GetInt32("Attempts") ?? 0,
            Instant.FromDateTimeOffset(entity.GetDateTimeOffset("CreatedAt") ?? default),
            Instant.FromDateTimeOffset(entity.GetDateTimeOffset("NextAttemptAt") ?? default),
            entity.GetString("LastError"),
            entity.GetDateTimeOffset("SentAt") is { } sent ? Instant.FromDateTimeOffset(sent) : null)
        {
            Claims = [.. (content.Claims ?? []).Select(c => new MailClaim(c))],
            OutcomeUnknown = entity.GetBoolean("OutcomeUnknown") ?? false,
            FirstAttemptAt = entity.GetDateTimeOffset("FirstAttemptAt") is { } first ? Instant.FromDateTimeOffset(first) : null,
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
