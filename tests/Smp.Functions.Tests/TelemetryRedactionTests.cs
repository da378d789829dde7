using System.Diagnostics;
using System.Net;
using System.Text;
using System.Web;
using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using Smp.Functions.Functions;
using Smp.Functions.Hosting;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5: no link signature, function key or password reaches a log or the telemetry exporter. The real
/// app (with telemetry switched on, exports kept on the machine) answers a password link, a password release and a
/// staff call that carries its key in the query string, both through its ASP.NET Core web host (where the hosting
/// diagnostics log request lines) and through its functions; every log record (all providers) and every record the
/// exporter would send is searched for the secrets.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TelemetryRedactionTests(AzuriteFixture azurite)
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);

    // Loopback endpoints only: a test must never reach Azure.
    private const string FakeConnectionString =
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/";

    private const string FunctionKey = "Fk7pQ2xZrT9wLm4vN8bC1dE6hJ3kS5yU0aGiOq";

    private const string CarelessCategory = "Smp.Functions.CarelessLine";

    [Fact]
    public async Task Section5_no_link_signature_function_key_or_password_reaches_a_log_or_the_exporter()
    {
        // A span left current by whatever ran before on this thread would make every span here its child, sampled
        // (or not) by its decision.
        Activity.Current = null;
        var logs = new LogCapture();
        // Exporters run on the threads that end spans and write logs, while other tests' spans may arrive too.
        var exportedLogs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var exportedSpans = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var api = new ApiHarness(
            azurite.ConnectionString,
            Now,
            new Dictionary<string, string?>
            {
                [Telemetry.ConnectionStringSetting] = FakeConnectionString,
                // Read when the hosted services are created (only the web host's is started): nothing connects to it.
                ["Functions:Worker:HostEndpoint"] = "http://127.0.0.1:9",
            },
            services =>
            {
                services.AddSingleton<ILoggerProvider>(logs);
                // The app's own web host, served in memory instead of on a socket.
                services.AddSingleton<IServer>(sp => new TestServer(sp));
                services.PostConfigure<AzureMonitorExporterOptions>(KeepEverythingLocal);
                services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(
                    new SimpleActivityExportProcessor(new SnapshotExporter<Activity>(a => exportedSpans.Enqueue(Describe(a))))));
                services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(
                    new SimpleLogRecordExportProcessor(new SnapshotExporter<LogRecord>(r => exportedLogs.Enqueue(Describe(r))))));
            });
        var tracer = api.Services.GetRequiredService<TracerProvider>();
        var webHost = api.Services.GetServices<IHostedService>().Single(s => s.GetType().Name == "GenericWebHostService");
        await webHost.StartAsync(CancellationToken.None);

        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody());
        Assert.Equal(201, (await UpdateApi.PublishAsync(api)).Status);
        var link = await UpdateApi.LinkAsync(api);
        var signature = HttpUtility.ParseQueryString(link.Query)["sig"];
        Assert.False(string.IsNullOrEmpty(signature));
        var forged = new string(signature.Reverse().ToArray());
        var forgedLink = new Uri(link.ToString().Replace(signature, forged, StringComparison.Ordinal));

        // Through the web host: the requests as they arrive, query strings and key header included.
        using var client = ((TestServer)api.Services.GetRequiredService<IServer>()).CreateClient();
        await SendAsync(client, link.PathAndQuery);
        await SendAsync(client, forgedLink.PathAndQuery);
        await SendAsync(client, $"/api/licenses/VT-1001?code={FunctionKey}", withKeyHeader: true);

        // Through the functions: the password link, a forged one, and the staff call with its key in the query.
        var released = await UpdateApi.OpenAsync(api, link, accept: "application/json");
        Assert.Equal(200, released.Status);
        Assert.Equal(UpdateApi.Password, released.Json().GetProperty("password").GetString());
        Assert.Equal(403, (await UpdateApi.OpenAsync(api, forgedLink, accept: "application/json")).Status);
        var staff = api.Request("GET", "/api/licenses/VT-1001", query: $"code={FunctionKey}");
        staff.Headers["x-functions-key"] = FunctionKey;
        var license = await ApiHarness.ExecuteAsync(staff, await api.Function<LicenseFunctions>().GetLicense(staff, "VT-1001", ApiHarness.Context("GetLicense")));
        Assert.Equal(200, license.Status);

        // A log line that carries the whole link and the key, as a careless log statement would: the exporter must
        // still see no value of either. (Only the exporter redacts; the app's own lines are checked everywhere below.)
        api.Services.GetRequiredService<ILoggerFactory>().CreateLogger(CarelessCategory)
            .LogWarning("Could not deliver {Link}; staff call {Staff}", link, $"https://smp.example/api/licenses/VT-1001?code={FunctionKey}");

        using (var span = Smp.Core.Observability.SmpTelemetry.ActivitySource.StartActivity("CarelessSpan"))
        {
            Assert.NotNull(span);
            span.SetTag("url.full", link.ToString());
            span.SetTag("smp.staff", $"https://smp.example/api/licenses/VT-1001?code={FunctionKey}");

            // An exception escaping a function is recorded on its span as an event (message and stack trace).
            try
            {
                throw new InvalidOperationException($"Could not deliver {link}; staff call {{\"code\":\"{FunctionKey}\"}}");
            }
            catch (InvalidOperationException exception)
            {
                span.AddException(exception);
            }
        }

        Assert.True(tracer.ForceFlush());
        await webHost.StopAsync(CancellationToken.None);

        string[] secrets = [signature, forged, FunctionKey, UpdateApi.Password, WebUtility.HtmlEncode(UpdateApi.Password)];
        Assert.NotEmpty(logs.Records);
        Assert.NotEmpty(exportedLogs);
        Assert.NotEmpty(exportedSpans);
        Assert.Contains(exportedSpans, s => s.Contains("CarelessSpan", StringComparison.Ordinal) && s.Contains("event exception exception.message=", StringComparison.Ordinal));
        foreach (var (where, records) in new[] { ("exported log", exportedLogs.ToArray()), ("exported span", exportedSpans.ToArray()), ("log", logs.Records.Where(r => !r.StartsWith(CarelessCategory, StringComparison.Ordinal)).ToArray()) })
        {
            foreach (var record in records)
            {
                foreach (var secret in secrets)
                {
                    Assert.False(
                        record.Contains(secret, StringComparison.Ordinal) || record.Contains(Uri.EscapeDataString(secret), StringComparison.Ordinal),
                        $"A secret reached a {where}: {record}");
                }
            }
        }
    }

    private static async Task SendAsync(HttpClient client, string pathAndQuery, bool withKeyHeader = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (withKeyHeader)
        {
            request.Headers.Add("x-functions-key", FunctionKey);
        }

        try
        {
            // Outside a Functions host no invocation stands behind the request, so the worker's middleware fails
            // it; the request has gone through the web host's logging and tracing by then.
            using var response = await client.SendAsync(request);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void KeepEverythingLocal(AzureMonitorExporterOptions options)
    {
        options.Credential = new LocalCredential();
        options.EnableLiveMetrics = false;
        options.DisableOfflineStorage = true;

        // Every span and log record is sampled in: the exporter's default rate-limited sampler (and the logs that
        // follow their trace's decision) would otherwise drop some, or all, of them when other tests are busy.
        options.TracesPerSecond = null;
        options.SamplingRatio = 1.0F;
        options.EnableTraceBasedLogsSampler = false;
    }

    private static string Describe(LogRecord record)
    {
        var text = new StringBuilder()
            .Append(record.CategoryName).Append(' ').Append(record.LogLevel)
            .Append(" | message ").Append(record.FormattedMessage)
            .Append(" | body ").Append(record.Body);
        foreach (var attribute in record.Attributes ?? [])
        {
            text.Append(" | ").Append(attribute.Key).Append('=').Append(attribute.Value);
        }

        record.ForEachScope(
            (scope, builder) =>
            {
                builder.Append(" | scope ").Append(scope.Scope);
                foreach (var item in scope)
                {
                    builder.Append(' ').Append(item.Key).Append('=').Append(item.Value);
                }
            },
            text);
        return text.Append(" | exception ").Append(record.Exception).ToString();
    }

    private static string Describe(Activity span)
    {
        var text = new StringBuilder()
            .Append(span.Source.Name).Append(' ').Append(span.DisplayName)
            .Append(" | status ").Append(span.StatusDescription);
        foreach (var tag in span.TagObjects)
        {
            text.Append(" | ").Append(tag.Key).Append('=').Append(tag.Value);
        }

        foreach (var spanEvent in span.Events)
        {
            text.Append(" | event ").Append(spanEvent.Name);
            foreach (var tag in spanEvent.Tags)
            {
                text.Append(' ').Append(tag.Key).Append('=').Append(tag.Value);
            }
        }

        return text.ToString();
    }

    /// <summary>Copies each exported item into text at once: log records are reused after export.</summary>
    private sealed class SnapshotExporter<T>(Action<T> snapshot) : BaseExporter<T>
        where T : class
    {
        public override ExportResult Export(in Batch<T> batch)
        {
            foreach (var item in batch)
            {
                snapshot(item);
            }

            return ExportResult.Success;
        }
    }

    /// <summary>Every log entry of the app as any logging provider (console, the host's channel) receives it, scopes included.</summary>
    private sealed class LogCapture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public System.Collections.Concurrent.ConcurrentQueue<string> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture capture, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => capture._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new StringBuilder().Append(category).Append(' ').Append(logLevel).Append(' ').Append(formatter(state, exception));
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var value in values)
                    {
                        text.Append(" | ").Append(value.Key).Append('=').Append(value.Value);
                    }
                }

                capture._scopes.ForEachScope(
                    (scope, builder) =>
                    {
                        builder.Append(" | scope ").Append(scope);
                        if (scope is IEnumerable<KeyValuePair<string, object?>> items)
                        {
                            foreach (var item in items)
                            {
                                builder.Append(' ').Append(item.Key).Append('=').Append(item.Value);
                            }
                        }
                    },
                    text);
                capture.Records.Enqueue(text.Append(" | exception ").Append(exception).ToString());
            }
        }
    }

    private sealed class LocalCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("not-a-real-token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
