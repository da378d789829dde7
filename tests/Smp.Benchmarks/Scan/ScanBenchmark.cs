using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Smp.Azure.Tables;
using Smp.Benchmarks.Infrastructure;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Benchmarks.Scan;

/// <summary>Settings of the reminder scan benchmark.</summary>
/// <param name="SeedAllThroughStore">
/// True: every license is seeded with <see cref="TableLicenseStore.TryAddAsync"/>. False: the first size's, then
/// the rest with <see cref="BulkSeeder"/> (same rows, fewer requests).
/// </param>
internal sealed record ScanSettings(IReadOnlyList<int> Sizes, int Repetitions, int SeedParallelism, TimeSpan SeedBudget, bool SeedAllThroughStore);

/// <summary>
/// The reminder scan (R9: its cost must follow the reminders due, not the licenses stored) at growing numbers of
/// stored licenses with the same <see cref="ScanData.DueCount"/> reminders due. The due licenses and the first
/// size's others are seeded through the real <see cref="TableLicenseStore"/>, larger sizes with the store's row
/// builders in entity group transactions (<see cref="BulkSeeder"/>); the stored set grows from one size to the next. Each repetition first
/// lists the reminder candidates (the store's index query and the license reads it makes), then runs the whole
/// <see cref="ReminderScan"/> (enqueue the mails, record each reminder on its license); then the due licenses and
/// the outbox are reset, so the next repetition finds the same reminders due; the clock moves a minute per repetition
/// (the same business day), so that each repetition writes what a daily scan writes.
/// </summary>
internal sealed class ScanBenchmark(ScanSettings settings, TextWriter progress)
{
    private const string LicensesTable = "licenses";
    private const string IndexTable = "licenseindex";
    private const string OutboxTable = "mailoutbox";
    private const string ThroughStore = "TableLicenseStore.TryAddAsync";
    private const string InBatches = "row builders in batches";
    private const int ChunkSize = 10_000;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);
        using var app = BenchApp.Create(azurite.ConnectionString, ScanData.Now);
        var maintenance = new TableServiceClient(azurite.ConnectionString);
        var store = app.Get<TableLicenseStore>();
        var schedule = app.Get<ReminderSchedule>();
        var scan = app.Get<ReminderScan>();

        var sizes = new List<SizeResult>();
        var notes = new List<string>();
        var stored = 0; // Licenses without a reminder due, stored so far.
        var dueSeeded = false;
        // Per seeding method: licenses per second in the last chunk, and how many were stored at its middle.
        var rates = new Dictionary<string, (double PerSecond, double AtStored)>(StringComparer.Ordinal);
        var remaining = settings.SeedBudget;
        foreach (var requested in settings.Sizes.Distinct().Order())
        {
            // Seeded in chunks. A chunk that would overrun the seeding budget is not started, and the size measured is
            // the one reached: the largest that fits this machine's time bound. The projection assumes that adding a
            // license costs in proportion to the licenses stored, as it does on Azurite (see docs/benchmarks.md).
            var method = settings.SeedAllThroughStore || sizes.Count == 0 ? ThroughStore : InBatches;
            var target = requested - ScanData.DueCount - stored;
            var bulk = new Seeding(method, TimeSpan.Zero, 0);
            var seeded = 0;
            while (seeded < target)
            {
                var chunk = Math.Min(ChunkSize, target - seeded);
                var projected = rates.TryGetValue(method, out var last)
                    ? TimeSpan.FromSeconds(chunk / last.PerSecond * Math.Max(1, (stored + (chunk / 2.0)) / last.AtStored))
                    : TimeSpan.Zero;
                if (projected > remaining)
                {
                    var rate = last.PerSecond;
                    var instead = seeded == 0
                        ? "not measured."
                        : string.Create(CultureInfo.InvariantCulture, $"measured at {stored + ScanData.DueCount:N0} stored instead.");
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{requested:N0} stored licenses did not fit the seeding budget ({settings.SeedBudget.TotalMinutes:F0} min in all) on this machine: at the measured {rate:F0} licenses/s the remaining {target - seeded:N0} would have taken {(target - seeded) / rate / 60:F1} min more, and longer as the tables grow; {instead}"));
                    break;
                }

                progress.WriteLine($"scan: seeding {chunk:N0} licenses without a reminder due ({stored + chunk + ScanData.DueCount:N0} of {requested:N0} stored), {method}");
                var part = method == ThroughStore
                    ? await SeedThroughStoreAsync(store, stored, chunk, schedule, app.Traffic, cancellationToken)
                    : await SeedInBatchesAsync(app, store, stored, chunk, schedule, cancellationToken);
                bulk = bulk with { Elapsed = bulk.Elapsed + part.Elapsed, Requests = bulk.Requests + part.Requests };
                stored += chunk;
                seeded += chunk;
                remaining -= part.Elapsed;
                rates[method] = (chunk / part.Elapsed.TotalSeconds, stored - (chunk / 2.0));
            }

            if (seeded == 0 && sizes.Count > 0)
            {
                break;
            }

            var size = stored + ScanData.DueCount;

            if (!dueSeeded)
            {
                await SeedDueAsync(store, cancellationToken);
                dueSeeded = true;

                // Warm-up (JIT, connection pool, the link-signing key): one full repetition, not recorded.
                progress.WriteLine("scan: warm-up repetition");
                await RepeatAsync(app, maintenance, store, scan, cancellationToken);
            }

            var repetitions = new List<Repetition>();
            for (var r = 0; r < settings.Repetitions; r++)
            {
                progress.WriteLine($"scan: {size:N0} stored, repetition {r + 1}/{settings.Repetitions}");
                repetitions.Add(await RepeatAsync(app, maintenance, store, scan, cancellationToken));
            }

            sizes.Add(new SizeResult(size, seeded, bulk, repetitions));
        }

        return Report(sizes, notes);
    }

    private async Task<Seeding> SeedInBatchesAsync(BenchApp app, TableLicenseStore store, int from, int count, ReminderSchedule schedule, CancellationToken cancellationToken)
    {
        var items = Enumerable.Range(from, count).Select(i => ScanData.Bulk(i, schedule)).ToList();
        var traffic = new TableTrafficPolicy();
        var seeder = new BulkSeeder(BenchApp.CountedClient(app.ConnectionString, traffic), app.TablePrefix, schedule, settings.SeedParallelism);
        var started = Stopwatch.GetTimestamp();
        await seeder.WriteAsync(items, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);

        // The store reads back what the seeder wrote as the license it was given.
        foreach (var (license, _) in new[] { items[0], items[count / 2], items[^1] })
        {
            var stored = await store.GetAsync(license.Serial, cancellationToken);
            if (stored is null || stored.Version != 1 || stored.License.ExpiresOn != license.ExpiresOn || stored.License.Reminders.Length != license.Reminders.Length)
            {
                throw new InvalidOperationException($"License {license.Serial} does not read back as it was seeded.");
            }
        }

        return new Seeding(InBatches, elapsed, traffic.Snapshot().Total.Requests);
    }

    private async Task<Seeding> SeedThroughStoreAsync(TableLicenseStore store, int from, int count, ReminderSchedule schedule, TableTrafficPolicy traffic, CancellationToken cancellationToken)
    {
        traffic.Reset();
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(
            Enumerable.Range(from, count),
            new ParallelOptions { MaxDegreeOfParallelism = settings.SeedParallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var (license, activated) = ScanData.Bulk(i, schedule);
                if (!await store.TryAddAsync(license, activated, ct))
                {
                    throw new InvalidOperationException($"License {license.Serial} was already stored.");
                }
            });
        return new Seeding(ThroughStore, Stopwatch.GetElapsedTime(started), traffic.Snapshot().Total.Requests);
    }

    private async Task<TimeSpan> SeedDueAsync(TableLicenseStore store, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, ScanData.DueCount),
            new ParallelOptions { MaxDegreeOfParallelism = settings.SeedParallelism, CancellationToken = cancellationToken },
            async (k, ct) =>
            {
                var (license, activated) = ScanData.Due(k);
                if (!await store.TryAddAsync(license, activated, ct))
                {
                    throw new InvalidOperationException($"License {license.Serial} was already stored.");
                }
            });
        return Stopwatch.GetElapsedTime(started);
    }

    private async Task<Repetition> RepeatAsync(BenchApp app, TableServiceClient maintenance, TableLicenseStore store, ReminderScan scan, CancellationToken cancellationToken)
    {
        // Each repetition is a real daily scan: a minute after the last one, the same business day. At the same instant
        // the recordings' rows among the latest events (keyed by the event's time, serial and version) would meet the
        // rows of the repetition before (an insert that conflicts, then a read), which a daily scan never does.
        app.Clock.Advance(NodaTime.Duration.FromMinutes(1));

        // 0. The index query alone, with the store's filter: what the listing costs before it reads any license.
        var indexTable = maintenance.GetTableClient(app.TablePrefix + IndexTable);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {LicenseIndex.RemindersPartition} and RowKey lt {LicenseIndex.RemindersUpperBound(ScanData.Today)}");
        var started = Stopwatch.GetTimestamp();
        var indexRows = 0;
        await foreach (var _ in indexTable.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey", "Serial", "Version"], cancellationToken: cancellationToken))
        {
            indexRows++;
        }

        var queryTime = Stopwatch.GetElapsedTime(started);

        // 1. The candidate listing: the index query and the license point reads (read-only).
        app.Traffic.Reset();
        started = Stopwatch.GetTimestamp();
        var candidates = 0;
        await foreach (var _ in store.ListReminderCandidatesAsync(ScanData.Today, cancellationToken))
        {
            candidates++;
        }

        var listTime = Stopwatch.GetElapsedTime(started);
        var listTraffic = app.Traffic.Snapshot();

        // The listing proves each confirmed row's copy current with a write that moves the license's ETag, so the whole
        // scan below would find every copy outdated (and read each license): a daily scan lists once. Put the due
        // licenses back as added, with their reminder rows their own, before it.
        await ResetAsync(app, maintenance, cancellationToken);
        await SeedDueAsync(store, cancellationToken);

        // 2. The whole scan, as the timer function runs it.
        app.Traffic.Reset();
        started = Stopwatch.GetTimestamp();
        var report = await scan.RunAsync(new CommandContext("RunReminderScan", Guid.NewGuid().ToString("N")), cancellationToken);
        var scanTime = Stopwatch.GetElapsedTime(started);
        var scanTraffic = app.Traffic.Snapshot();
        if (report.RemindersDue != ScanData.DueCount || report.MailsEnqueued != ScanData.ExpectedMails || candidates != ScanData.DueCount || indexRows != ScanData.DueCount)
        {
            throw new InvalidOperationException(
                $"The scan found {candidates} candidates and {report.RemindersDue} reminders due and enqueued {report.MailsEnqueued} mails; " +
                $"expected {ScanData.DueCount}, {ScanData.DueCount} and {ScanData.ExpectedMails}. The seeded data is not what the benchmark assumes.");
        }

        // 3. Put the due licenses back as they were before the scan, and empty the outbox.
        await ResetAsync(app, maintenance, cancellationToken);
        var dueSeedTime = await SeedDueAsync(store, cancellationToken);

        return new Repetition(queryTime, listTime, listTraffic, scanTime, scanTraffic, report, dueSeedTime);
    }

    /// <summary>
    /// Removes the due licenses' rows and their reminder rows (re-adding writes the same ones, and confirms them: a row
    /// left in place would keep the copy and ETag of the license removed) and every outbox row; their other index rows
    /// stay (re-adding writes the same ones).
    /// </summary>
    private static async Task ResetAsync(BenchApp app, TableServiceClient maintenance, CancellationToken cancellationToken)
    {
        var licenses = maintenance.GetTableClient(app.TablePrefix + LicensesTable);
        var index = maintenance.GetTableClient(app.TablePrefix + IndexTable);
        var schedule = app.Get<ReminderSchedule>();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, ScanData.DueCount),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (k, ct) =>
            {
                foreach (var key in LicenseIndex.KeysFor(ScanData.Due(k).License, schedule).Where(key => key.PartitionKey == LicenseIndex.RemindersPartition))
                {
                    try
                    {
                        await index.DeleteEntityAsync(key.PartitionKey, key.RowKey, ETag.All, ct);
                    }
                    catch (RequestFailedException e) when (e.Status == 404)
                    {
                        // Recorded by the scan (its row removed), or never written.
                    }
                }
            });

        await Parallel.ForEachAsync(
            Enumerable.Range(0, ScanData.DueCount),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (k, ct) =>
            {
                var partition = ScanData.DueSerial(k).Value;
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
                await foreach (var row in licenses.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: ct))
                {
                    await licenses.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, ct);
                }
            });

        var outbox = maintenance.GetTableClient(app.TablePrefix + OutboxTable);
        try
        {
            await foreach (var row in outbox.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
            {
                await outbox.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No outbox yet: the first repetition's listing comes before any scan.
        }
    }

    private string Report(IReadOnlyList<SizeResult> sizes, IReadOnlyList<string> notes)
    {
        var text = new StringBuilder();
        const int due = ScanData.DueCount;
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Reminders due on every run: {due} ({ScanData.ExpectedMails} customers, {ScanData.DueLicensesPerCustomer} licenses each, one mail per customer). " +
            $"Times in ms, as median (min–max) over the repetitions; entity counts are the same on every repetition unless a range is shown."));
        text.AppendLine();

        var timing = new MarkdownTable("stored licenses", "reps", "index query alone (ms)", "candidate listing (ms)", "whole scan (ms)", "seeded for this size", "seeding rate (licenses/s)", "seeding (storage requests/license)");
        foreach (var i in new[] { 0, 1, 2, 3, 4, 6, 7 })
        {
            timing.RightAligned.Add(i);
        }

        foreach (var s in sizes)
        {
            timing.Add(
                s.Size.ToString("N0", CultureInfo.InvariantCulture),
                s.Repetitions.Count,
                Stats.Of(s.Repetitions.Select(r => r.QueryTime.TotalMilliseconds)).Format("F0"),
                Stats.Of(s.Repetitions.Select(r => r.ListTime.TotalMilliseconds)).Format("F0"),
                Stats.Of(s.Repetitions.Select(r => r.ScanTime.TotalMilliseconds)).Format("F0"),
                string.Create(CultureInfo.InvariantCulture, $"{s.Seeded:N0} in {s.Bulk.Elapsed.TotalSeconds:F0} s, {s.Bulk.Method}"),
                (s.Seeded / s.Bulk.Elapsed.TotalSeconds).ToString("F0", CultureInfo.InvariantCulture),
                (s.Bulk.Requests / (double)s.Seeded).ToString("F1", CultureInfo.InvariantCulture));
        }

        text.AppendLine(timing.ToString());
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Seeding is timed apart from the scan. The {due} due licenses are written again after each repetition with TableLicenseStore.TryAddAsync, at most {settings.SeedParallelism} at a time: " +
            $"{Stats.Of(sizes.SelectMany(s => s.Repetitions).Select(r => r.DueSeedTime.TotalMilliseconds)).Format("F0")} ms (median, min–max over every repetition)."));
        text.AppendLine();

        var reads = new MarkdownTable(
            "stored licenses",
            "(a) index rows read by the scan's query",
            "(a) / due",
            "(b) entities read by the candidate listing (index rows + license point reads)",
            "(b) / due",
            "whole scan: entities read (index / licenses / outbox)",
            "whole scan / due",
            "whole scan: storage requests");
        foreach (var i in new[] { 0, 1, 2, 3, 4, 6, 7 })
        {
            reads.RightAligned.Add(i);
        }

        foreach (var s in sizes)
        {
            var indexRows = Stats.Of(s.Repetitions.Select(r => (double)r.ListTraffic.For(IndexTable).QueryEntities));
            var listed = Stats.Of(s.Repetitions.Select(r => (double)r.ListTraffic.Total.EntitiesRead));
            var whole = Stats.Of(s.Repetitions.Select(r => (double)r.ScanTraffic.Total.EntitiesRead));
            var last = s.Repetitions[^1].ScanTraffic;
            reads.Add(
                s.Size.ToString("N0", CultureInfo.InvariantCulture),
                Exact(indexRows),
                Ratio(indexRows, due),
                Exact(listed),
                Ratio(listed, due),
                string.Create(CultureInfo.InvariantCulture,
                    $"{Exact(whole)} ({last.For(IndexTable).EntitiesRead} / {last.For(LicensesTable).EntitiesRead} / {last.For(OutboxTable).EntitiesRead})"),
                Ratio(whole, due),
                Exact(Stats.Of(s.Repetitions.Select(r => (double)r.ScanTraffic.Total.Requests))));
        }

        text.AppendLine(reads.ToString());
        text.AppendLine("Goal: entities read within 1.2 × the reminders due, whatever the number stored (a flat line).");
        foreach (var s in sizes)
        {
            var a = s.Repetitions.Max(r => r.ListTraffic.For(IndexTable).QueryEntities) / (double)due;
            var b = s.Repetitions.Max(r => r.ListTraffic.Total.EntitiesRead) / (double)due;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- {s.Size:N0} stored: (a) {a:F2} × due: {(a <= 1.2 ? "meets" : "misses")} the goal; (b) {b:F2} × due: {(b <= 1.2 ? "meets" : "misses")} the goal."));
        }

        foreach (var note in notes)
        {
            text.AppendLine("- Note: " + note);
        }

        return text.ToString();

        static string Exact(Stats s) => s.Min == s.Max ? Stats.Number(s.Median, "F0") : s.Format("F0");

        static string Ratio(Stats s, int due) => (s.Median / due).ToString("F2", CultureInfo.InvariantCulture);
    }

    private sealed record Seeding(string Method, TimeSpan Elapsed, long Requests);

    private sealed record Repetition(TimeSpan QueryTime, TimeSpan ListTime, TableTraffic ListTraffic, TimeSpan ScanTime, TableTraffic ScanTraffic, ScanReport Report, TimeSpan DueSeedTime);

    private sealed record SizeResult(int Size, int Seeded, Seeding Bulk, IReadOnlyList<Repetition> Repetitions);
}
