using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Requests;

namespace Smp.Core.Digest;

/// <summary>What one digest run did: the week, and whether this run enqueued the mail (false: an earlier run had).</summary>
public sealed record DigestSendReport(IsoWeek Week, string MailId, bool Enqueued, RenewalsDigest? Digest);

/// <summary>
/// The renewals desk's weekly digest (SPEC section 11). <see cref="ComputeAsync"/> gives the lists for any business date
/// (the console shows the same lists); <see cref="SendAsync"/> mails them once per ISO week. Reads follow the licenses
/// listed: one range of the expiry index (a page at a time), the quote requests of the last 14 days, the failed-mail
/// markers, and per license listed its record and events (and those of the dongles it replaced); never every license.
/// </summary>
public sealed class RenewalsDigestService(
    LicenseService licenses,
    ICustomerRequestQueue requests,
    IMailOutbox outbox,
    MailSettings mail,
    BusinessCalendar calendar,
    IStorageFailures? storageFailures = null)
{
    /// <summary>Licenses read from the expiry index per page.</summary>
    public const int PageSize = 100;

    /// <summary>The outbox id of a week's digest: derived from the week alone, so a week has one digest, ever.</summary>
    public static string MailId(IsoWeek week) => DeterministicId.From("renewals-digest", week.ToString());

    /// <summary>The console page of a license, where each serial of the digest links.</summary>
    public static Uri ConsolePage(Uri publicBaseUrl, Serial serial)
    {
        ArgumentNullException.ThrowIfNull(publicBaseUrl);
        return new Uri(publicBaseUrl, $"console/licenses/{Uri.EscapeDataString(serial.Value)}");
    }

    /// <summary>The digest's lists as of <paramref name="today"/> (a business date).</summary>
    public async Task<RenewalsDigest> ComputeAsync(LocalDate today, CancellationToken cancellationToken)
    {
        var byExpiry = new List<DigestSource>();
        var unreadable = new List<Serial>();
        var read = new Dictionary<Serial, DigestSource?>();
        ExpiryPosition? after = null;
        do
        {
            var page = await licenses.ListExpiringPageAsync(DigestRules.ReadFrom(today), DigestRules.ReadTo(today), after, PageSize, cancellationToken);
            foreach (var stored in page.Licenses)
            {
                try
                {
                    var source = await SourceAsync(stored.License, unreadable, cancellationToken);
                    read[stored.License.Serial] = source;
                    byExpiry.Add(source);
                }
                catch (Exception e) when (IsIsolated(e, cancellationToken))
                {
                    // One license whose history cannot be read is named in the digest; the others are still listed.
                    unreadable.Add(stored.License.Serial);
                }
            }

            unreadable.AddRange((page.Unreadable ?? []).Select(u => u.Serial).OfType<Serial>());
            // A replacement that could not be finished leaves its plan without an expiry row: named, never dropped silently.
            unreadable.AddRange(page.UnfinishedReplacements ?? []);
            after = page.Next;
        }
        while (after is not null);

        var quotes = new List<DigestQuoteRequest>();
        foreach (var request in await requests.ListQuoteRequestsAsync(DigestRules.QuotesFrom(today), today, cancellationToken))
        {
            try
            {
                var (source, chainTooLong) = await CurrentAsync(request.Serial, read, unreadable, cancellationToken);
                if (source is not null)
                {
                    quotes.Add(new DigestQuoteRequest(source, request.Day));
                }
                else if (chainTooLong)
                {
                    // Never dropped silently: the desk sees the serial among those that could not be read.
                    unreadable.Add(request.Serial);
                }
            }
            catch (Exception e) when (IsIsolated(e, cancellationToken))
            {
                unreadable.Add(request.Serial);
            }
        }

        var failed = (await outbox.ListFailedAsync(cancellationToken)).Count;
        return DigestRules.Compute(today, byExpiry, quotes, failed, calendar.Zone, unreadable);
    }

    /// <summary>
    /// Mails this week's digest to the renewals desk unless it is in the outbox already. The mail's id comes from the
    /// ISO week, and the outbox stores one message per id: overlapping runs, a run again after a restart or after a crash
    /// that followed the enqueue, all find that message and send no second.
    /// </summary>
    public async Task<DigestSendReport> SendAsync(CancellationToken cancellationToken)
    {
        var today = calendar.Today;
        var week = IsoWeek.Of(today);
        var id = MailId(week);
        if (await outbox.GetAsync(id, cancellationToken) is not null)
        {
            return new DigestSendReport(week, id, false, null);
        }

        var digest = await ComputeAsync(today, cancellationToken);
        var content = RenewalsDigestMail.Render(digest, mail.PublicBaseUrl);
        var message = new OutgoingMail(id, mail.Sender, [mail.RenewalsDesk], null, content.Subject, content.PlainText, content.Html);
        var result = await outbox.EnqueueAsync(message, MailKinds.Digest, [], calendar.Now, cancellationToken);
        return new DigestSendReport(week, id, result is EnqueueResult.Enqueued, digest);
    }

    /// <summary>A failure of one license's reads only: storage that failed for good, or a record that cannot be understood.</summary>
    private bool IsIsolated(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && (storageFailures?.IsStorageFailure(e) == true || e is System.Text.Json.JsonException or InvalidDataException or NotSupportedException or FormatException);

    /// <summary>
    /// A listed license with its events and those of the dongles it replaced (their quote requests were recorded there),
    /// walking back replacements of replacements: the license's <see cref="License.ReplacementOf"/>, then the
    /// <c>replacementOf</c> event of each replaced dongle, one events read per dongle, at most
    /// <see cref="LicenseService.MaxReplacementHops"/> (as everywhere else). A replaced dongle whose events cannot be
    /// read, or one beyond that bound, is named in <paramref name="unreadable"/>, never dropped silently; the license
    /// is still listed with the events read, marked as having its history read only up to that dongle.
    /// </summary>
    private async Task<DigestSource> SourceAsync(License license, List<Serial> unreadable, CancellationToken cancellationToken)
    {
        var events = new List<LicenseEvent>(await licenses.GetEventsAsync(license.Serial, cancellationToken));
        Serial? unreadFrom = null;
        var replaced = license.ReplacementOf;
        for (var hop = 0; replaced is { } old; hop++)
        {
            if (hop == LicenseService.MaxReplacementHops)
            {
                unreadable.Add(old);
                unreadFrom = old;
                break;
            }

            try
            {
                var older = await licenses.GetEventsAsync(old, cancellationToken);
                // Its own events count even when the dongle it replaced cannot be told from them.
                events.AddRange(older);
                replaced = ReplacedSerial(older, old);
            }
            catch (Exception e) when (IsIsolated(e, cancellationToken))
            {
                unreadable.Add(old);
                unreadFrom = old;
                break;
            }
        }

        return new DigestSource(license, events, unreadFrom);
    }

    /// <summary>The dongle that <paramref name="serial"/> replaced, from its <c>replacementOf</c> event; null for a first dongle.</summary>
    private static Serial? ReplacedSerial(IReadOnlyList<LicenseEvent> events, Serial serial)
    {
        if (events.FirstOrDefault(e => e.Type == LicenseEventTypes.ReplacementOf) is not { } replacementOf)
        {
            return null;
        }

        return Serial.TryParse(replacementOf.Data.GetValueOrDefault(LicenseEventData.OldSerial), out var old)
            ? old
            : throw new InvalidDataException($"The replacementOf event of license {serial} names no valid serial.");
    }

    /// <summary>
    /// The license a quote request leads to: the serial's, or its replacement's when the dongle was replaced since,
    /// following at most <see cref="LicenseService.MaxReplacementHops"/> replacements (as everywhere else). Null when no
    /// license has the serial; <c>ChainTooLong</c> when the chain goes on beyond that bound. Only the license reached
    /// has its events read (with those of the dongles it replaced); the replaced ones on the way, their record alone.
    /// </summary>
    private async Task<(DigestSource? Source, bool ChainTooLong)> CurrentAsync(Serial serial, Dictionary<Serial, DigestSource?> read, List<Serial> unreadable, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop <= LicenseService.MaxReplacementHops; hop++)
        {
            License? license;
            if (read.TryGetValue(serial, out var source))
            {
                license = source?.License;
            }
            else
            {
                license = (await licenses.GetAsync(serial, cancellationToken))?.License;
            }

            if (license?.Replacement is not { Completed: true } replacement)
            {
                if (source is null && license is not null)
                {
                    source = await SourceAsync(license, unreadable, cancellationToken);
                }

                read[serial] = source;
                return (source, false);
            }

            serial = replacement.NewSerial;
        }

        return (null, true);
    }
}
