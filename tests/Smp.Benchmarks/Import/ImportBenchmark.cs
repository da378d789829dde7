using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using NodaTime;
using Smp.Benchmarks.Infrastructure;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Azure.Tables;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Benchmarks.Import;

/// <summary>
/// The CSV import (SPEC section 9) of <paramref name="rows"/> new licenses on Azurite: rows per second and storage
/// requests per row through the real app's <see cref="ImportService"/> (file and job stored, then the job processed),
/// next to the bare Azure.Data.Tables requests that write exactly the rows the import wrote (copied from the app's
/// tables after its run): one insert per index row and one entity group transaction of summary and events per serial,
/// each on empty tables of its own. The design goal is an import within 1.5 x of the bare operations. The export (SPEC section 9) of the imported licenses follows each import: licenses
/// per second and storage requests per license, through the pages the export reads.
/// </summary>
internal sealed class ImportBenchmark(int rows, int repetitions, TextWriter progress)
{
    private static readonly Instant Now = Instant.FromUtc(2027, 3, 3, 15, 0);
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey", "Timestamp", "odata.etag"];

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);
        var file = Encoding.UTF8.GetBytes(Csv(rows));
        var table = new MarkdownTable("repetition", "rows", "import: rows/s", "bare: rows/s", "import ÷ bare (time)", "storage requests per row: import / bare", "export: rows/s", "export: requests per row");
        table.RightAligned.UnionWith([1, 2, 3, 4, 6, 7]);
        var ratios = new List<double>();
        for (var rep = 1; rep <= repetitions; rep++)
        {
            progress.WriteLine($"import: repetition {rep}/{repetitions}, {rows} rows");
            var (importSeconds, importRequests, exportSeconds, exportRequests, appPrefix) = await ImportAsync(azurite, file, cancellationToken);
            var written = await RowsOfAsync(new TableServiceClient(azurite.ConnectionString), appPrefix, file, cancellationToken);
            var (bareSeconds, bareRequests) = await BareAsync(azurite, written, cancellationToken);
            ratios.Add(importSeconds / bareSeconds);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"import: repetition {rep}: import {rows / importSeconds:F0} rows/s, {importRequests / (double)rows:F2} requests/row; bare {rows / bareSeconds:F0} rows/s, {bareRequests / (double)rows:F2} requests/row; ratio {importSeconds / bareSeconds:F2}"));
            table.Add(
                rep,
                rows,
                (rows / importSeconds).ToString("F0", CultureInfo.InvariantCulture),
                (rows / bareSeconds).ToString("F0", CultureInfo.InvariantCulture),
                (importSeconds / bareSeconds).ToString("F2", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{importRequests / (double)rows:F2} / {bareRequests / (double)rows:F2}"),
                (rows / exportSeconds).ToString("F0", CultureInfo.InvariantCulture),
                (exportRequests / (double)rows).ToString("F2", CultureInfo.InvariantCulture));
        }

        return table + Environment.NewLine
            + string.Create(CultureInfo.InvariantCulture, $"Median import ÷ bare: {Stats.Of(ratios).Median:F2} (goal: at most 1.5).") + Environment.NewLine;
    }

    private static async Task<(double Seconds, long Requests, double ExportSeconds, long ExportRequests, string TablePrefix)> ImportAsync(AzuriteProcess azurite, byte[] file, CancellationToken cancellationToken)
    {
        using var app = BenchApp.Create(azurite.ConnectionString, Now);
        await app.Get<ILicenseStore>().PingAsync(cancellationToken);
        var imports = app.Get<ImportService>();
        app.Traffic.Reset();
        var clock = Stopwatch.StartNew();
        var start = await imports.StartAsync(file, dryRun: false, new CommandContext("bench", "bench"), cancellationToken);
        await imports.ProcessPendingAsync(int.MaxValue, cancellationToken);
        clock.Stop();
        var job = await imports.GetAsync(start.Job!.Id, cancellationToken);
        if (job is not { Status: ImportStatus.Done } || job.Created != job.Total)
        {
            throw new InvalidOperationException($"The import did not create every row: {job}.");
        }

        var importSeconds = clock.Elapsed.TotalSeconds;
        var importRequests = app.Traffic.Snapshot().Total.Requests;

        // The export's pages, each record written as the export writes it (to nowhere).
        var licenses = app.Get<LicenseService>();
        app.Traffic.Reset();
        clock.Restart();
        var exported = 0;
        Serial? after = null;
        do
        {
            var page = await licenses.ListAllPageAsync(after, 500, cancellationToken);
            foreach (var listed in page.Licenses)
            {
                TextWriter.Null.Write(LicenseCsv.Record(listed.License, job.ImportedOn, listed.Note));
                exported++;
            }

            after = page.Next;
        }
        while (after is not null);
        clock.Stop();
        if (exported != job.Total)
        {
            throw new InvalidOperationException($"The export listed {exported} of {job.Total} licenses.");
        }

        return (importSeconds, importRequests, clock.Elapsed.TotalSeconds, app.Traffic.Snapshot().Total.Requests, app.TablePrefix);
    }

    /// <summary>
    /// The rows the import wrote for the file's serials, copied from the app's tables (every table but the import's own):
    /// per serial, the rows of its partition (summary and events) and the rows elsewhere that name it (index rows).
    /// Rows the app keeps for itself (the store's metadata) are not the rows' work and are left out.
    /// </summary>
    private static async Task<List<SerialRows>> RowsOfAsync(TableServiceClient service, string appPrefix, byte[] bytes, CancellationToken cancellationToken)
    {
        var serials = ImportFile.Open(bytes, out _)!.Rows().Select(r => r.Row!.Serial.Value).ToList();
        var bySerial = serials.ToDictionary(s => s, s => new SerialRows(s), StringComparer.Ordinal);
        await foreach (var table in service.QueryAsync(TableClient.CreateQueryFilter($"TableName ge {appPrefix} and TableName lt {appPrefix + "~"}"), cancellationToken: cancellationToken))
        {
            var suffix = table.Name[appPrefix.Length..];
            if (suffix == "imports")
            {
                continue;
            }

            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>(cancellationToken: cancellationToken))
            {
                if (bySerial.TryGetValue(row.PartitionKey, out var own))
                {
                    own.Partition.Add((suffix, Copy(row)));
                }
                else if (row.GetString(LicenseEntities.SerialColumn) is { } serial && bySerial.TryGetValue(serial, out var named))
                {
                    named.Others.Add((suffix, Copy(row)));
                }
            }
        }

        var missing = bySerial.Values.FirstOrDefault(r => r.Partition.Count == 0);
        if (missing is not null)
        {
            throw new InvalidOperationException($"The import stored no row for serial {missing.Serial}.");
        }

        return serials.Select(s => bySerial[s]).ToList();
    }

    /// <summary>
    /// The bare Azure.Data.Tables requests the same rows need, on new tables of their own: one insert per row that names
    /// the serial (index rows, written first, as the store orders them), then the serial's partition (summary and events)
    /// in one entity group transaction. No read: the transaction's add fails if the serial exists.
    /// </summary>
    private static async Task<(double Seconds, long Requests)> BareAsync(AzuriteProcess azurite, List<SerialRows> rows, CancellationToken cancellationToken)
    {
        var traffic = new TableTrafficPolicy();
        var service = BenchApp.CountedClient(azurite.ConnectionString, traffic);
        var prefix = "raw" + Guid.NewGuid().ToString("N")[..12];
        var tables = new Dictionary<string, TableClient>(StringComparer.Ordinal);
        foreach (var suffix in rows.SelectMany(r => r.Partition.Concat(r.Others)).Select(r => r.Table).Distinct())
        {
            var client = service.GetTableClient(prefix + suffix);
            await client.CreateIfNotExistsAsync(cancellationToken);
            tables[suffix] = client;
        }

        traffic.Reset();
        var clock = Stopwatch.StartNew();
        foreach (var serial in rows)
        {
            foreach (var (table, entity) in serial.Others)
            {
                await tables[table].AddEntityAsync(entity, cancellationToken);
            }

            foreach (var partition in serial.Partition.GroupBy(r => r.Table))
            {
                foreach (var chunk in partition.Chunk(100))
                {
                    await tables[partition.Key].SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r.Entity)), cancellationToken);
                }
            }
        }

        clock.Stop();
        return (clock.Elapsed.TotalSeconds, traffic.Snapshot().Total.Requests);
    }

    private static TableEntity Copy(TableEntity row)
    {
        var copy = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (name, value) in row)
        {
            if (!KeyColumns.Contains(name, StringComparer.Ordinal))
            {
                copy[name] = value;
            }
        }

        return copy;
    }

    /// <summary>The rows one imported serial needs, each with the table (its name without the run's prefix) that holds it.</summary>
    private sealed record SerialRows(string Serial)
    {
        public List<(string Table, TableEntity Entity)> Partition { get; } = [];

        public List<(string Table, TableEntity Entity)> Others { get; } = [];
    }

    private static string Csv(int count)
    {
        var csv = new StringBuilder("serial,customerId,customerName,contacts,activationEmailSentOn,expiresOn,onSiteTraining\r\n");
        for (var i = 0; i < count; i++)
        {
            var sent = new LocalDate(2026, 1 + (i % 12), 1 + (i % 28));
            csv.Append(CultureInfo.InvariantCulture, $"BENCH-{i:D6},C-{i / 5},Customer {i / 5},buyer{i}@example.com,{sent:yyyy-MM-dd},{Dates.FirstOfNextMonth(sent).PlusYears(1):yyyy-MM-dd},yes\r\n");
        }

        return csv.ToString();
    }
}
