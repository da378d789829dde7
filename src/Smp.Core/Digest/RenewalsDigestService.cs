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
/// markers, and per license listed its record and events; never every license.
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
                    var source = new DigestSource(stored.License, await EventsAsync(stored.License, cancellationToken));
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
            after = page.Next;
        }
        while (after is not null);

        var quotes = new List<DigestQuoteRequest>();
        foreach (var request in await requests.ListQuoteRequestsAsync(DigestRules.QuotesFrom(today), today, cancellationToken))
        {
            try
            {
                var (source, chainTooLong) = await CurrentAsync(request.Serial, read, cancellationToken);
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

    /// <summary>A listed license's events, and those of the dongle it replaced (its quote requests were recorded there).</summary>
    private async Task<IReadOnlyList<LicenseEvent>> EventsAsync(License license, CancellationToken cancellationToken)
    {
        var events = await licenses.GetEventsAsync(license.Serial, cancellationToken);
        return license.ReplacementOf is { } old
            ? [.. events, .. await licenses.GetEventsAsync(old, cancellationToken)]
            : events;
    }

    /// <summary>
    /// The license a quote request leads to: the serial's, or its replacement's when the dongle was replaced since,
    /// following at most <see cref="LicenseService.MaxReplacementHops"/> replacements (as everywhere else). Null when no
    /// license has the serial; <c>ChainTooLong</c> when the chain goes on beyond that bound.
    /// </summary>
    private async Task<(DigestSource? Source, bool ChainTooLong)> CurrentAsync(Serial serial, Dictionary<Serial, DigestSource?> read, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop <= LicenseService.MaxReplacementHops; hop++)
        {
            if (!read.TryGetValue(serial, out var source))
            {
                var stored = await licenses.GetAsync(serial, cancellationToken);
                source = stored is null ? null : new DigestSource(stored.License, await EventsAsync(stored.License, cancellationToken));
                read[serial] = source;
            }

            if (source?.License.Replacement is not { Completed: true } replacement)
            {
                return (source, false);
            }

            serial = replacement.NewSerial;
        }

        return (null, true);
    }
}
