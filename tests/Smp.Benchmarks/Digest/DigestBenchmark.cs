using System.Diagnostics;
using System.Globalization;
using System.Text;
using Smp.Benchmarks.Infrastructure;
using Smp.Benchmarks.Scan;
using Smp.Core.Digest;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Benchmarks.Digest;

internal sealed record DigestSettings(IReadOnlyList<int> Sizes, int Listed, int Repetitions, int SeedParallelism);

/// <summary>
/// The renewals desk's weekly digest (SPEC section 11) at growing numbers of stored licenses with the same licenses
/// listed: <see cref="RenewalsDigestService.ComputeAsync"/> (what the console shows) and one
/// <see cref="RenewalsDigestService.SendAsync"/> (compute and enqueue the week's mail) through the app's composition
/// root, counting storage requests and entities read. The digest runs on the scan's business date
/// (<see cref="ScanData.Today"/>); the listed licenses are the scan's due licenses (one-year plans expiring 90 days
/// later, inside the digest's window), every other license is one of the scan's bulk licenses whose expiry is outside
/// the window (plans expiring from July 2027 on, and plans that lapsed before 2027). Seeded with
/// <see cref="BulkSeeder"/>.
/// </summary>
internal sealed class DigestBenchmark(DigestSettings settings, TextWriter progress)
{
    /// <summary>What a digest run costs in storage requests, for the monthly bill.</summary>
    public double? RequestsPerRun { get; private set; }

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);
        using var app = BenchApp.Create(azurite.ConnectionString, ScanData.Now);
        var schedule = app.Get<ReminderSchedule>();
        var digest = app.Get<RenewalsDigestService>();
        var seeder = new BulkSeeder(BenchApp.CountedClient(app.ConnectionString, new TableTrafficPolicy()), app.TablePrefix, schedule, settings.SeedParallelism);

        // First use of an empty store (it records how its indexes are built), then the listed licenses.
        await app.Get<Smp.Azure.Tables.TableLicenseStore>().GetAsync(Serial.Parse("D9999"), cancellationToken);
        await seeder.WriteAsync([.. Enumerable.Range(0, settings.Listed).Select(ScanData.Due)], cancellationToken);

        var table = new MarkdownTable("stored licenses", "listed (expiring / lapsed)", "run", "storage requests", "entities read", "index rows read", "licenses read", "events read", "time (ms)");
        foreach (var column in new[] { 0, 3, 4, 5, 6, 7, 8 })
        {
            table.RightAligned.Add(column);
        }

        var stored = settings.Listed;
        var bulk = 0;
        var seeding = new StringBuilder();
        foreach (var size in settings.Sizes.Distinct().Order())
        {
            var started = Stopwatch.GetTimestamp();
            var seeded = stored;
            while (stored < size)
            {
                var chunk = new List<(License License, LicenseEvent Event)>();
                for (; chunk.Count < Math.Min(5_000, size - stored); bulk++)
                {
                    if (OutsideWindow(bulk))
                    {
                        chunk.Add(ScanData.Bulk(bulk, schedule));
                    }
                }

                await seeder.WriteAsync(chunk, cancellationToken);
                stored += chunk.Count;
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"digest: {stored:N0} licenses stored"));
            }

            seeding.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- {size:N0}: {size - seeded:N0} licenses seeded in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s."));

            await digest.ComputeAsync(ScanData.Today, cancellationToken); // Warm-up: connections, JIT.
            var times = new List<double>();
            RenewalsDigest? computed = null;
            TableTraffic? traffic = null;
            for (var rep = 0; rep < settings.Repetitions; rep++)
            {
                app.Traffic.Reset();
                var t0 = Stopwatch.GetTimestamp();
                computed = await digest.ComputeAsync(ScanData.Today, cancellationToken);
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                traffic = app.Traffic.Snapshot();
            }

            var listed = string.Create(CultureInfo.InvariantCulture, $"{Count(computed!.Expiring) + Count(computed.Lapsed)} ({Count(computed.Expiring)} / {Count(computed.Lapsed)})");
            table.Add(Row(size, listed, "compute (the console's lists)", traffic!, Stats.Of(times).Format("F0")));

            // The weekly send: compute and enqueue the week's mail; each size runs in a week of its own.
            app.Clock.Advance(NodaTime.Duration.FromDays(7));
            app.Traffic.Reset();
            var s0 = Stopwatch.GetTimestamp();
            var sent = await digest.SendAsync(cancellationToken);
            var sendMs = Stopwatch.GetElapsedTime(s0).TotalMilliseconds;
            var sendTraffic = app.Traffic.Snapshot();
            if (!sent.Enqueued)
            {
                throw new InvalidOperationException($"The digest of week {sent.Week} was not enqueued.");
            }

            RequestsPerRun = sendTraffic.Total.Requests;
            var sentListed = sent.Digest is { } d ? string.Create(CultureInfo.InvariantCulture, $"{Count(d.Expiring) + Count(d.Lapsed)} ({Count(d.Expiring)} / {Count(d.Lapsed)})") : "?";
            table.Add(Row(size, sentListed, "weekly send (compute and enqueue), once", sendTraffic, sendMs.ToString("F0", CultureInfo.InvariantCulture)));
        }

        var report = new StringBuilder();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{settings.Listed} licenses in the digest's window (one-year plans expiring {ScanData.Today.PlusDays(90):yyyy-MM-dd}, 90 days after the digest's date {ScanData.Today:yyyy-MM-dd}); every other stored license outside it. Compute: median (min–max) of {settings.Repetitions} runs after a warm-up; counts are the same on every run. The send moves the clock a week on first, so each size sends its own week's digest."));
        report.AppendLine().Append(table).AppendLine().AppendLine("Seeding (timed apart):").Append(seeding);
        return report.ToString();

        static int Count(System.Collections.Immutable.ImmutableArray<DigestCustomer> customers) => customers.Sum(c => c.Licenses.Length);
    }

    private static object[] Row(int size, string listed, string run, TableTraffic traffic, string time) =>
    [
        size.ToString("N0", CultureInfo.InvariantCulture),
        listed,
        run,
        traffic.Total.Requests,
        traffic.Total.EntitiesRead,
        traffic.For("licenseindex").QueryEntities,
        traffic.For("licenses").PointReads,
        traffic.For("licenses").QueryEntities,
        time,
    ];

    /// <summary>The scan's bulk licenses whose expiry is outside the digest's window (its 30-day plans fall inside).</summary>
    private static bool OutsideWindow(int i) => i % 20 is < 9 or >= 12;
}
