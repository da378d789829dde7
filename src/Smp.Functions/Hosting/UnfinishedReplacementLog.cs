using Microsoft.Extensions.Logging;
using Smp.Core.Licenses;
using Smp.Core.Observability;

namespace Smp.Functions.Hosting;

/// <summary>
/// A dongle replacement a reader found begun and could not finish (SPEC section 10): logged by serial and kind of error
/// only (never the record, whose contacts are customer data) and counted in <c>smp.replacements.unfinished</c>.
/// </summary>
public sealed partial class UnfinishedReplacementLog(SmpMetrics metrics, ILogger<UnfinishedReplacementLog> logger) : IUnfinishedReplacements
{
    public void Report(LicenseReadFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        LogUnfinished(logger, failure.Serial?.Value ?? "(unknown)", failure.Error.GetType().Name);
        metrics.ReplacementUnfinished();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The replacement of license {Serial} is begun and could not be finished ({Reason}); the next reader tries again.")]
    private static partial void LogUnfinished(ILogger logger, string serial, string reason);
}
