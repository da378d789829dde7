using System.Collections.Immutable;
using System.Globalization;
using NodaTime;
using NodaTime.Calendars;
using Smp.Core.Plans;

namespace Smp.Core.Digest;

/// <summary>An ISO 8601 week (Monday to Sunday), written <c>2026-W49</c>: the digest's unit, one mail per week.</summary>
public readonly record struct IsoWeek(int WeekYear, int Week)
{
    public static IsoWeek Of(LocalDate date) =>
        new(WeekYearRules.Iso.GetWeekYear(date), WeekYearRules.Iso.GetWeekOfWeekYear(date));

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{WeekYear:D4}-W{Week:D2}");
}

/// <summary>A reminder that went out: its stage ("90-day") and the business day it was put in the outbox.</summary>
public sealed record DigestReminder(string Stage, LocalDate SentOn);

/// <summary>
/// One license in a list of the digest. <see cref="QuoteRequestedOn"/> is the day of its latest quote request (R11)
/// in the look-back; <see cref="RenewedOn"/> the day of a renewal recorded since that request or, without one, since
/// its latest reminder listed (null: not renewed since). <see cref="HistoryUnreadableFrom"/>, when set, is the replaced
/// dongle from which back its history could not be read: a quote request recorded there is not known.
/// </summary>
public sealed record DigestLicense(
    Serial Serial,
    string Product,
    LocalDate ExpiresOn,
    ImmutableArray<DigestReminder> Reminders,
    LocalDate? QuoteRequestedOn,
    LocalDate? RenewedOn,
    Serial? HistoryUnreadableFrom = null);

/// <summary>A customer's licenses in one list, by expiry then serial.</summary>
public sealed record DigestCustomer(Customer Customer, ImmutableArray<DigestLicense> Licenses);

/// <summary>
/// The renewals desk's weekly digest (SPEC section 11) as of a business date: the four lists, each grouped by
/// customer (by customer name, then id). <see cref="Unreadable"/> names the licenses that could not be read: left out,
/// or, when a listed line's <see cref="DigestLicense.HistoryUnreadableFrom"/>, a replaced dongle whose plan is listed.
/// </summary>
public sealed record RenewalsDigest(
    IsoWeek Week,
    LocalDate Today,
    ImmutableArray<DigestCustomer> Expiring,
    ImmutableArray<DigestCustomer> Lapsed,
    ImmutableArray<DigestCustomer> Quotes,
    int FailedMail,
    ImmutableArray<Serial> Unreadable)
{
    /// <summary>Every list empty and no failed mail: the digest says so in one line.</summary>
    public bool IsEmpty => Expiring.IsEmpty && Lapsed.IsEmpty && Quotes.IsEmpty && FailedMail == 0;
}

/// <summary>
/// A license the digest read, with its events (and those of the dongles it replaced, back through the chain, when it is a
/// replacement). <see cref="HistoryUnreadableFrom"/>: the replaced dongle from which back the events could not be read.
/// </summary>
public sealed record DigestSource(License License, IReadOnlyList<LicenseEvent> Events, Serial? HistoryUnreadableFrom = null);

/// <summary>
/// A quote request found among the stored customer requests: the license it led to (the current serial of its plan),
/// the day it was made, and the serial it was made for (another one when the dongle was replaced since).
/// </summary>
public sealed record DigestQuoteRequest(DigestSource Source, LocalDate Day);

/// <summary>
/// The pure rules of the weekly digest (SPEC section 11). Dates are business dates; <c>expiresOn</c> is the first day
/// no longer covered, so a plan with <c>expiresOn</c> today has lapsed today.
/// </summary>
public static class DigestRules
{
    /// <summary>Expiring: <c>expiresOn</c> after today and at most this many days ahead.</summary>
    public const int ExpiringDays = 90;

    /// <summary>Lapsed: <c>expiresOn</c> on or before today and at most this many days back.</summary>
    public const int LapsedDays = 30;

    /// <summary>Quote requests of today and the 13 days before.</summary>
    public const int QuoteDays = 14;

    /// <summary>
    /// How far back reminders and quote requests are shown for a listed license: one reminder cycle (the 90-day
    /// reminder of a plan that lapsed 30 days ago went out 120 days ago).
    /// </summary>
    public const int LookBackDays = ExpiringDays + LapsedDays;

    /// <summary>The first expiry date the expiry index is read from (the lapsed list's start).</summary>
    public static LocalDate ReadFrom(LocalDate today) => today.PlusDays(-LapsedDays);

    /// <summary>The last expiry date the expiry index is read to (the expiring list's end).</summary>
    public static LocalDate ReadTo(LocalDate today) => today.PlusDays(ExpiringDays);

    /// <summary>The first day whose quote requests are listed.</summary>
    public static LocalDate QuotesFrom(LocalDate today) => today.PlusDays(1 - QuoteDays);

    public static RenewalsDigest Compute(
        LocalDate today,
        IEnumerable<DigestSource> byExpiry,
        IEnumerable<DigestQuoteRequest> quoteRequests,
        int failedMail,
        DateTimeZone zone,
        IEnumerable<Serial>? unreadable = null)
    {
        ArgumentNullException.ThrowIfNull(byExpiry);
        ArgumentNullException.ThrowIfNull(quoteRequests);
        ArgumentNullException.ThrowIfNull(zone);
        var expiring = new List<(Customer, DigestLicense)>();
        var lapsed = new List<(Customer, DigestLicense)>();
        var seen = new HashSet<Serial>();
        foreach (var source in byExpiry)
        {
            var license = source.License;
            // SPEC section 10: a replaced license is never listed; its plan lives on under the new serial.
            if (license.IsReplaced || license.Replacement is not null || !seen.Add(license.Serial))
            {
                continue;
            }

            var expiresOn = license.ExpiresOn;
            if (expiresOn > today && expiresOn <= ReadTo(today))
            {
                expiring.Add((license.Customer, Line(source, today, zone, quoteAfter: null)));
            }
            else if (expiresOn <= today && expiresOn >= ReadFrom(today) && license.StatusOn(today) == PlanStatus.Lapsed)
            {
                lapsed.Add((license.Customer, Line(source, today, zone, quoteAfter: null)));
            }
        }

        var quotes = new List<(Customer, DigestLicense)>();
        var quoted = new HashSet<Serial>();
        foreach (var request in quoteRequests.OrderByDescending(q => q.Day))
        {
            var license = request.Source.License;
            if (request.Day < QuotesFrom(today) || request.Day > today || license.IsReplaced || !quoted.Add(license.Serial))
            {
                continue;
            }

            var line = Line(request.Source, today, zone, quoteAfter: request.Day);
            // A quote request with a renewal recorded since is answered: left out.
            if (line.RenewedOn is null)
            {
                quotes.Add((license.Customer, line));
            }
        }

        return new RenewalsDigest(
            IsoWeek.Of(today),
            today,
            Group(expiring),
            Group(lapsed),
            Group(quotes),
            failedMail,
            [.. (unreadable ?? []).Distinct().OrderBy(s => s.Value, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// The license's line: reminders sent in the look-back, its latest quote request (on or after
    /// <paramref name="quoteAfter"/> when given: the request that listed it), and a renewal recorded since that
    /// request or, without one, since the latest reminder listed.
    /// </summary>
    private static DigestLicense Line(DigestSource source, LocalDate today, DateTimeZone zone, LocalDate? quoteAfter)
    {
        var license = source.License;
        var lookBack = today.PlusDays(-LookBackDays);
        LocalDate DateOf(Instant at) => at.InZone(zone).Date;
        var reminders = license.Reminders
            .Where(r => r.Outcome == ReminderOutcome.Sent && DateOf(r.At) >= lookBack && DateOf(r.At) <= today)
            .OrderBy(r => r.At)
            .Select(r => new DigestReminder(r.Stage.Name, DateOf(r.At)))
            .ToImmutableArray();
        var quoteAt = source.Events
            .Where(e => e.Type == LicenseEventTypes.QuoteRequested && DateOf(e.At) >= (quoteAfter ?? lookBack) && DateOf(e.At) <= today)
            .Select(e => (Instant?)e.At)
            .Max();
        LocalDate? quoteOn = quoteAt is { } at ? DateOf(at) : quoteAfter;

        // Renewed since the quote request when there is one, else since the latest reminder listed. A request known by
        // its day alone (its event not read) is answered by a renewal of that day only when the whole history was read
        // and holds no request after it; with the history cut short, only a renewal of a later day answers it.
        var incomplete = source.HistoryUnreadableFrom is not null;
        var renewal = (quoteAt, quoteOn, reminders.IsEmpty ? (LocalDate?)null : reminders[^1].SentOn) switch
        {
            ({ } q, _, _) => license.Renewals.Where(r => r.RecordedAt >= q).MaxBy(r => r.RecordedAt),
            (null, { } day, _) => license.Renewals.Where(r => incomplete ? r.RecordedOn > day : r.RecordedOn >= day).MaxBy(r => r.RecordedAt),
            (null, null, { } sent) => license.Renewals.Where(r => r.RecordedOn >= sent).MaxBy(r => r.RecordedAt),
            _ => null,
        };

        return new DigestLicense(license.Serial, license.Product, license.ExpiresOn, reminders, quoteOn, renewal?.RecordedOn, source.HistoryUnreadableFrom);
    }

    private static ImmutableArray<DigestCustomer> Group(List<(Customer Customer, DigestLicense License)> lines) =>
        [.. lines
            .GroupBy(l => l.Customer.Id, StringComparer.Ordinal)
            .Select(g => new DigestCustomer(
                g.First().Customer,
                [.. g.Select(l => l.License).OrderBy(l => l.ExpiresOn).ThenBy(l => l.Serial.Value, StringComparer.Ordinal)]))
            .OrderBy(c => c.Customer.Name, StringComparer.OrdinalIgnoreCase)
            .ThenBy(c => c.Customer.Id, StringComparer.Ordinal)];
}
