using Azure;
using Azure.Data.Tables;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Requests;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="ICustomerRequestQueue"/> on Table Storage: one row per request, partitioned by business day and keyed
/// by what it asks, so recording the same request twice is one row (the second insert conflicts). A row is marked
/// done under its ETag once acted on and removed with its day by <see cref="PurgeBeforeAsync"/>; a row still pending
/// is never purged. A failed attempt is counted on the row (<c>FailedAttempts</c>) with the time of the next one
/// (<c>NextAttemptAt</c>), or the row is marked given up. A row that cannot be read is removed when listed.
/// </summary>
public sealed class TableCustomerRequestQueue : ICustomerRequestQueue
{
    private const string Pending = "Pending";
    private const string Done = "Done";
    private const string GivenUp = "GivenUp";
    private readonly TableClient table;
    private readonly AsyncOnce created;

    public TableCustomerRequestQueue(TableServiceClient service, string tableName = "customerrequests")
    {
        ArgumentNullException.ThrowIfNull(service);
        table = service.GetTableClient(tableName);
        created = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public async Task<bool> RecordAsync(CustomerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await created.EnsureAsync(cancellationToken);
        var entity = NewRow(request);
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false; // The same request, recorded before (or by this call, whose answer was lost).
        }
    }

    /// <summary>
    /// One conditional write per attempt, so a crash between any two leaves either the row as it was or the staff's
    /// request recorded whole; a row changed between the read and the write (another run acted on it, or another
    /// person asked) is read again.
    /// </summary>
    public async Task<bool> RecordFromStaffAsync(CustomerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var staff = request with { FromStaff = true, StaffResend = false };
        await created.EnsureAsync(cancellationToken);
        var partition = LocalDatePattern.Iso.Format(staff.Day);
        var rowKey = TableKey.Encode(staff.Key);
        for (var attempt = 0; attempt < MaxStaffAttempts; attempt++)
        {
            if (await RecordAsync(staff, cancellationToken))
            {
                return true;
            }

            var found = await table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, cancellationToken: cancellationToken);
            if (!found.HasValue || found.Value is not { } existing)
            {
                continue; // Purged since the insert conflicted: insert again.
            }

            if (existing.GetBoolean("FromStaff") == true)
            {
                return false; // A staff request for the same thing that day: acted on once.
            }

            try
            {
                if (existing.GetString("Status") == Pending)
                {
                    // Not acted on yet: the staff's now, with the same mail ids, so a run acting on it meanwhile
                    // (under the ETag this write changes) sends no second copy; its limits no longer hold it back,
                    // and neither do the anonymous ask's failed attempts: the staff's request starts with its own.
                    var takeover = new TableEntity(existing)
                    {
                        ["Actor"] = staff.Actor,
                        ["CorrelationId"] = staff.CorrelationId,
                        ["ActorId"] = staff.ActorId,
                        ["FromStaff"] = true,
                    };
                    takeover.Remove("FailedAttempts");
                    takeover.Remove("NextAttemptAt");
                    takeover.Remove("odata.etag");
                    await table.UpdateEntityAsync(takeover, existing.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    // Acted on (refused by the limits, or mailed) or given up: recorded again, pending, as a new ask
                    // of the staff's with mail ids of its own.
                    await table.UpdateEntityAsync(NewRow(staff with { StaffResend = true }), existing.ETag, TableUpdateMode.Replace, cancellationToken);
                }

                return true;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                // Changed or purged since it was read: read it again.
            }
        }

        throw new InvalidOperationException($"The staff's {staff.Kind} request could not be recorded: its row kept changing.");
    }

    private const int MaxStaffAttempts = 8;

    private static TableEntity NewRow(CustomerRequest request) =>
        new(LocalDatePattern.Iso.Format(request.Day), TableKey.Encode(request.Key))
        {
            ["Kind"] = request.Kind,
            ["Serial"] = request.Serial.Value,
            ["Version"] = request.Version,
            ["Scope"] = request.Scope == QuoteScope.Customer ? "customer" : "license",
            ["Actor"] = request.Actor,
            ["CorrelationId"] = request.CorrelationId,
            ["ActorId"] = request.ActorId,
            ["FromStaff"] = request.FromStaff ? true : null,
            ["StaffResend"] = request.StaffResend ? true : null,
            ["Status"] = Pending,
        };

    public Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(NodaTime.Instant now, int max, CancellationToken cancellationToken) =>
        ListPendingAsync(now, max, static _ => { }, cancellationToken);

    public Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(NodaTime.Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, CancellationToken cancellationToken) =>
        ListPendingAsync(now, max, onUnreadable, static _ => { }, cancellationToken);

    public async Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(NodaTime.Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, Action<PendingBacklog> onBacklog, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onUnreadable);
        ArgumentNullException.ThrowIfNull(onBacklog);
        await created.EnsureAsync(cancellationToken);
        var pendingCount = 0;
        NodaTime.LocalDate? oldestDay = null;
        var due = new List<(bool Tried, NodaTime.Instant At, PendingCustomerRequest Pending)>();
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Status eq {Pending}"), cancellationToken: cancellationToken))
        {
            // A row never tried has no next attempt and is due. Pending rows are few (the daily limits bound them and
            // a request is given up after a bounded number of attempts), so the due ones are picked here.
            PendingCustomerRequest pending;
            NodaTime.Instant? retryAt;
            try
            {
                (retryAt, pending) = Read(entity);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A row no version of the app could act on: it would stay pending forever and, thrown, stop every
                // other request. Removed (under its ETag, so a row rewritten meanwhile stays) and reported.
                await RemoveUnreadableAsync(entity, cancellationToken);
                onUnreadable(new UnreadableCustomerRequest(entity.PartitionKey, entity.RowKey, e.GetType().Name));
                continue;
            }

            pendingCount++;
            oldestDay = oldestDay is { } oldest && oldest <= pending.Request.Day ? oldest : pending.Request.Day;
            if (retryAt is not { } next)
            {
                // Never tried: due now, in the order the requests were recorded (the row's timestamp, which storage
                // sets and no caller chooses; rows written by any earlier version have one too).
                due.Add((false, entity.Timestamp is { } recorded ? NodaTime.Instant.FromDateTimeOffset(recorded) : NodaTime.Instant.MinValue, pending));
            }
            else if (next <= now)
            {
                due.Add((true, next, pending));
            }
        }

        onBacklog(new PendingBacklog(pendingCount, oldestDay));

        // Requests never tried first, first come, first served: a request made later (junk included) never pushes
        // back one made earlier, whatever its key. Then those failed before, due longest first: requests failing
        // again never take the places of the ones behind them.
        return [.. due.OrderBy(d => d.Tried).ThenBy(d => d.At).Take(max).Select(d => d.Pending)];
    }

    private static (NodaTime.Instant? RetryAt, PendingCustomerRequest Pending) Read(TableEntity entity)
    {
        var retryAt = entity.GetDateTimeOffset("NextAttemptAt") is { } next ? NodaTime.Instant.FromDateTimeOffset(next) : (NodaTime.Instant?)null;
        return (retryAt, new PendingCustomerRequest(
            new CustomerRequest(
                entity.GetString("Kind"),
                Serial.Parse(entity.GetString("Serial")),
                entity.GetString("Version"),
                entity.GetString("Scope") == "customer" ? QuoteScope.Customer : QuoteScope.License,
                LocalDatePattern.Iso.Parse(entity.PartitionKey).Value,
                entity.GetString("Actor"),
                entity.GetString("CorrelationId"),
                entity.GetString("ActorId"),
                entity.GetBoolean("FromStaff") ?? false,
                entity.GetBoolean("StaffResend") ?? false),
            entity.ETag.ToString(),
            entity.GetInt32("FailedAttempts") ?? 0));
    }

    private async Task RemoveUnreadableAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Removed or rewritten by another run since it was read: that outcome stands.
        }
    }

    public async Task MarkDoneAsync(PendingCustomerRequest pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        await created.EnsureAsync(cancellationToken);
        var entity = new TableEntity(LocalDatePattern.Iso.Format(pending.Request.Day), TableKey.Encode(pending.Request.Key)) { ["Status"] = Done };
        try
        {
            await table.UpdateEntityAsync(entity, new ETag(pending.ETag), TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Marked done by another run (or purged): nothing left to do.
        }
    }

    public async Task RecordFailureAsync(PendingCustomerRequest pending, NodaTime.Instant? retryAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        await created.EnsureAsync(cancellationToken);
        var entity = new TableEntity(LocalDatePattern.Iso.Format(pending.Request.Day), TableKey.Encode(pending.Request.Key))
        {
            ["FailedAttempts"] = pending.FailedAttempts + 1,
        };
        if (retryAt is { } next)
        {
            entity["NextAttemptAt"] = next.ToDateTimeOffset();
        }
        else
        {
            entity["Status"] = GivenUp;
        }

        try
        {
            await table.UpdateEntityAsync(entity, new ETag(pending.ETag), TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Acted on by another run since it was listed (or purged): its outcome stands.
        }
    }

    public async Task<int> PurgeBeforeAsync(NodaTime.LocalDate day, CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        // Only rows acted on or given up: a pending request waits for the background work whatever its day.
        return await TablePurge.PartitionsBeforeAsync(table, LocalDatePattern.Iso.Format(day), cancellationToken, TableClient.CreateQueryFilter($"Status ne {Pending}"));
    }

    public async Task<int> PurgeBeforeAsync(NodaTime.LocalDate day, NodaTime.LocalDate quotesFrom, CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        // As above, but quote requests acted on stay from quotesFrom on, for the renewals desk's digest.
        var others = await TablePurge.PartitionsBeforeAsync(table, LocalDatePattern.Iso.Format(day), cancellationToken, TableClient.CreateQueryFilter($"Status ne {Pending} and Kind ne {CustomerRequestKinds.Quote}"));
        var firstQuoteKept = day < quotesFrom ? day : quotesFrom;
        var quotes = await TablePurge.PartitionsBeforeAsync(table, LocalDatePattern.Iso.Format(firstQuoteKept), cancellationToken, TableClient.CreateQueryFilter($"Status ne {Pending} and Kind eq {CustomerRequestKinds.Quote}"));
        return others + quotes;
    }

    public async Task<IReadOnlyList<CustomerRequest>> ListQuoteRequestsAsync(NodaTime.LocalDate from, NodaTime.LocalDate to, CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        var found = new List<CustomerRequest>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey ge {LocalDatePattern.Iso.Format(from)} and PartitionKey le {LocalDatePattern.Iso.Format(to)} and Kind eq {CustomerRequestKinds.Quote} and Status eq {Done}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            try
            {
                found.Add(Read(entity).Pending.Request);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A row that cannot be read names no license the digest could list; the pending listing removes such rows.
            }
        }

        return found;
    }
}
