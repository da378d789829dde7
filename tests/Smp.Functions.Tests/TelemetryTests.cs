using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Smp.Core.Observability;
using Smp.Functions.Hosting;

namespace Smp.Functions.Tests;

public sealed class SmpMetricsTests : IDisposable
{
    private readonly ServiceProvider provider;
    private readonly IMeterFactory meterFactory;
    private readonly SmpMetrics metrics;

    public SmpMetricsTests()
    {
        provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        meterFactory = provider.GetRequiredService<IMeterFactory>();
        metrics = new SmpMetrics(meterFactory);
    }

    public void Dispose() => provider.Dispose();

    [Fact]
    public void A_completed_scan_records_each_count_on_its_own_instrument()
    {
        using var examined = Collect<long>(SmpMetrics.Instruments.LicensesExamined);
        using var due = Collect<long>(SmpMetrics.Instruments.RemindersDue);
        using var enqueued = Collect<long>(SmpMetrics.Instruments.MailsEnqueued);
        using var missed = Collect<long>(SmpMetrics.Instruments.RemindersMissed);
        using var duration = Collect<double>(SmpMetrics.Instruments.ScanDuration);

        metrics.ScanCompleted(examined: 1200, due: 17, mailsEnqueued: 9, missed: 2, duration: TimeSpan.FromMilliseconds(2500));

        Assert.Equal(1200, Assert.Single(examined.GetMeasurementSnapshot()).Value);
        Assert.Equal(17, Assert.Single(due.GetMeasurementSnapshot()).Value);
        Assert.Equal(9, Assert.Single(enqueued.GetMeasurementSnapshot()).Value);
        Assert.Equal(2, Assert.Single(missed.GetMeasurementSnapshot()).Value);
        Assert.Equal(2.5, Assert.Single(duration.GetMeasurementSnapshot()).Value, precision: 9);
    }

    [Fact]
    public void A_scan_that_found_nothing_still_records_zero_counts()
    {
        using var due = Collect<long>(SmpMetrics.Instruments.RemindersDue);
        using var duration = Collect<double>(SmpMetrics.Instruments.ScanDuration);

        metrics.ScanCompleted(examined: 0, due: 0, mailsEnqueued: 0, missed: 0, duration: TimeSpan.Zero);

        Assert.Equal(0, Assert.Single(due.GetMeasurementSnapshot()).Value);
        Assert.Single(duration.GetMeasurementSnapshot());
    }

    [Fact]
    public void Scans_add_up()
    {
        using var examined = Collect<long>(SmpMetrics.Instruments.LicensesExamined);

        metrics.ScanCompleted(10, 1, 1, 0, TimeSpan.FromSeconds(1));
        metrics.ScanCompleted(15, 0, 0, 0, TimeSpan.FromSeconds(1));

        Assert.Equal([10L, 15L], examined.GetMeasurementSnapshot().Select(m => m.Value));
    }

    [Fact]
    public void Sent_and_failed_mails_are_counted_by_kind()
    {
        using var sent = Collect<long>(SmpMetrics.Instruments.MailSent);
        using var failed = Collect<long>(SmpMetrics.Instruments.MailFailed);

        metrics.MailSent("reminder");
        metrics.MailSent("reminder");
        metrics.MailSent("announcement");
        metrics.MailFailed("term");

        var sentByKind = sent.GetMeasurementSnapshot()
            .GroupBy(m => (string?)m.Tags[SmpMetrics.KindTag])
            .ToDictionary(g => g.Key!, g => g.Sum(m => m.Value));
        Assert.Equal(new Dictionary<string, long> { ["reminder"] = 2, ["announcement"] = 1 }, sentByKind);
        var failure = Assert.Single(failed.GetMeasurementSnapshot());
        Assert.Equal(1, failure.Value);
        Assert.Equal(new Dictionary<string, object?> { [SmpMetrics.KindTag] = "term" }, failure.Tags);
    }

    [Fact]
    public void Throttling_and_delivery_attempts_are_counted_without_tags()
    {
        using var throttled = Collect<long>(SmpMetrics.Instruments.MailThrottled);
        using var attempts = Collect<long>(SmpMetrics.Instruments.DeliveryAttempts);

        metrics.DeliveryAttempted();
        metrics.MailThrottled();
        metrics.DeliveryAttempted();

        Assert.Equal(1, throttled.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(2, attempts.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(attempts.GetMeasurementSnapshot(), m => Assert.Empty(m.Tags));
    }

    [Fact]
    public void Impossible_counts_and_kinds_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.ScanCompleted(-1, 0, 0, 0, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.ScanCompleted(0, 0, 0, -1, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.ScanCompleted(0, 0, 0, 0, TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentException>(() => metrics.MailSent(" "));
        Assert.ThrowsAny<ArgumentException>(() => metrics.MailFailed(null!));
    }

    [Fact]
    public void Every_instrument_lives_on_the_Smp_meter_with_the_documented_name()
    {
        var published = new List<(string Meter, string Instrument, string? Unit)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == meterFactory)
                {
                    published.Add((instrument.Meter.Name, instrument.Name, instrument.Unit));
                }
            },
        };
        listener.Start();

        Assert.All(published, p => Assert.Equal(SmpMetrics.MeterName, p.Meter));
        Assert.Equal(
            [
                "smp.export.unreadable", "smp.latest_events.prune_failed", "smp.latest_events.pruned", "smp.mail.delivery_attempts", "smp.mail.failed", "smp.mail.sent", "smp.mail.throttled", "smp.mail.unreadable",
                "smp.reminders.due", "smp.reminders.failed", "smp.reminders.licenses_examined", "smp.reminders.mails_enqueued",
                "smp.reminders.missed", "smp.reminders.offsets_conflicts", "smp.replacements.unfinished", "smp.requests.given_up", "smp.requests.oldest_pending_age", "smp.requests.pending",
                "smp.requests.purge_failed", "smp.requests.unreadable", "smp.scan.duration",
            ],
            published.Select(p => p.Instrument).Order(StringComparer.Ordinal));
        Assert.Equal("s", published.Single(p => p.Instrument == "smp.scan.duration").Unit);
    }

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(meterFactory, SmpMetrics.MeterName, instrument);
}

public sealed class AddSmpTelemetryTests
{
    // Loopback endpoints only: a test must never reach Azure.
    private const string FakeConnectionString =
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/";

    [Fact]
    public void Without_a_connection_string_it_registers_the_metrics_and_no_OpenTelemetry_at_all()
    {
        var services = new ServiceCollection().AddLogging();

        services.AddSmpTelemetry(Configuration());

        Assert.DoesNotContain(services, d =>
            IsFrom(d, typeof(AzureMonitorExporterOptions).Assembly)
            || IsFrom(d, typeof(TracerProvider).Assembly)
            || IsFrom(d, typeof(Sdk).Assembly)
            || IsFrom(d, typeof(Microsoft.Azure.Functions.Worker.OpenTelemetry.ConfigureFunctionsOpenTelemetry).Assembly));
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var metrics = provider.GetRequiredService<SmpMetrics>();
        Assert.Same(metrics, provider.GetRequiredService<SmpMetrics>());
        Assert.Null(provider.GetService<MeterProvider>());
        Assert.Null(provider.GetService<TracerProvider>());
        Assert.Null(provider.GetService<LoggerProvider>());

        using var examined = new MetricCollector<long>(provider.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, SmpMetrics.Instruments.LicensesExamined);
        metrics.ScanCompleted(3, 0, 0, 0, TimeSpan.FromSeconds(1));
        Assert.Equal(3, Assert.Single(examined.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public void A_blank_connection_string_counts_as_none()
    {
        var services = new ServiceCollection().AddLogging();

        services.AddSmpTelemetry(Configuration((Telemetry.ConnectionStringSetting, "  ")));

        using var provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetService<SmpMetrics>());
        Assert.Null(provider.GetService<TracerProvider>());
    }

    [Fact]
    public void With_a_connection_string_the_exporter_authenticates_as_the_managed_identity()
    {
        using var provider = BuildWithExporter(Configuration(
            (Telemetry.ConnectionStringSetting, FakeConnectionString),
            (Telemetry.ManagedIdentityClientIdSetting, "11111111-1111-1111-1111-111111111111")));

        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<AzureMonitorExporterOptions>>().Value;

        Assert.Equal(FakeConnectionString, options.ConnectionString);
        Assert.IsType<ManagedIdentityCredential>(options.Credential);
    }

    [Fact]
    public void The_credential_is_the_managed_identity_when_its_client_id_is_set_else_the_default_chain()
    {
        Assert.IsType<ManagedIdentityCredential>(Telemetry.CreateCredential(Configuration((Telemetry.ManagedIdentityClientIdSetting, "11111111-1111-1111-1111-111111111111"))));
        Assert.IsType<DefaultAzureCredential>(Telemetry.CreateCredential(Configuration()));
    }

    [Fact]
    public async Task With_a_connection_string_the_providers_resolve_and_listen_to_the_app_the_worker_and_the_Azure_SDK()
    {
        using var provider = BuildWithExporter(Configuration((Telemetry.ConnectionStringSetting, FakeConnectionString)), KeepEverythingLocal);

        Assert.NotNull(provider.GetRequiredService<TracerProvider>());
        Assert.NotNull(provider.GetRequiredService<MeterProvider>());
        Assert.NotNull(provider.GetRequiredService<LoggerProvider>());
        Assert.NotNull(provider.GetRequiredService<SmpMetrics>());

        // A Functions host starts the hosted services; that is when the exporter joins the pipelines.
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        Assert.True(SmpTelemetry.ActivitySource.HasListeners());
        using (var worker = new ActivitySource(Telemetry.FunctionsWorkerActivitySourceName))
        {
            Assert.True(worker.HasListeners());
        }

        using (var tables = new ActivitySource("Azure.Data.Tables.TableClient"))
        {
            Assert.True(tables.HasListeners());
        }

        // The meter provider subscribes to the container's "Smp" meter, the one SmpMetrics records on.
        var smpMeter = provider.GetRequiredService<IMeterFactory>().Create(SmpMetrics.MeterName);
        Assert.True(smpMeter.CreateCounter<long>("smp.test.probe").Enabled);

        foreach (var service in hosted)
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Through_the_container_secrets_are_redacted_and_Azure_SDK_chatter_stays_out_of_the_logs()
    {
        var spans = new List<Dictionary<string, object?>>();
        var logs = new List<(string Category, LogLevel Level, Dictionary<string, object?> Attributes)>();
        using var provider = BuildWithExporter(
            Configuration((Telemetry.ConnectionStringSetting, FakeConnectionString)),
            KeepEverythingLocal,
            services => services
                .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(
                    new Capture<Activity>(a =>
                    {
                        // Only this test's spans: Azure SDK spans of other tests running in the same process reach the
                        // provider too, and are not what this test is about.
                        if (a.Source.Name == SmpTelemetry.ActivitySource.Name && a.DisplayName == "publish update")
                        {
                            spans.Add(a.TagObjects.ToDictionary(t => t.Key, t => t.Value));
                        }
                    })))
                .ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(
                    new Capture<LogRecord>(r => logs.Add((r.CategoryName!, r.LogLevel, (r.Attributes ?? []).ToDictionary(a => a.Key, a => a.Value)))))));
        _ = provider.GetRequiredService<TracerProvider>();
        var loggers = provider.GetRequiredService<ILoggerFactory>();

        using (var activity = SmpTelemetry.ActivitySource.StartActivity("publish update"))
        {
            activity?.SetTag("smp.update.password", "hunter2");
        }

        loggers.CreateLogger("Smp.Updates").LogInformation("Stored {Password} for {Version}", "hunter2", "1.96");
        loggers.CreateLogger("Azure.Core").LogInformation("Request [1] GET https://example.invalid/");
        loggers.CreateLogger("Azure.Core").LogWarning("Request [1] took 12 s");

        Assert.Equal(SensitiveTelemetry.Redacted, Assert.Single(spans)["smp.update.password"]);
        Assert.Equal(
            [("Smp.Updates", LogLevel.Information), ("Azure.Core", LogLevel.Warning)],
            logs.Select(l => (l.Category, l.Level)));
        Assert.Equal(SensitiveTelemetry.Redacted, logs[0].Attributes["Password"]);
    }

    [Fact]
    public void Section5_log_scopes_which_cannot_be_redacted_are_not_exported()
    {
        var scopes = new List<string>();
        using var provider = BuildWithExporter(
            Configuration((Telemetry.ConnectionStringSetting, FakeConnectionString)),
            KeepEverythingLocal,
            services => services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(
                new Capture<LogRecord>(r => r.ForEachScope((scope, list) => list.Add($"{scope.Scope}"), scopes)))));
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Smp.Updates");

        using (logger.BeginScope("Opening {Link}", "https://smp.example.com/api/updates/1.96/password?serial=VT-1&expires=1&sig=abc"))
        {
            logger.LogInformation("Released update {Version}", "1.96");
        }

        Assert.Empty(scopes);
    }

    private static void KeepEverythingLocal(AzureMonitorExporterOptions options)
    {
        // Nothing may leave the machine: no token request to a real identity endpoint, no live metrics
        // session, no files left behind for a later retry. Exports go to the loopback endpoint and fail.
        options.Credential = new FakeCredential();
        options.EnableLiveMetrics = false;
        options.DisableOfflineStorage = true;
    }

    private static ServiceProvider BuildWithExporter(
        IConfiguration configuration,
        Action<AzureMonitorExporterOptions>? overrideOptions = null,
        Action<IServiceCollection>? moreServices = null)
    {
        var services = new ServiceCollection()
            .AddLogging()
            // A Functions host always registers its configuration; the exporter reads it from the container.
            .AddSingleton(configuration);
        services.AddSmpTelemetry(configuration);
        if (overrideOptions is not null)
        {
            services.PostConfigure(overrideOptions);
        }

        moreServices?.Invoke(services);

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();

    private static bool IsFrom(ServiceDescriptor descriptor, System.Reflection.Assembly assembly) =>
        descriptor.ServiceType.Assembly == assembly
        || descriptor.ImplementationType?.Assembly == assembly
        || (descriptor.ServiceType.IsGenericType && descriptor.ServiceType.GetGenericArguments().Any(a => a.Assembly == assembly));

    private sealed class FakeCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("not-a-real-token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
