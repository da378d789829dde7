using System.Diagnostics;
using System.Globalization;
using System.Text;
using Smp.Benchmarks.Dispatch;
using Smp.Benchmarks.Import;
using Smp.Benchmarks.Infrastructure;
using Smp.Benchmarks.Ingest;
using Smp.Benchmarks.Scan;
using Smp.Benchmarks.Search;

namespace Smp.Benchmarks;

/// <summary>
/// dotnet run -c Release --project tests/Smp.Benchmarks -- all|scan|ingest|dispatch|search|import [options]
/// Prints the results as Markdown on standard output; progress goes to standard error.
/// </summary>
internal static class Program
{
    private const string Usage = """
        Usage: dotnet run -c Release --project tests/Smp.Benchmarks -- <all|scan|ingest|dispatch|search|import> [options]

          all        the benchmarks below, in this order
          scan       reminder scan: time and entities read with 100 reminders due, at growing numbers stored
          ingest     activations per second through the function and through bare Table Storage calls
          dispatch   mail dispatch: throughput, the per-minute cap, and 429 handling against a local ACS stand-in
          search     staff search: storage requests and reads per search at 1,000 and 10,000 licenses stored
          import     CSV import of 20,000 new licenses (--quick: 2,000): rows/s and storage requests per row
                     through the import job, next to bare Table requests writing the same rows
                     (--reps, at most 3 repetitions)

        Options:
          --reps N            repetitions per measurement (default 5)
          --sizes A,B,C       stored licenses for the scan (default 1000,10000,100000)
          --seed-budget MIN   minutes the scan may spend seeding in all (default 7); a size that would not fit
                              is replaced by the largest multiple of 10,000 that does, and the report says so
          --seed-with-store   seed every size through TableLicenseStore.TryAddAsync (default: the first size
                              only; larger ones with the store's row builders in entity group transactions)
          --seconds S         length of each ingest run (default 5)
          --out FILE          also write the Markdown report to FILE
          --quick             a short smoke run (small sizes, 2 repetitions, 1 s runs): not for publishing
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await Console.Error.WriteLineAsync(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + Environment.NewLine + Usage);
            return 2;
        }

        var progress = Console.Error;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var report = new StringBuilder();
        report.AppendLine("## Machine").AppendLine().Append(MachineInfo.Describe(started)).AppendLine();

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        if (options.Runs("scan"))
        {
            var section = Stopwatch.StartNew();
            var scan = new ScanBenchmark(new ScanSettings(options.Sizes, options.Repetitions, 32, options.SeedBudget, options.SeedThroughStore), progress);
            var text = await scan.RunAsync(cancel.Token);
            report.AppendLine("## Reminder scan").AppendLine().Append(text).AppendLine(Took(section, ", seeding included"));
        }

        if (options.Runs("ingest"))
        {
            var section = Stopwatch.StartNew();
            var ingest = new IngestBenchmark(new IngestSettings([1, 8, 32], options.Repetitions, options.RunDuration, options.RunDuration), progress);
            var text = await ingest.RunAsync(cancel.Token);
            report.AppendLine("## Activation ingest").AppendLine().Append(text).AppendLine(Took(section, string.Empty));
        }

        if (options.Runs("dispatch"))
        {
            var section = Stopwatch.StartNew();
            var dispatch = new DispatchBenchmark(
                new DispatchSettings(
                    options.Quick ? 2 : 3,
                    options.Quick ? 60 : 200,
                    options.Quick ? 90 : 300,
                    MaxPerMinute: 30,
                    [
                        new Throttling(QuotaPerMinute: 20, RandomRate: 0, RandomRetryAfter: TimeSpan.Zero, Seed: 0),
                        new Throttling(QuotaPerMinute: 20, RandomRate: 0.05, RandomRetryAfter: TimeSpan.FromSeconds(90), Seed: 0),
                    ]),
                progress);
            var text = await dispatch.RunAsync(cancel.Token);
            report.AppendLine("## Mail dispatch").AppendLine().Append(text).AppendLine(Took(section, string.Empty));
        }

        if (options.Runs("search"))
        {
            var section = Stopwatch.StartNew();
            var search = new SearchBenchmark(new SearchSettings(options.Quick ? [200, 1000] : [1000, 10_000], options.Repetitions, 32), progress);
            var text = await search.RunAsync(cancel.Token);
            report.AppendLine("## Search").AppendLine().Append(text).AppendLine(Took(section, ", seeding included"));
        }

        if (options.Runs("import"))
        {
            var section = Stopwatch.StartNew();
            var import = new ImportBenchmark(options.Quick ? 2_000 : 20_000, options.Quick ? 1 : Math.Min(options.Repetitions, 3), progress);
            var text = await import.RunAsync(cancel.Token);
            report.AppendLine("## CSV import").AppendLine().Append(text).AppendLine(Took(section, string.Empty));
        }

        report.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Whole run: {clock.Elapsed.TotalMinutes:F1} min; load average (1/5/15 min) at the end: {MachineInfo.LoadAverage() ?? "unknown"}."));

        var markdown = report.ToString();
        Console.Out.Write(markdown);
        if (options.OutputFile is { } file)
        {
            await File.WriteAllTextAsync(file, markdown);
        }

        return 0;
    }

    private static string Took(Stopwatch section, string note) =>
        string.Create(CultureInfo.InvariantCulture, $"_This section took {section.Elapsed.TotalMinutes:F1} min{note}._") + Environment.NewLine;

    private sealed record Options(
        string Command,
        int Repetitions,
        IReadOnlyList<int> Sizes,
        TimeSpan SeedBudget,
        TimeSpan RunDuration,
        string? OutputFile,
        bool Quick,
        bool SeedThroughStore)
    {
        private static readonly string[] Commands = ["all", "scan", "ingest", "dispatch", "search", "import"];

        public bool Runs(string benchmark) => Command == "all" || Command == benchmark;

        public static Options Parse(string[] args)
        {
            var command = args[0];
            if (!Commands.Contains(command, StringComparer.Ordinal))
            {
                throw new FormatException($"Unknown command '{command}'.");
            }

            var quick = args.Contains("--quick", StringComparer.Ordinal);
            var options = new Options(
                command,
                quick ? 2 : 5,
                quick ? [200, 1000] : [1000, 10_000, 100_000],
                TimeSpan.FromMinutes(7),
                TimeSpan.FromSeconds(quick ? 1 : 5),
                null,
                quick,
                false);
            for (var i = 1; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick":
                        break;
                    case "--seed-with-store":
                        options = options with { SeedThroughStore = true };
                        break;
                    case "--reps":
                        options = options with { Repetitions = Positive(Value(args, ref i), "--reps") };
                        break;
                    case "--sizes":
                        options = options with { Sizes = [.. Value(args, ref i).Split(',').Select(s => Positive(s, "--sizes"))] };
                        if (options.Sizes.Any(s => s <= ScanData.DueCount))
                        {
                            throw new FormatException($"Every size must be above the {ScanData.DueCount} licenses with a reminder due.");
                        }

                        break;
                    case "--seed-budget":
                        options = options with { SeedBudget = TimeSpan.FromMinutes(Positive(Value(args, ref i), "--seed-budget")) };
                        break;
                    case "--seconds":
                        options = options with { RunDuration = TimeSpan.FromSeconds(Positive(Value(args, ref i), "--seconds")) };
                        break;
                    case "--out":
                        options = options with { OutputFile = Value(args, ref i) };
                        break;
                    default:
                        throw new FormatException($"Unknown option '{args[i]}'.");
                }
            }

            return options;
        }

        private static string Value(string[] args, ref int i) =>
            ++i < args.Length ? args[i] : throw new FormatException($"Option '{args[i - 1]}' needs a value.");

        private static int Positive(string raw, string option) =>
            int.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new FormatException($"Option '{option}' takes a positive whole number, not '{raw}'.");
    }
}
