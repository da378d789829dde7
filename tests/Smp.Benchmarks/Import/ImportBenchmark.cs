using System.Diagnostics;
using System.Globalization;
using System.Text;
using NodaTime;
using Smp.Benchmarks.Infrastructure;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Benchmarks.Import;

/// <summary>
/// The CSV import (SPEC section 9) of <paramref name="rows"/> new licenses on Azurite: rows per second and storage
/// requests per row through the real app's <see cref="ImportService"/> (file and job stored, then the job processed),
/// next to the bare store operations the same rows need (a point read of the serial and the license added with its
/// event, through the same <see cref="ILicenseStore"/>), each on empty tables of its own. The design goal is an import
/// within 1.5 x of the bare operations. The export (SPEC section 9) of the imported licenses follows each import: licenses
/// per second and storage requests per license, through the pages the export reads.
/// </summary>
internal sealed class ImportBenchmark(int rows, int repetitions, TextWriter progress)
{
    private static readonly Instant Now = Instant.FromUtc(2027, 3, 3, 15, 0);

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
            var (importSeconds, importRequests, exportSeconds, exportRequests) = await ImportAsync(azurite, file, cancellationToken);
            var (bareSeconds, bareRequests) = await BareAsync(azurite, file, cancellationToken);
            ratios.Add(importSeconds / bareSeconds);
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

    private static async Task<(double Seconds, long Requests, double ExportSeconds, long ExportRequests)> ImportAsync(AzuriteProcess azurite, byte[] file, CancellationToken cancellationToken)
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

        return (importSeconds, importRequests, clock.Elapsed.TotalSeconds, app.Traffic.Snapshot().Total.Requests);
    }

    private static async Task<(double Seconds, long Requests)> BareAsync(AzuriteProcess azurite, byte[] bytes, CancellationToken cancellationToken)
    {
        using var app = BenchApp.Create(azurite.ConnectionString, Now);
        var store = app.Get<ILicenseStore>();
        await store.PingAsync(cancellationToken);
        var calendar = app.Get<BusinessCalendar>();
        var file = ImportFile.Open(bytes, out _)!;
        var source = new ImportSource(file.Sha256, calendar.Today, "bare");
        var context = new CommandContext("bench", "bench");
        var licenses = file.Rows()
            .Select(r => (Decision.Change)PlanDecisions.Import(null, r.Row!, source, PlanOptions.DefaultProductName, ReminderSchedule.Default, calendar.Zone, Now, context))
            .ToList();
        app.Traffic.Reset();
        var clock = Stopwatch.StartNew();
        foreach (var change in licenses)
        {
            await store.GetAsync(change.License.Serial, cancellationToken);
            if (!await store.TryAddAsync(change.License, change.Event, cancellationToken))
            {
                throw new InvalidOperationException($"Serial {change.License.Serial} was stored twice.");
            }
        }

        clock.Stop();
        return (clock.Elapsed.TotalSeconds, app.Traffic.Snapshot().Total.Requests);
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
