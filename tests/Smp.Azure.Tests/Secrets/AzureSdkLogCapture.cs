using System.Diagnostics.Tracing;
using Azure.Core.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Smp.Azure.Tests.Secrets;

/// <summary>
/// Routes everything the Azure SDK logs (verbose: requests, responses, retries, identity) into a
/// <see cref="FakeLogCollector"/>, the same one the store under test logs to.
/// </summary>
public sealed class AzureSdkLogCapture : IDisposable
{
    private readonly AzureEventSourceListener listener;

    public AzureSdkLogCapture()
    {
        var sdkLogger = new FakeLogger(Collector, "Azure.Sdk");
        listener = new AzureEventSourceListener(
            (args, message) => sdkLogger.Log(ToLevel(args.Level), new EventId(args.EventId, args.EventName), message, null, (m, _) => m),
            EventLevel.Verbose);
    }

    public FakeLogCollector Collector { get; } = new();

    /// <summary>Every line logged so far, by the SDK or by the store.</summary>
    public IReadOnlyList<string> Lines => [.. Collector.GetSnapshot().Select(r => $"{r.Category}: {r.Message}")];

    public void Dispose() => listener.Dispose();

    private static LogLevel ToLevel(EventLevel level) => level switch
    {
        EventLevel.Critical => LogLevel.Critical,
        EventLevel.Error => LogLevel.Error,
        EventLevel.Warning => LogLevel.Warning,
        EventLevel.Informational => LogLevel.Information,
        _ => LogLevel.Debug,
    };
}
