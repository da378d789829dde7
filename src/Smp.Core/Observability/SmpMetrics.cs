using System.Diagnostics.Metrics;

namespace Smp.Core.Observability;

/// <summary>
/// The application's own metrics, on the meter <see cref="MeterName"/>. Use cases call the methods below when
/// something worth counting has happened; whoever hosts the app decides whether and where the measurements go
/// (Application Insights in Azure, nowhere in tests unless a listener asks).
/// </summary>
/// <remarks>
/// Tags carry only bounded, non-sensitive values (a mail kind): never a serial, an address or a password.
/// Counts of zero are recorded too, so a scan that found nothing still shows up as a point of value 0.
/// </remarks>
public sealed class SmpMetrics
{
    /// <summary>Name of the <see cref="Meter"/> that owns every SMP instrument.</summary>
    public const string MeterName = "Smp";

    /// <summary>Name of the tag that carries the mail kind on mail counters.</summary>
    public const string KindTag = "kind";

    /// <summary>Name of the tag that says why a customer request was given up: <c>attempts</c> or <c>age</c>.</summary>
    public const string ReasonTag = "reason";

    /// <summary>Names of the instruments, as they appear in the metrics store.</summary>
    public static class Instruments
    {
        public const string LicensesExamined = "smp.reminders.licenses_examined";
        public const string RemindersDue = "smp.reminders.due";
        public const string MailsEnqueued = "smp.reminders.mails_enqueued";
        public const string RemindersMissed = "smp.reminders.missed";
        public const string RemindersFailed = "smp.reminders.failed";
        public const string MailSent = "smp.mail.sent";
        public const string MailFailed = "smp.mail.failed";
        public const string MailThrottled = "smp.mail.throttled";
        public const string DeliveryAttempts = "smp.mail.delivery_attempts";
        public const string ScanDuration = "smp.scan.duration";
        public const string CustomerRequestsGivenUp = "smp.requests.given_up";
        public const string CustomerRequestsUnreadable = "smp.requests.unreadable";
        public const string MailUnreadable = "smp.mail.unreadable";
        public const string ExportUnreadable = "smp.export.unreadable";
        public const string ReplacementsUnfinished = "smp.replacements.unfinished";
        public const string ReminderOffsetsConflicts = "smp.reminders.offsets_conflicts";
        public const string CustomerRequestsPurgeFailed = "smp.requests.purge_failed";
        public const string CustomerRequestsPending = "smp.requests.pending";
        public const string CustomerRequestsOldestPendingAge = "smp.requests.oldest_pending_age";
        public const string LatestEventsPruned = "smp.latest_events.pruned";
        public const string LatestEventsPruneFailed = "smp.latest_events.prune_failed";
    }

    // A reminder scan takes from well under a second (nothing due) to minutes (a big catch-up run).
    private static readonly double[] ScanDurationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly Counter<long> licensesExamined;
    private readonly Counter<long> remindersDue;
    private readonly Counter<long> reminderMailsEnqueued;
    private readonly Counter<long> remindersMissed;
    private readonly Counter<long> remindersFailed;
    private readonly Counter<long> mailSent;
    private readonly Counter<long> mailFailed;
    private readonly Counter<long> mailThrottled;
    private readonly Counter<long> deliveryAttempts;
    private readonly Histogram<double> scanDuration;
    private readonly Counter<long> requestsGivenUp;
    private readonly Counter<long> requestsUnreadable;
    private readonly Counter<long> mailUnreadable;
    private readonly Counter<long> exportUnreadable;
    private readonly Counter<long> replacementsUnfinished;
    private readonly Counter<long> offsetsConflicts;
    private readonly Counter<long> requestsPurgeFailed;
    private readonly Counter<long> latestEventsPruned;
    private readonly Counter<long> latestEventsPruneFailed;
    private readonly Gauge<long> requestsPending;
    private readonly Gauge<long> requestsOldestPendingAge;

    /// <param name="meterFactory">
    /// Creates (and later disposes) the meter, so each container gets its own and tests can listen to theirs.
    /// </param>
    public SmpMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);

        licensesExamined = meter.CreateCounter<long>(
            Instruments.LicensesExamined, "{license}", "Licenses read by reminder scans.");
        remindersDue = meter.CreateCounter<long>(
            Instruments.RemindersDue, "{reminder}", "Reminders found due by reminder scans.");
        reminderMailsEnqueued = meter.CreateCounter<long>(
            Instruments.MailsEnqueued, "{mail}", "Reminder mails written to the outbox by reminder scans.");
        remindersMissed = meter.CreateCounter<long>(
            Instruments.RemindersMissed, "{reminder}", "Reminders whose date passed without a mail (caught up or skipped).");
        remindersFailed = meter.CreateCounter<long>(
            Instruments.RemindersFailed, "{reminder}", "Reminders a scan could not send because their license or batch failed (retried by the next scan).");
        mailSent = meter.CreateCounter<long>(
            Instruments.MailSent, "{mail}", "Mails accepted by the mail transport, by kind.");
        mailFailed = meter.CreateCounter<long>(
            Instruments.MailFailed, "{mail}", "Mails given up on after the last delivery attempt, by kind.");
        mailThrottled = meter.CreateCounter<long>(
            Instruments.MailThrottled, "{response}", "Sends and status queries the mail service refused as throttled (429).");
        deliveryAttempts = meter.CreateCounter<long>(
            Instruments.DeliveryAttempts, "{attempt}", "Attempts to hand a mail to the mail transport.");
        requestsGivenUp = meter.CreateCounter<long>(
            Instruments.CustomerRequestsGivenUp, "{request}", "Accepted customer requests given up unprocessed: after their last allowed attempt, or too old to act on, by reason.");
        requestsUnreadable = meter.CreateCounter<long>(
            Instruments.CustomerRequestsUnreadable, "{request}", "Stored customer requests that could not be read and were removed.");
        mailUnreadable = meter.CreateCounter<long>(
            Instruments.MailUnreadable, "{message}", "Outbox messages that could not be read while listing them; each is skipped and left for staff.");
        exportUnreadable = meter.CreateCounter<long>(
            Instruments.ExportUnreadable, "{license}", "Licenses an export could not read and left out of its file (each logged by serial).");
        replacementsUnfinished = meter.CreateCounter<long>(
            Instruments.ReplacementsUnfinished, "{license}", "Dongle replacements found begun and not finished that a reader could not finish (each logged by serial; the next reader tries again).");
        offsetsConflicts = meter.CreateCounter<long>(
            Instruments.ReminderOffsetsConflicts, "{refusal}", "Reminder scans refused, and reminder stages kept from withdrawal, because the reminder index belongs to other offsets (Smp:Reminders) than the host's, by both offset lists.");
        requestsPurgeFailed = meter.CreateCounter<long>(
            Instruments.CustomerRequestsPurgeFailed, "{run}", "Runs of the customer-request work whose purge of past days failed (the next run purges what is left).");
        latestEventsPruned = meter.CreateCounter<long>(
            Instruments.LatestEventsPruned, "{row}", "Places among the console dashboard's latest events older than their retention removed by the daily run.");
        latestEventsPruneFailed = meter.CreateCounter<long>(
            Instruments.LatestEventsPruneFailed, "{run}", "Daily runs whose pruning of the latest events failed on storage (the next run prunes what is left).");
        requestsPending = meter.CreateGauge<long>(
            Instruments.CustomerRequestsPending, "{request}", "Accepted customer requests waiting for the background work (due or not), at the start of each run.");
        requestsOldestPendingAge = meter.CreateGauge<long>(
            Instruments.CustomerRequestsOldestPendingAge, "d", "Business days since the day of the oldest waiting customer request (0: today), at the start of each run.");
        scanDuration = meter.CreateHistogram(
            Instruments.ScanDuration,
            "s",
            "Duration of reminder scans.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ScanDurationBuckets });
    }

    /// <summary>Records the outcome of one reminder scan.</summary>
    /// <param name="examined">Licenses the scan read.</param>
    /// <param name="due">Reminders found due.</param>
    /// <param name="mailsEnqueued">Reminder mails written to the outbox.</param>
    /// <param name="missed">Reminders whose date had already passed.</param>
    /// <param name="duration">Wall-clock time the scan took.</param>
    public void ScanCompleted(int examined, int due, int mailsEnqueued, int missed, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(examined);
        ArgumentOutOfRangeException.ThrowIfNegative(due);
        ArgumentOutOfRangeException.ThrowIfNegative(mailsEnqueued);
        ArgumentOutOfRangeException.ThrowIfNegative(missed);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);

        licensesExamined.Add(examined);
        remindersDue.Add(due);
        reminderMailsEnqueued.Add(mailsEnqueued);
        remindersMissed.Add(missed);
        scanDuration.Record(duration.TotalSeconds);
    }

    /// <summary>
    /// This host (offsets <paramref name="ownOffsets"/>) refused to scan or to withdraw a reminder for a stage it does not
    /// configure, because the reminder index belongs to <paramref name="indexOffsets"/> (both from configuration, "90,30").
    /// </summary>
    public void ReminderOffsetsConflict(string ownOffsets, string indexOffsets) =>
        offsetsConflicts.Add(1, new KeyValuePair<string, object?>("own_offsets", ownOffsets), new KeyValuePair<string, object?>("index_offsets", indexOffsets));

    /// <summary>A reminder scan left <paramref name="failed"/> reminders unsent because their license or batch failed.</summary>
    public void ScanFailed(int failed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(failed);
        remindersFailed.Add(failed);
    }

    /// <summary>A mail of <paramref name="kind"/> was accepted by the transport.</summary>
    /// <param name="kind">The mail kind (one of the fixed mail kinds), never free text.</param>
    public void MailSent(string kind) => mailSent.Add(1, Kind(kind));

    /// <summary>A mail of <paramref name="kind"/> was given up on and left visible as failed.</summary>
    /// <param name="kind">The mail kind (one of the fixed mail kinds), never free text.</param>
    public void MailFailed(string kind) => mailFailed.Add(1, Kind(kind));

    /// <summary>The mail service answered a send or a status query with "too many requests".</summary>
    public void MailThrottled() => mailThrottled.Add(1);

    /// <summary>One attempt to hand a mail to the transport was made, whatever its outcome.</summary>
    public void DeliveryAttempted() => deliveryAttempts.Add(1);

    /// <summary>An accepted customer request was given up without being acted on.</summary>
    /// <param name="reason"><c>attempts</c> (its last allowed attempt failed) or <c>age</c> (too old to act on).</param>
    public void CustomerRequestGivenUp(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        requestsGivenUp.Add(1, new KeyValuePair<string, object?>(ReasonTag, reason));
    }

    /// <summary>A stored customer request could not be read and was removed.</summary>
    public void CustomerRequestUnreadable() => requestsUnreadable.Add(1);

    /// <summary>An outbox message could not be read while messages were listed; it was skipped and left in place.</summary>
    public void MailUnreadable() => mailUnreadable.Add(1);

    /// <summary>A license could not be read while the licenses were exported; it is missing from that export's file.</summary>
    public void ExportUnreadable() => exportUnreadable.Add(1);

    /// <summary>A reader met a dongle replacement left begun (SPEC section 10) and could not read or finish it; it answered without it.</summary>
    public void ReplacementUnfinished() => replacementsUnfinished.Add(1);

    /// <summary>The purge of past days' customer requests and counters failed in one run of the background work.</summary>
    public void CustomerRequestPurgeFailed() => requestsPurgeFailed.Add(1);

    /// <summary>One batch of the daily pruning removed <paramref name="pruned"/> places among the latest events.</summary>
    public void LatestEventsPruned(int pruned)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pruned);
        latestEventsPruned.Add(pruned);
    }

    /// <summary>The daily pruning of the latest events failed on storage in one run.</summary>
    public void LatestEventsPruneFailed() => latestEventsPruneFailed.Add(1);

    /// <summary>The backlog of customer requests at the start of a run: how many wait, and how many days the oldest has.</summary>
    public void CustomerRequestBacklog(int pending, int oldestAgeDays)
    {
        requestsPending.Record(pending);
        requestsOldestPendingAge.Record(oldestAgeDays);
    }

    private static KeyValuePair<string, object?> Kind(string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        return new(KindTag, kind);
    }
}
