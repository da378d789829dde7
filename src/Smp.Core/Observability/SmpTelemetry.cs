using System.Diagnostics;

namespace Smp.Core.Observability;

/// <summary>
/// The application's trace source. Use cases start a span for each unit of work worth seeing on its own in a
/// trace (a reminder scan, one mail delivery), tagged with counts and ids, never with secrets or addresses.
/// </summary>
public static class SmpTelemetry
{
    /// <summary>Name of the <see cref="System.Diagnostics.ActivitySource"/> the host subscribes to.</summary>
    public const string ActivitySourceName = "Smp";

    /// <summary>
    /// Starts nothing (returns null) unless a listener, such as the host's tracer provider, subscribed to it.
    /// </summary>
    public static ActivitySource ActivitySource { get; } =
        new(ActivitySourceName, typeof(SmpTelemetry).Assembly.GetName().Version?.ToString());
}
