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
/// requests never both take the last allowance.
/// </summary>
public sealed class TableRequestRateLimiter : IRequestRateLimiter
{
    private const int MaxAttempts = 20;
    private readonly TableClient table;
    private readonly AsyncOnce created;

    public TableRequestRateLimiter(TableServiceClient service, string tableName = "ratelimits")
    {
        ArgumentNullException.ThrowIfNull(service);
        table = service.GetTableClient(tableName);
        created = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public async Task<bool> TryAcquireAsync(string scope, Serial serial, LocalDate day, int limitPerDay, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        ArgumentOutOfRangeException.ThrowIfLessThan(limitPerDay, 1);
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
                    await table.AddEntityAsync(new TableEntity(partition, row) { ["Count"] = 1 }, cancellationToken);
                    return true;
                }

                var entity = existing.Value!;
                var count = entity.GetInt32("Count") ?? 0;
                if (count >= limitPerDay)
                {
                    return false;
                }

                entity["Count"] = count + 1;
                await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another request counted first: read the new count and try again.
            }
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The request counter for {scope} kept changing; retry."));
    }
}
