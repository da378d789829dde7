using System.Diagnostics;
using System.Globalization;
using System.Text;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Benchmarks.Infrastructure;
using Smp.Benchmarks.Scan;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Search;
using Smp.TestSupport;

namespace Smp.Benchmarks.Search;

internal sealed record SearchSettings(IReadOnlyList<int> Sizes, int Repetitions, int SeedParallelism);

/// <summary>
/// Staff search (section 8) at growing numbers of stored licenses: for each kind of query, the storage requests, the
/// index rows and licenses read, and the time of <see cref="LicenseSearch.SearchAsync"/> through the app's composition
/// root. Licenses come four per customer; customer c is named "COMMON Werk{c:D5}", COMMON one of 20 words (so a common
/// word matches a twentieth of the store), with customer id C{c:D5} and one contact einkauf@c{c:D5}.example. They are
/// seeded with the store's own row builders in entity group transactions (<see cref="BulkSeeder"/>), search rows included.
/// </summary>
internal sealed class SearchBenchmark(SearchSettings settings, TextWriter progress)
{
    private const int Limit = 20;
    private const int LicensesPerCustomer = 4;

    private static readonly string[] Common =
    [
        "Müller", "Acme", "Nordic", "Søren", "Global", "Precision", "Zürich", "Alpha", "Delta", "Omega",
        "Crème", "Metro", "Vector", "Atlas", "Summit", "Orion", "Pioneer", "Quantum", "Ridge", "Titan",
    ];

    private static readonly Instant Now = Instant.FromUtc(2026, 9, 1, 15, 0);
    private static readonly CommandContext Seeder = new("benchmark-seed", "benchmark-seed");

    /// <summary>The queries, each with what it is and how many licenses match it at any size of 1,000 or more.</summary>
    private static readonly (string Label, string Query, string Expected)[] Queries =
    [
        ("a whole serial", "S000402", "1"),
        ("a serial start", "S00040", "10"),
        ("a customer id", "C00100", "4"),
        ("a contact's email", "einkauf@c00100.example", "4"),
        ("a rare name word", "werk00100", "4"),
        ("a common name word, accent folded", "muller", "a twentieth of the store, 20 listed"),
        ("nothing", "zzzz", "0"),
    ];

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);
        using var app = BenchApp.Create(azurite.ConnectionString, Now);
        var store = app.Get<TableLicenseStore>();
        var schedule = app.Get<ReminderSchedule>();
        var search = app.Get<LicenseSearch>();

        // First use of an empty store: it records that its search index is built from the start (no backfill).
        await store.GetAsync(Serial.Parse("S999999"), cancellationToken);

        var results = new MarkdownTable("stored licenses", "query", "matches listed", "more", "storage requests", "index rows read", "licenses read", "time (ms)");
        foreach (var column in new[] { 0, 2, 4, 5, 6, 7 })
        {
            results.RightAligned.Add(column);
        }

        var seeder = new BulkSeeder(BenchApp.CountedClient(app.ConnectionString, new TableTrafficPolicy()), app.TablePrefix, schedule, settings.SeedParallelism);
        var stored = 0;
        var seeding = new StringBuilder();
        foreach (var size in settings.Sizes.Distinct().Order())
        {
            var started = Stopwatch.GetTimestamp();
            for (var from = stored; from < size; from += 10_000)
            {
                var count = Math.Min(10_000, size - from);
                await seeder.WriteAsync([.. Enumerable.Range(from, count).Select(License)], cancellationToken);
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"search: {from + count:N0} licenses stored"));
            }

            seeding.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- {size:N0}: {size - stored:N0} licenses seeded in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s."));
            stored = size;

            foreach (var (label, query, _) in Queries)
            {
                var parsed = SearchQuery.TryParse(query)!;
                await search.SearchAsync(parsed, Limit, cancellationToken); // Warm-up: connections, JIT.
                var times = new List<double>();
                SearchResult? result = null;
                TableTraffic? traffic = null;
                for (var rep = 0; rep < settings.Repetitions; rep++)
                {
                    app.Traffic.Reset();
                    var t0 = Stopwatch.GetTimestamp();
                    result = await search.SearchAsync(parsed, Limit, cancellationToken);
                    times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    traffic = app.Traffic.Snapshot();
                }

                results.Add(
                    size.ToString("N0", CultureInfo.InvariantCulture),
                    $"{label}: `{query}`",
                    result!.Matches.Count,
                    result.More ? "yes" : "no",
                    traffic!.Total.Requests,
                    traffic.For("licenseindex").QueryEntities,
                    traffic.For("licenses").PointReads,
                    Stats.Of(times).Format("F1"));
            }
        }

        var report = new StringBuilder();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Limit {Limit} per search (the API's default); times are the median (min–max) of {settings.Repetitions} runs after a warm-up; counts are exact and the same on every run."));
        report.AppendLine().Append(results).AppendLine().AppendLine("Seeding (timed apart):").Append(seeding).AppendLine();
        foreach (var (label, query, expected) in Queries)
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- {label} (`{query}`) matches {expected}."));
        }

        return report.ToString();
    }

    private static (License License, LicenseEvent Event) License(int i)
    {
        var c = i / LicensesPerCustomer;
        var sentOn = new LocalDate(2026, 1, 5).PlusDays(i % 200);
        var request = new ActivationRequest(
            Serial.Parse(string.Create(CultureInfo.InvariantCulture, $"S{i:D6}")),
            null,
            new Customer(string.Create(CultureInfo.InvariantCulture, $"C{c:D5}"), string.Create(CultureInfo.InvariantCulture, $"{Common[c % Common.Length]} Werk{c:D5}")),
            [EmailAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"einkauf@c{c:D5}.example"))],
            OnSiteTraining: i % 2 == 0,
            (sentOn + new LocalTime(12, 0)).InUtc().ToInstant());
        return PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, sentOn, request.ActivationEmailSentAt, Seeder) is Decision.Change change
            ? (change.License, change.Event)
            : throw new InvalidOperationException($"Activation of {request.Serial} was not a change.");
    }
}
