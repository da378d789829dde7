using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using Smp.Core.Observability;

namespace Smp.Functions.Hosting;

/// <summary>Logs, traces and metrics of the worker, sent to Application Insights when the app runs in Azure.</summary>
public static class Telemetry
{
    /// <summary>App setting holding the Application Insights connection string; without it nothing is exported.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>App setting holding the client id of the user-assigned managed identity the app runs as.</summary>
    public const string ManagedIdentityClientIdSetting = "AZURE_CLIENT_ID";

    /// <summary>Trace source of the Functions worker: one span per invocation, parented by the host's span.</summary>
    public const string FunctionsWorkerActivitySourceName = "Microsoft.Azure.Functions.Worker";

    /// <summary>Trace sources of the Azure SDK clients (Table Storage, Key Vault, ...): one span per service call.</summary>
    public const string AzureSdkActivitySources = "Azure.*";

    /// <summary>Log category of ASP.NET Core's request lines ("Request starting GET https://...?sig=...").</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    // Azure SDK clients emit their spans through ActivitySource only when this switch is on.
    private const string AzureSdkActivitySourceSwitch = "Azure.Experimental.EnableActivitySource";

    /// <summary>
    /// Registers <see cref="SmpMetrics"/> and, when <see cref="ConnectionStringSetting"/> is set, OpenTelemetry
    /// with the Azure Monitor exporter for traces (the app's, the Functions worker's and the Azure SDK's), the
    /// app's metrics and logs. Application Insights accepts only Microsoft Entra authenticated telemetry, so the
    /// exporter authenticates as the managed identity named by <see cref="ManagedIdentityClientIdSetting"/>
    /// (or with <see cref="DefaultAzureCredential"/> when that is not set, as on a developer's machine).
    /// Without a connection string (local runs, tests) nothing is exported and no exporter is created.
    /// </summary>
    public static IServiceCollection AddSmpTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddMetrics();
        services.TryAddSingleton<SmpMetrics>();

        // ASP.NET Core's hosting diagnostics write every request line, query string included (the sig= of a
        // password link, the code= of a staff call), at Information. The Functions host already records each
        // request; these lines go to no logging provider (console, the host's log channel, the exporter).
        services.AddLogging(logging => logging.AddFilter(HostingDiagnosticsCategory, LogLevel.Warning));

        var connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return services;
        }

        AppContext.SetSwitch(AzureSdkActivitySourceSwitch, true);
        var credential = CreateCredential(configuration);

        // Azure SDK clients log every request at Information: useful locally, noise (and cost) in Application
        // Insights. A Logging:LogLevel entry for a more specific category still wins over this default.
        services.AddLogging(logging => logging.AddFilter<OpenTelemetryLoggerProvider>("Azure.", LogLevel.Warning));

        services.AddOpenTelemetry()
            // Resource attributes of the function app, and the capability that tells the host the worker exports
            // its own telemetry (so the host stops forwarding the worker's logs and they are not counted twice).
            .UseFunctionsWorkerDefaults()
            // The redactors are added before the exporter, so they see every span and log record first.
            .WithTracing(tracing => tracing
                .AddSource(SmpTelemetry.ActivitySourceName, FunctionsWorkerActivitySourceName, AzureSdkActivitySources)
                .AddProcessor(new SensitiveTagRedactor()))
            .WithMetrics(metrics => metrics.AddMeter(SmpMetrics.MeterName))
            .WithLogging(
                logging => logging.AddProcessor(new SensitiveLogAttributeRedactor()),
                // Scope values cannot be redacted on their way out, so no scope is exported; each record still
                // carries its trace and span ids, which tie it to the invocation.
                options => options.IncludeScopes = false)
            .UseAzureMonitorExporter(exporter =>
            {
                exporter.ConnectionString = connectionString;
                exporter.Credential = credential;
            });

        return services;
    }

    /// <summary>
    /// The identity the exporter authenticates as: the user-assigned managed identity when its client id is
    /// configured (no probing of other credential sources in Azure), otherwise the default credential chain.
    /// </summary>
    internal static TokenCredential CreateCredential(IConfiguration configuration)
    {
        var clientId = configuration[ManagedIdentityClientIdSetting];
        return string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
