using Azure.Data.Tables;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Benchmarks.Scan;

/// <summary>
/// Writes many new licenses faster than one <see cref="TableLicenseStore.TryAddAsync"/> per license, with the
/// rows that call would write (the store's own row and index-key builders, version 1): each license's summary
/// and first event in one entity group transaction (as the store does), and its index rows in entity group
/// transactions of up to 100 rows of one partition, instead of a read and an insert per index row. Only for
/// new serials on an otherwise idle store: it skips the store's concurrency checks.
/// </summary>
internal sealed class BulkSeeder(TableServiceClient service, string tablePrefix, ReminderSchedule schedule, int parallelism)
{
    private const int MaxBatch = 100;

    private readonly TableClient licenses = service.GetTableClient(tablePrefix + "licenses");
    private readonly TableClient index = service.GetTableClient(tablePrefix + "licenseindex");

    public async Task WriteAsync(IReadOnlyList<(License License, LicenseEvent Event)> items, CancellationToken cancellationToken)
    {
        await licenses.CreateIfNotExistsAsync(cancellationToken);
        await index.CreateIfNotExistsAsync(cancellationToken);
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };

        // Index rows first, as the store writes them before the license.
        var batches = items
            .SelectMany(i => LicenseIndex.KeysFor(i.License, schedule).Select(key => LicenseEntities.IndexRow(key, i.License.Serial, 1)))
            .GroupBy(row => row.PartitionKey, StringComparer.Ordinal)
            .SelectMany(partition => partition.Chunk(MaxBatch))
            .ToList();
        await Parallel.ForEachAsync(batches, options, async (rows, ct) =>
            await index.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), ct));

        await Parallel.ForEachAsync(items, options, async (item, ct) =>
            await licenses.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, LicenseEntities.Summary(item.License, 1)),
                    new TableTransactionAction(TableTransactionActionType.Add, LicenseEntities.Event(item.License.Serial, 1, item.Event)),
                ],
                ct));
    }
}
