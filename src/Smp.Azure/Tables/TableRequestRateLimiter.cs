using Azure;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Requests;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="IRequestRateLimiter"/> on Azure Table Storage: one counter row per serial, kind of request and
/// business day (partition: the encoded serial; row: <c>scope|yyyy-MM-dd</c>). A request reads the counter and
/// then adds it or replaces it under the ETag it read, each a single-entity write, so of two concurrent
/// requests that read the same count only one can write the next; the other reads again. Requests for a
/// serial no license has are counted exactly the same way.
/// </summary>
/// <remarks>
/// Rows are not removed: each is a few bytes, and one exists only for a serial and day that had requests.
/// </remarks>
public sealed class TableRequestRateLimiter : IRequestRateLimiter
{
    public const string CountColumn = "Count";

    /// <summary>How often one request reads the counter again after losing a concurrent write, before it is refused.</summary>
    private const int MaxAttempts = 100;

    private static readonly string[] CountOnly = [CountColumn];

    private readonly TableClient table;
    private readonly AsyncOnce tableCreated;

    /// <summary>Creates the limiter; the table is created on first use, not here.</summary>
    public TableRequestRateLimiter(TableServiceClient service, string tableName)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        table = service.GetTableClient(tableName);
        tableCreated = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public static string PartitionKey(Serial serial) => TableKey.Encode(serial.Value);

    public static string RowKey(string scope, LocalDate day) => TableKey.Encode(scope) + "|" + LocalDatePattern.Iso.Format(day);

    public async Task<bool> TryAcquireAsync(string scope, Serial serial, LocalDate day, int limitPerDay, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        if (serial.Value is null)
        {
            throw new ArgumentException("The serial is not set.", nameof(serial));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(limitPerDay);
        if (limitPerDay == 0)
        {
            return false;
        }

        await tableCreated.EnsureAsync(cancellationToken);
        var partitionKey = PartitionKey(serial);
        var rowKey = RowKey(scope, day);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, CountOnly, cancellationToken);
            try
            {
                if (!existing.HasValue)
                {
                    await table.AddEntityAsync(new TableEntity(partitionKey, rowKey) { [CountColumn] = 1 }, cancellationToken);
                    return true;
                }

                var count = existing.Value!.GetInt32(CountColumn) ?? 0;
                if (count >= limitPerDay)
                {
                    return false;
                }

                await table.UpdateEntityAsync(
                    new TableEntity(partitionKey, rowKey) { [CountColumn] = count + 1 },
                    existing.Value.ETag,
                    TableUpdateMode.Replace,
                    cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
            {
                // Another request added or counted first: read the counter again after a short, jittered pause.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * Math.Min(attempt, 10))), cancellationToken);
            }
        }

        // Refused rather than let through uncounted: the limit is a protection, and a retry later will pass.
        return false;
    }
}
