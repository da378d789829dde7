using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Digest;

namespace Smp.Functions.Functions;

/// <summary>
/// The renewals desk's weekly digest (SPEC section 11) on <c>Smp:DigestSchedule</c> (NCRONTAB, in UTC). The week is the
/// ISO week of the business date; the digest's outbox id comes from it, so the week's mail is enqueued once whatever
/// runs again, overlaps or crashes.
/// </summary>
public sealed partial class DigestFunctions(RenewalsDigestService digests, ILogger<DigestFunctions> logger)
{
    public const string FunctionName = "SendRenewalsDigest";

    [Function(FunctionName)]
    public async Task SendRenewalsDigest([TimerTrigger("%Smp:DigestSchedule%")] TimerInfo timer, FunctionContext context)
    {
        var report = await digests.SendAsync(context.CancellationToken);
        LogDigest(logger, timer.IsPastDue, report.Week.ToString(), report.MailId, report.Enqueued);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Renewals digest (late: {PastDue}) for week {Week}: mail {MailId}, enqueued by this run: {Enqueued}.")]
    private static partial void LogDigest(ILogger logger, bool pastDue, string week, string mailId, bool enqueued);
}
