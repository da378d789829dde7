using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Azure.Mail;
using Smp.Benchmarks.Infrastructure;
using Smp.Benchmarks.Scan;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Benchmarks.Dispatch;

/// <summary>Settings of the mail dispatch benchmark.</summary>
internal sealed record DispatchSettings(int Repetitions, int ThroughputMessages, int DrainMessages, int MaxPerMinute, IReadOnlyList<Throttling> Throttled, IReadOnlyList<int> Backlogs);

/// <summary>What one dispatcher run costs in storage, for the monthly bill: a run that sends, per mail sent, and a run with nothing due.</summary>
internal sealed record DispatchCosts(double RequestsPerMailSent, double RequestsPerEmptyRun);

/// <summary>
/// Mail delivery through the real <see cref="MailDispatcher"/>, <c>TableMailOutbox</c> (Azurite) and
/// <see cref="AcsEmailTransport"/> (HMAC-signed HTTPS to <see cref="LocalAcsServer"/>), built by the app's
/// composition root. Three parts: how fast one dispatcher run can hand mail over when the cap does not bind;
/// a drain of a backlog under the configured per-minute cap; the same drain against services that throttle
/// (a quota per minute below the cap, and random 429s with <c>Retry-After</c> on top). Minutes are simulated: the dispatcher's clock
/// is a fake clock moved on one minute between runs, as the timer would, and the stand-in throttles in the
/// same simulated time.
/// </summary>
internal sealed class DispatchBenchmark(DispatchSettings settings, TextWriter progress)
{
    private const int MaxRuns = 500;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);
        await using var server = await LocalAcsServer.StartAsync();

        progress.WriteLine("dispatch: warm-up");
        await ThroughputAsync(azurite, server, cancellationToken);

        var throughput = new List<ThroughputRun>();
        for (var r = 0; r < settings.Repetitions; r++)
        {
            progress.WriteLine($"dispatch: throughput, repetition {r + 1}/{settings.Repetitions}");
            throughput.Add(await ThroughputAsync(azurite, server, cancellationToken));
        }

        var drains = new List<(string Scenario, DrainRun Run)>();
        foreach (var throttling in settings.Throttled.Prepend(Throttling.None))
        {
            for (var r = 0; r < settings.Repetitions; r++)
            {
                progress.WriteLine($"dispatch: drain, {throttling.Description}, repetition {r + 1}/{settings.Repetitions}");
                drains.Add((throttling.Description, await DrainAsync(azurite, server, throttling with { Seed = r + 1 }, cancellationToken)));
            }
        }

        var backlogs = new List<BacklogRun>();
        foreach (var backlog in settings.Backlogs)
        {
            progress.WriteLine($"dispatch: runs over a backlog of {backlog}");
            backlogs.Add(await BacklogAsync(azurite, server, backlog, cancellationToken));
        }

        progress.WriteLine("dispatch: a run with nothing due");
        var empty = await EmptyRunAsync(azurite, server, cancellationToken);
        var sentRuns = backlogs.SelectMany(b => b.Runs).ToList();
        Costs = new DispatchCosts(sentRuns.Sum(r => r.Requests) / (double)Math.Max(1, sentRuns.Sum(r => r.Sent)), empty.Requests);
        return Report(throughput, drains) + BacklogReport(backlogs, empty);
    }

    /// <summary>Storage requests per mail sent and per run with nothing due, once <see cref="RunAsync"/> has run.</summary>
    public DispatchCosts? Costs { get; private set; }

    private const int BacklogRuns = 3;

    /// <summary>A backlog of <paramref name="backlog"/> reminder mails all due, and <see cref="BacklogRuns"/> runs a simulated minute apart.</summary>
    private async Task<BacklogRun> BacklogAsync(AzuriteProcess azurite, LocalAcsServer server, int backlog, CancellationToken cancellationToken)
    {
        using var app = CreateApp(azurite, server, settings.MaxPerMinute);
        server.Reset(Throttling.None);
        await EnqueueAsync(app, backlog, cancellationToken);
        var dispatcher = app.Get<MailDispatcher>();
        var runs = new List<RunCost>();
        for (var run = 0; run < BacklogRuns; run++)
        {
            app.Traffic.Reset();
            var started = Stopwatch.GetTimestamp();
            var report = await dispatcher.RunAsync(cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var traffic = app.Traffic.Snapshot().Total;
            runs.Add(new RunCost(report.Sent, traffic.Requests, traffic.EntitiesRead, elapsed.TotalMilliseconds));
            app.Clock.Advance(Duration.FromMinutes(1));
        }

        return new BacklogRun(backlog, runs);
    }

    /// <summary>The every-minute run when nothing is due (most minutes of a month).</summary>
    private static async Task<RunCost> EmptyRunAsync(AzuriteProcess azurite, LocalAcsServer server, CancellationToken cancellationToken)
    {
        using var app = CreateApp(azurite, server, 30);
        server.Reset(Throttling.None);
        var dispatcher = app.Get<MailDispatcher>();
        await dispatcher.RunAsync(cancellationToken); // creates the table, as the first run after deployment does
        app.Clock.Advance(Duration.FromMinutes(1));
        app.Traffic.Reset();
        var report = await dispatcher.RunAsync(cancellationToken);
        var traffic = app.Traffic.Snapshot().Total;
        return new RunCost(report.Sent, traffic.Requests, traffic.EntitiesRead, 0);
    }

    private string BacklogReport(IReadOnlyList<BacklogRun> backlogs, RunCost empty)
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Runs over a backlog (every mail due, Smp:Email:MaxPerMinute = {settings.MaxPerMinute}, no throttling): {BacklogRuns} runs a simulated minute apart, each row one run:"));
        text.AppendLine();
        var table = new MarkdownTable("pending when the run starts", "sent", "entities read", "entities read / sent", "storage requests", "storage requests / sent", "wall time (ms)");
        foreach (var i in Enumerable.Range(0, 7))
        {
            table.RightAligned.Add(i);
        }

        foreach (var backlog in backlogs)
        {
            var pending = backlog.Backlog;
            foreach (var run in backlog.Runs)
            {
                table.Add(
                    pending.ToString("N0", CultureInfo.InvariantCulture),
                    run.Sent.ToString(CultureInfo.InvariantCulture),
                    run.EntitiesRead.ToString(CultureInfo.InvariantCulture),
                    (run.EntitiesRead / (double)Math.Max(1, run.Sent)).ToString("F2", CultureInfo.InvariantCulture),
                    run.Requests.ToString(CultureInfo.InvariantCulture),
                    (run.Requests / (double)Math.Max(1, run.Sent)).ToString("F2", CultureInfo.InvariantCulture),
                    run.WallMs.ToString("F0", CultureInfo.InvariantCulture));
                pending -= run.Sent;
            }
        }

        text.AppendLine(table.ToString());
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"A run with nothing due: {empty.Requests} storage requests, {empty.EntitiesRead} entities read."));
        return text.ToString();
    }

    private sealed record RunCost(int Sent, long Requests, long EntitiesRead, double WallMs);

    private sealed record BacklogRun(int Backlog, IReadOnlyList<RunCost> Runs);

    private static BenchApp CreateApp(AzuriteProcess azurite, LocalAcsServer server, int maxPerMinute)
    {
        var app = BenchApp.Create(
            azurite.ConnectionString,
            ScanData.Now,
            new Dictionary<string, string?>
            {
                ["Smp:Email:Transport"] = "Acs",
                ["Smp:Email:AcsConnectionString"] = server.ConnectionString,
                ["Smp:Email:MaxPerMinute"] = maxPerMinute.ToString(CultureInfo.InvariantCulture),
            },
            services => services.AddHttpClient<AcsEmailTransport>().ConfigurePrimaryHttpMessageHandler(server.CreateClientHandler));
        server.Clock = app.Clock;
        return app;
    }

    /// <summary>Puts <paramref name="count"/> reminder mails (composed by the app's composer, each with its own id) in the outbox.</summary>
    private static async Task<IReadOnlyList<string>> EnqueueAsync(BenchApp app, int count, CancellationToken cancellationToken)
    {
        var outbox = app.Get<IMailOutbox>();
        var composer = app.Get<IReminderMailComposer>();
        var schedule = app.Get<ReminderSchedule>();
        var ids = new string[count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var license = ScanData.Due(i % ScanData.DueCount).License;
                var reminder = schedule.DueOn(license, ScanData.Today) ?? throw new InvalidOperationException("The sample license has no reminder due.");
                var batch = new ReminderBatch(license.Customer.Id, reminder.Stage, license.Contacts, [new DueReminder(license, reminder)]);
                var mail = composer.Compose(batch) with { Id = Guid.NewGuid().ToString("D") };
                var result = await outbox.EnqueueAsync(mail, MailKinds.Reminder, [], app.Clock.GetCurrentInstant(), ct);
                if (result is not EnqueueResult.Enqueued)
                {
                    throw new InvalidOperationException($"Mail {i} was not enqueued: {result}.");
                }

                ids[i] = mail.Id;
            });
        return ids;
    }

    private async Task<ThroughputRun> ThroughputAsync(AzuriteProcess azurite, LocalAcsServer server, CancellationToken cancellationToken)
    {
        // A cap far above the backlog: one run hands over everything, as fast as the code and the peers allow.
        using var app = CreateApp(azurite, server, maxPerMinute: 1000);
        server.Reset(Throttling.None);
        var ids = await EnqueueAsync(app, settings.ThroughputMessages, cancellationToken);
        var dispatcher = app.Get<MailDispatcher>();
        app.Traffic.Reset();
        var started = Stopwatch.GetTimestamp();
        var report = await dispatcher.RunAsync(cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var traffic = app.Traffic.Snapshot().Total;
        if (report.Sent != ids.Count || !server.Rejections.IsEmpty)
        {
            throw new InvalidOperationException($"The throughput run sent {report.Sent} of {ids.Count}; the service refused {server.Rejections.Count} requests ({string.Join("; ", server.Rejections.Take(3))}).");
        }

        return new ThroughputRun(ids.Count, elapsed, traffic.Requests / (double)ids.Count, traffic.EntitiesRead / (double)ids.Count);
    }

    private async Task<DrainRun> DrainAsync(AzuriteProcess azurite, LocalAcsServer server, Throttling throttling, CancellationToken cancellationToken)
    {
        using var app = CreateApp(azurite, server, settings.MaxPerMinute);
        server.Reset(throttling);
        var ids = await EnqueueAsync(app, settings.DrainMessages, cancellationToken);
        var dispatcher = app.Get<MailDispatcher>();
        var outbox = app.Get<IMailOutbox>();

        var sentPerRun = new List<int>();
        var runTimes = new List<double>();
        var sent = 0;
        var throttledRuns = 0;
        app.Traffic.Reset();
        var started = Stopwatch.GetTimestamp();
        while (sent < ids.Count && sentPerRun.Count < MaxRuns)
        {
            var runStarted = Stopwatch.GetTimestamp();
            var report = await dispatcher.RunAsync(cancellationToken);
            runTimes.Add(Stopwatch.GetElapsedTime(runStarted).TotalMilliseconds);
            sentPerRun.Add(report.Sent);
            sent += report.Sent;
            throttledRuns += report.Throttled ? 1 : 0;
            app.Clock.Advance(Duration.FromMinutes(1));
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var traffic = app.Traffic.Snapshot().Total;

        var statuses = new Dictionary<MailStatus, int>();
        foreach (var id in ids)
        {
            var stored = await outbox.GetAsync(id, cancellationToken) ?? throw new InvalidOperationException($"Mail {id} is gone from the outbox.");
            statuses[stored.Message.Status] = statuses.GetValueOrDefault(stored.Message.Status) + 1;
        }

        var logs = ids.Select(id => server.Operations.TryGetValue(id, out var log) ? log : new OperationLog()).ToList();
        return new DrainRun(
            ids.Count,
            sentPerRun,
            runTimes,
            throttledRuns,
            server.MaxSendsInOneMinute,
            logs.Count(l => l.Accepted == 1),
            logs.Count(l => l.Accepted > 1),
            logs.Count(l => l.Accepted == 0),
            logs.Sum(l => l.Attempts),
            logs.Sum(l => l.Throttled),
            logs.Sum(l => l.EarlyRetries),
            server.Rejections.Count,
            statuses.GetValueOrDefault(MailStatus.Sent),
            elapsed,
            traffic.EntitiesRead / (double)sentPerRun.Count);
    }

    private string Report(IReadOnlyList<ThroughputRun> throughput, IReadOnlyList<(string Scenario, DrainRun Run)> drains)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Throughput with the cap out of the way (Smp:Email:MaxPerMinute = 1000, one dispatcher run over a backlog of {settings.ThroughputMessages} reminder mails, no throttling); median (min–max) over {throughput.Count} repetitions:"));
        text.AppendLine();
        var speed = new MarkdownTable("messages per minute (wall clock)", "ms per message", "storage requests per message", "entities read per message");
        foreach (var i in new[] { 0, 1, 2, 3 })
        {
            speed.RightAligned.Add(i);
        }

        speed.Add(
            Stats.Of(throughput.Select(t => t.Messages / t.Elapsed.TotalMinutes)).Format("F0"),
            Stats.Of(throughput.Select(t => t.Elapsed.TotalMilliseconds / t.Messages)).Format("F1"),
            Stats.Of(throughput.Select(t => t.RequestsPerMessage)).Format("F1"),
            Stats.Of(throughput.Select(t => t.EntitiesReadPerMessage)).Format("F1"));
        text.AppendLine(speed.ToString());

        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Draining a backlog of {settings.DrainMessages} mails with Smp:Email:MaxPerMinute = {settings.MaxPerMinute}, one dispatcher run per simulated minute; median (min–max) over {settings.Repetitions} repetitions:"));
        text.AppendLine();
        var drain = new MarkdownTable(
            "service behaviour",
            "simulated minutes to send all",
            "mails per simulated minute",
            "most sends received in one minute",
            "runs ended by a 429",
            "429 answers",
            "sends before Retry-After passed",
            "accepted exactly once / duplicates / never",
            "outbox: Sent at the end",
            "wall time per run (ms)",
            "entities read per run");
        foreach (var i in Enumerable.Range(1, 10).Where(i => i != 7))
        {
            drain.RightAligned.Add(i);
        }

        foreach (var group in drains.GroupBy(d => d.Scenario))
        {
            var runs = group.Select(g => g.Run).ToList();
            drain.Add(
                group.Key,
                Stats.Of(runs.Select(r => (double)r.SentPerRun.Count)).Format("F0"),
                Stats.Of(runs.Select(r => r.Messages / (double)r.SentPerRun.Count)).Format("F1"),
                runs.Max(r => r.MaxSendsInOneMinute).ToString(CultureInfo.InvariantCulture) + " (cap " + settings.MaxPerMinute.ToString(CultureInfo.InvariantCulture) + ")",
                Stats.Of(runs.Select(r => (double)r.ThrottledRuns)).Format("F0"),
                Stats.Of(runs.Select(r => (double)r.Throttled)).Format("F0"),
                runs.Sum(r => r.EarlyRetries).ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{runs.Sum(r => r.AcceptedOnce)}/{runs.Sum(r => r.Messages)} / {runs.Sum(r => r.Duplicates)} / {runs.Sum(r => r.Never)}"),
                string.Create(CultureInfo.InvariantCulture, $"{runs.Sum(r => r.OutboxSent)}/{runs.Sum(r => r.Messages)}"),
                Stats.Of(runs.SelectMany(r => r.RunTimesMs)).Format("F0"),
                Stats.Of(runs.Select(r => r.EntitiesReadPerRun)).Format("F0"));
        }

        text.AppendLine(drain.ToString());
        var refused = drains.Sum(d => d.Run.Rejections);
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Every send was checked like the service checks it (api-version, HMAC-SHA256 signature, content hash, Operation-Id, body shape): {refused} refused. " +
            $"Counts in the \"accepted\", \"outbox\" and \"before Retry-After\" columns are totals over all repetitions; the wall time per run is over every run of every repetition."));
        return text.ToString();
    }

    private sealed record ThroughputRun(int Messages, TimeSpan Elapsed, double RequestsPerMessage, double EntitiesReadPerMessage);

    private sealed record DrainRun(
        int Messages,
        IReadOnlyList<int> SentPerRun,
        IReadOnlyList<double> RunTimesMs,
        int ThrottledRuns,
        int MaxSendsInOneMinute,
        int AcceptedOnce,
        int Duplicates,
        int Never,
        int Attempts,
        int Throttled,
        int EarlyRetries,
        int Rejections,
        int OutboxSent,
        TimeSpan Elapsed,
        double EntitiesReadPerRun);
}
