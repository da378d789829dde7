using System.Globalization;
using Azure;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Requests;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="IRequestRateLimiter"/> on Table Storage: one counter row per business day (the partition) and counter
/// (the row), changed only under its ETag (single operations, which the emulator checks as Azure does), so concurrent
/// requests never both take the last allowance. A counter with request keys lists the keys it counted, so a request
/// counted once is never counted again: not when the caller repeats it, and not when Azure.Core resends a write whose
/// answer was lost (the resent write conflicts, and the row read again already names the request). A repeat writes
/// the row back unchanged, so it makes the same calls (a read, then a replace) as a request counted now: the calls do
/// not tell whether an ask was made before. Past days are removed by <see cref="PurgeBeforeAsync"/>, so the table does
/// not grow without bound.
/// </summary>
public sealed class TableRequestRateLimiter : IRequestRateLimiter
{
    private const int MaxAttempts = 20;
    private const string CountColumn = "Count";
    private const string RequestsColumn = "Requests";
    private const char RequestSeparator = '\n';

    /// <summary>The longest request key (a SHA-256 in hex is 64).</summary>
    public const int MaxRequestKeyLength = 128;

    // Azure Table: a string property holds at most 32K characters, an entity at most 1 MiB and 252 own properties.
    // Counted keys are spread over "Requests", "Requests1", "Requests2", ... of at most this many characters each,
    // so the largest allowed cap (AnonymousLimits.MaxPerDay) of the longest keys fits one row with room to spare.
    private const int MaxRequestsColumnLength = 16_000;
    private readonly TableClient table;
    private readonly AsyncOnce created;

    public TableRequestRateLimiter(TableServiceClient service, string tableName = "ratelimits")
    {
        ArgumentNullException.ThrowIfNull(service);
        table = service.GetTableClient(tableName);
        created = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public async Task<LimitDecision> TryAcquireAsync(string counter, LocalDate day, int limitPerDay, string? requestKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(counter);
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPerDay, 1);
        if (requestKey is not null && (requestKey.Length is 0 or > MaxRequestKeyLength || requestKey.Contains(RequestSeparator, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"A request key is one non-empty line of at most {MaxRequestKeyLength} characters.", nameof(requestKey));
        }

        await created.EnsureAsync(cancellationToken);
        var partition = LocalDatePattern.Iso.Format(day);
        var row = TableKey.Encode(counter);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
            try
            {
                if (!existing.HasValue)
                {
                    await table.AddEntityAsync(new TableEntity(partition, row) { [CountColumn] = 1, [RequestsColumn] = requestKey ?? string.Empty }, cancellationToken);
                    return LimitDecision.Counted;
                }

                var entity = existing.Value!;
                var counted = CountedKeys(entity);
                if (requestKey is not null && counted.Contains(requestKey, StringComparer.Ordinal))
                {
                    // Written back unchanged, under its ETag: a repeat makes the same storage calls as a request
                    // counted now (a read and a replace), so they do not tell whether the same ask was made before.
                    await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                    return LimitDecision.Repeat;
                }

                var count = entity.GetInt32(CountColumn) ?? 0;
                if (count >= limitPerDay)
                {
                    return LimitDecision.Refused;
                }

                entity[CountColumn] = count + 1;
                if (requestKey is not null)
                {
                    StoreKeys(entity, [.. counted, requestKey]);
                }

                await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return LimitDecision.Counted;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another request counted first, or this one did and its answer was lost: read the row again.
            }
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The request counter kept changing; retry."));
    }

    private static List<string> CountedKeys(TableEntity entity)
    {
        var keys = new List<string>();
        for (var i = 0; entity.GetString(RequestsColumnName(i)) is { } column; i++)
        {
            keys.AddRange(column.Split(RequestSeparator, StringSplitOptions.RemoveEmptyEntries));
        }

        return keys;
    }

    private static void StoreKeys(TableEntity entity, IReadOnlyList<string> keys)
    {
        var column = 0;
        var text = new System.Text.StringBuilder();
        foreach (var key in keys)
        {
            if (text.Length > 0 && text.Length + 1 + key.Length > MaxRequestsColumnLength)
            {
                entity[RequestsColumnName(column++)] = text.ToString();
                text.Clear();
            }

            if (text.Length > 0)
            {
                text.Append(RequestSeparator);
            }

            text.Append(key);
        }

        entity[RequestsColumnName(column)] = text.ToString();
    }

    private static string RequestsColumnName(int index) =>
        index == 0 ? RequestsColumn : RequestsColumn + index.ToString(CultureInfo.InvariantCulture);

    public async Task<int> PurgeBeforeAsync(LocalDate day, CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        return await TablePurge.PartitionsBeforeAsync(table, LocalDatePattern.Iso.Format(day), cancellationToken);
    }
}
