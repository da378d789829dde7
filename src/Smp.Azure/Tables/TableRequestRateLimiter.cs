using System.Globalization;
using Azure;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Requests;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="IRequestRateLimiter"/> on Table Storage: one counter row per serial, kind of request and business
/// day, changed only under its ETag (single operations, which the emulator checks as Azure does), so concurrent
/// requests never both take the last allowance. The row lists the ids of the requests it counted, so a request
/// counted once is never counted again: not when the caller retries it, and not when Azure.Core resends a write
/// whose answer was lost (the resent write conflicts, and the row read again already names the request).
/// </summary>
public sealed class TableRequestRateLimiter : IRequestRateLimiter
{
    private const int MaxAttempts = 20;
    private const string CountColumn = "Count";
    private const string RequestsColumn = "Requests";
    private const char RequestSeparator = '\n';
    private readonly TableClient table;
    private readonly AsyncOnce created;

    public TableRequestRateLimiter(TableServiceClient service, string tableName = "ratelimits")
    {
        ArgumentNullException.ThrowIfNull(service);
        table = service.GetTableClient(tableName);
        created = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public async Task<bool> TryAcquireAsync(string scope, Serial serial, LocalDate day, int limitPerDay, string requestId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPerDay, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(requestId);
        if (requestId.Contains(RequestSeparator, StringComparison.Ordinal))
        {
            throw new ArgumentException("A request id is one line.", nameof(requestId));
        }

        await created.EnsureAsync(cancellationToken);
        var partition = TableKey.Encode(serial.Value);
        var row = TableKey.Encode(scope) + "|" + LocalDatePattern.Iso.Format(day);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
            try
            {
                if (!existing.HasValue)
                {
                    await table.AddEntityAsync(new TableEntity(partition, row) { [CountColumn] = 1, [RequestsColumn] = requestId }, cancellationToken);
                    return true;
                }

                var entity = existing.Value!;
                var counted = (entity.GetString(RequestsColumn) ?? string.Empty).Split(RequestSeparator, StringSplitOptions.RemoveEmptyEntries);
                if (counted.Contains(requestId, StringComparer.Ordinal))
                {
                    return true;
                }

                var count = entity.GetInt32(CountColumn) ?? 0;
                if (count >= limitPerDay)
                {
                    return false;
                }

                entity[CountColumn] = count + 1;
                entity[RequestsColumn] = string.Join(RequestSeparator, counted.Append(requestId));
                await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another request counted first, or this one did and its answer was lost: read the row again.
            }
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The request counter for {scope} kept changing; retry."));
    }
}
