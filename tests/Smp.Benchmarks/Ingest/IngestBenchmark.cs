using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Benchmarks.Infrastructure;
using Smp.Core.Licenses;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Benchmarks.Ingest;

/// <summary>Settings of the activation ingest benchmark.</summary>
internal sealed record IngestSettings(IReadOnlyList<int> Concurrency, int Repetitions, TimeSpan RunDuration, TimeSpan WarmUp);

/// <summary>
/// New activations per second through the function (the real app's <see cref="ActivationFunctions.RecordActivation"/>,
/// its result executed as the host would) and through the bare Table Storage operations one activation needs
/// (one request per partition of the rows the app writes ahead of the license: an upsert, or an entity group transaction
/// of upserts where the partition has several; one entity group transaction of summary and event; no read, since the
/// app adds a new serial without reading it first),
/// on the same Azurite, at several concurrency levels. Each repetition runs both paths back to back (the order
/// alternates), so that they share the machine's noise; the ratio is taken per repetition.
/// </summary>
internal sealed class IngestBenchmark(IngestSettings settings, TextWriter progress)
{
    private const string FunctionName = "RecordActivation";
    private static readonly Instant Now = Instant.FromUtc(2027, 3, 3, 15, 0);
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey", "Timestamp", "odata.etag"];

    private long functionSerials;
    private long rawSerials;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);

        // Warm-up (JIT, connection pools), and a summary and event row of the app's to copy into the raw path.
        progress.WriteLine("ingest: warm-up");
        RawPath.Templates rows;
        using (var app = await FreshAppAsync(azurite, cancellationToken))
        {
            await LoadDriver.RunAsync(8, settings.WarmUp, n => ActivateThroughFunctionAsync(app, n), () => Interlocked.Increment(ref functionSerials));
            rows = await RawPath.RowsOfAsync(new TableServiceClient(azurite.ConnectionString), app.TablePrefix, SerialFor("F", 1), CustomerFor(1), cancellationToken);
        }

        var rawTraffic = new TableTrafficPolicy();
        var rawClient = BenchApp.CountedClient(azurite.ConnectionString, rawTraffic);
        var warmRaw = await RawPath.CreateAsync(rawClient, rows, cancellationToken);
        await LoadDriver.RunAsync(8, settings.WarmUp, n => warmRaw.ActivateAsync(SerialFor("R", n), CustomerFor(n), cancellationToken), () => Interlocked.Increment(ref rawSerials));

        // Every run starts on empty tables of its own: on Azurite a point read costs more as a table grows (it scans
        // the rows that share the row key), which would otherwise favour whichever path had stored less so far.
        var runs = new List<(LoadResult Function, double FunctionRequests, LoadResult Raw, double RawRequests)>();
        for (var rep = 0; rep < settings.Repetitions; rep++)
        {
            foreach (var concurrency in settings.Concurrency)
            {
                progress.WriteLine($"ingest: repetition {rep + 1}/{settings.Repetitions}, concurrency {concurrency}");
                LoadResult function = null!, bare = null!;
                double functionRequests = 0, rawRequests = 0;
                async Task RunFunction()
                {
                    using var app = await FreshAppAsync(azurite, cancellationToken);
                    function = await LoadDriver.RunAsync(concurrency, settings.RunDuration, n => ActivateThroughFunctionAsync(app, n), () => Interlocked.Increment(ref functionSerials));
                    functionRequests = app.Traffic.Snapshot().Total.Requests / (double)function.Completed;
                }

                async Task RunRaw()
                {
                    var raw = await RawPath.CreateAsync(rawClient, rows, cancellationToken);
                    rawTraffic.Reset();
                    bare = await LoadDriver.RunAsync(concurrency, settings.RunDuration, n => raw.ActivateAsync(SerialFor("R", n), CustomerFor(n), cancellationToken), () => Interlocked.Increment(ref rawSerials));
                    rawRequests = rawTraffic.Snapshot().Total.Requests / (double)bare.Completed;
                }

                if (rep % 2 == 0)
                {
                    await RunFunction();
                    await RunRaw();
                }
                else
                {
                    await RunRaw();
                    await RunFunction();
                }

                runs.Add((function, functionRequests, bare, rawRequests));
            }
        }

        return Report(runs, rows.Ahead.Count, rows.Ahead.Select(r => r.PartitionKey).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>A new app on new tables, created before the clock starts (the store creates them on first use).</summary>
    private static async Task<BenchApp> FreshAppAsync(AzuriteProcess azurite, CancellationToken cancellationToken)
    {
        var app = BenchApp.Create(azurite.ConnectionString, Now);
        if (!await app.Get<ILicenseStore>().PingAsync(cancellationToken))
        {
            app.Dispose();
            throw new InvalidOperationException("The app's license tables did not answer.");
        }

        app.Traffic.Reset();
        return app;
    }

    private string Report(List<(LoadResult Function, double FunctionRequests, LoadResult Raw, double RawRequests)> runs, int rowsAhead, int partitionsAhead)
    {
        var table = new MarkdownTable(
            "concurrency",
            "function: activations/s",
            "function: p50 / p95 latency (ms)",
            "raw tables: activations/s",
            "raw tables: p50 / p95 latency (ms)",
            "raw ÷ function (overhead)",
            "storage requests per activation: function / raw");
        foreach (var i in new[] { 0, 1, 3, 5 })
        {
            table.RightAligned.Add(i);
        }

        foreach (var group in runs.GroupBy(r => r.Function.Concurrency))
        {
            var list = group.ToList();
            table.Add(
                group.Key,
                Stats.Of(list.Select(r => r.Function.PerSecond)).Format("F0"),
                Latency(list.Select(r => r.Function)),
                Stats.Of(list.Select(r => r.Raw.PerSecond)).Format("F0"),
                Latency(list.Select(r => r.Raw)),
                Stats.Of(list.Select(r => r.Raw.PerSecond / r.Function.PerSecond)).Format("F2") + "×",
                string.Create(CultureInfo.InvariantCulture, $"{Stats.Of(list.Select(r => r.FunctionRequests)).Median:F1} / {Stats.Of(list.Select(r => r.RawRequests)).Median:F1}"));
        }

        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Activations per second and the ratio: median (min–max) over {settings.Repetitions} repetitions of {settings.RunDuration.TotalSeconds:F0} s per path and concurrency, each on new, empty tables; " +
            $"latencies: the median over the repetitions of each run's p50 and p95. Every activation is a new serial (one-year plan; {rowsAhead} rows written ahead of the license: " +
            $"{rowsAhead - 1} index rows and its row among the latest events, which the raw path writes too, one request per partition: {partitionsAhead} partitions). " +
            $"The ratio is taken within each repetition (raw and function ran back to back, in alternating order)."));
        text.AppendLine();
        text.AppendLine(table.ToString());
        return text.ToString();

        static string Latency(IEnumerable<LoadResult> results)
        {
            var list = results.ToList();
            return string.Create(CultureInfo.InvariantCulture,
                $"{Stats.Of(list.Select(r => r.MedianLatencyMs)).Median:F1} / {Stats.Of(list.Select(r => r.P95LatencyMs)).Median:F1}");
        }
    }

    private static string SerialFor(string path, long n) => string.Create(CultureInfo.InvariantCulture, $"{path}{n:D8}");

    /// <summary>Four licenses per customer, like a company that bought a few seats.</summary>
    private static string CustomerFor(long n) => string.Create(CultureInfo.InvariantCulture, $"IC{n / 4:D7}");

    private static byte[] ActivationBody(long n) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""
        {"serial":"{{SerialFor("F", n)}}","customer":{"id":"{{CustomerFor(n)}}","name":"Customer {{CustomerFor(n)}}"},"contacts":["buyer@{{CustomerFor(n).ToLowerInvariant()}}.example.com","it@{{CustomerFor(n).ToLowerInvariant()}}.example.com"],"onSiteTraining":true,"activationEmailSentAt":"2027-02-14T10:00:00-07:00"}
        """));

    /// <summary>One POST /api/activations, as the worker runs it: a scope, the function class, the call, the result executed.</summary>
    private static async Task ActivateThroughFunctionAsync(BenchApp app, long n)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        var body = ActivationBody(n);
        http.Request.Method = HttpMethods.Post;
        http.Request.Path = "/api/activations";
        http.Request.ContentType = "application/json";
        http.Request.ContentLength = body.Length;
        http.Request.Body = new MemoryStream(body);
        http.Response.Body = new MemoryStream();

        var function = ActivatorUtilities.CreateInstance<ActivationFunctions>(scope.ServiceProvider);
        var result = await function.RecordActivation(http.Request, new BenchFunctionContext(FunctionName, scope.ServiceProvider));
        await result.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));
        if (http.Response.StatusCode != StatusCodes.Status201Created)
        {
            http.Response.Body.Position = 0;
            using var reader = new StreamReader(http.Response.Body);
            throw new InvalidOperationException($"Activation {n} answered {http.Response.StatusCode}: {await reader.ReadToEndAsync()}");
        }
    }

    /// <summary>The bare Table Storage work of one activation, with rows shaped and sized like the app's.</summary>
    private sealed class RawPath
    {
        private readonly TableClient licenses;
        private readonly TableClient index;
        private readonly Templates templates;

        private RawPath(TableClient licenses, TableClient index, Templates templates)
        {
            this.licenses = licenses;
            this.index = index;
            this.templates = templates;
        }

        /// <summary>
        /// The rows the app stored for one activation: the summary and event, and every row it wrote ahead of them in the
        /// index table (index rows and its row among the latest events), with the serial and customer id they were written for.
        /// </summary>
        public sealed record Templates(TableEntity Summary, TableEntity Event, IReadOnlyList<TableEntity> Ahead, string Serial, string Customer);

        /// <summary>A raw path on two new tables, writing rows with the columns of <paramref name="templates"/>.</summary>
        public static async Task<RawPath> CreateAsync(TableServiceClient service, Templates templates, CancellationToken cancellationToken)
        {
            var prefix = "raw" + Guid.NewGuid().ToString("N")[..12];
            var licenses = service.GetTableClient(prefix + "licenses");
            var index = service.GetTableClient(prefix + "licenseindex");
            await licenses.CreateIfNotExistsAsync(cancellationToken);
            await index.CreateIfNotExistsAsync(cancellationToken);
            return new RawPath(licenses, index, templates);
        }

        /// <summary>The rows the app stored for <paramref name="serial"/>, so the raw rows are as many and carry the same bytes.</summary>
        public static async Task<Templates> RowsOfAsync(TableServiceClient service, string appPrefix, string serial, string customer, CancellationToken cancellationToken)
        {
            var stored = service.GetTableClient(appPrefix + "licenses");
            var rows = new List<TableEntity>();
            await foreach (var row in stored.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {serial}"), cancellationToken: cancellationToken))
            {
                rows.Add(row);
            }

            var ahead = new List<TableEntity>();
            await foreach (var row in service.GetTableClient(appPrefix + "licenseindex").QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Serial eq {serial}"), cancellationToken: cancellationToken))
            {
                ahead.Add(row);
            }

            return new Templates(rows.Single(r => r.RowKey == LicenseEntities.SummaryRowKeyOf(serial)), rows.Single(r => r.RowKey != LicenseEntities.SummaryRowKeyOf(serial)), ahead, serial, customer);
        }

        public async Task ActivateAsync(string serial, string customer, CancellationToken cancellationToken)
        {
            // No read: a new serial is added blindly (the transaction below fails as a whole when it is stored).
            // 1. The rows the app writes ahead of the license, keyed for this serial and customer: one request per
            //    partition, an entity group transaction where the partition has several rows.
            foreach (var partition in templates.Ahead.GroupBy(row => row.PartitionKey, StringComparer.Ordinal))
            {
                var copies = partition.Select(row =>
                {
                    var copy = Copy(row, For(row.PartitionKey, serial, customer), For(row.RowKey, serial, customer));
                    copy["Serial"] = serial;
                    return copy;
                }).ToList();
                if (copies.Count == 1)
                {
                    await index.UpsertEntityAsync(copies[0], TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await index.SubmitTransactionAsync(copies.Select(copy => new TableTransactionAction(TableTransactionActionType.UpsertReplace, copy)), cancellationToken);
                }
            }

            // 2. Summary and first event in one entity group transaction.
            await licenses.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, Copy(templates.Summary, serial, LicenseEntities.SummaryRowKeyOf(serial))),
                    new TableTransactionAction(TableTransactionActionType.Add, Copy(templates.Event, serial, LicenseEntities.EventRowKeyOf(serial, 1))),
                ],
                cancellationToken);
        }

        /// <summary>A template row's key with the template's serial and customer id (as written, and folded to lower case for search) replaced by these.</summary>
        private string For(string key, string serial, string customer) =>
            key.Replace(templates.Serial, serial, StringComparison.Ordinal)
                .Replace(templates.Serial.ToLowerInvariant(), serial.ToLowerInvariant(), StringComparison.Ordinal)
                .Replace(templates.Customer, customer, StringComparison.Ordinal)
                .Replace(templates.Customer.ToLowerInvariant(), customer.ToLowerInvariant(), StringComparison.Ordinal);

        private static TableEntity Copy(TableEntity template, string partitionKey, string rowKey)
        {
            var copy = new TableEntity(partitionKey, rowKey);
            foreach (var (name, value) in template)
            {
                if (!KeyColumns.Contains(name, StringComparer.Ordinal))
                {
                    copy[name] = value;
                }
            }

            return copy;
        }
    }
}
