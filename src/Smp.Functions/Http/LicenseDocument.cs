using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using System.Text.Json.Serialization;

namespace Smp.Functions.Http;

/// <summary>
/// The license document of SPEC section 3; <c>status</c> is computed for the given business date, and so is
/// <c>updates</c> (R13: every published update and whether the license is entitled to it), which only the
/// single-license look-up fills in.
/// </summary>
public sealed record LicenseDocument(
    string Serial,
    string Product,
    CustomerDocument Customer,
    IReadOnlyList<string> Contacts,
    bool OnSiteTraining,
    Instant ActivatedAt,
    LocalDate ActivatedOn,
    PlanStatus Status,
    LocalDate ExpiresOn,
    IReadOnlyList<TermDocument> Terms,
    IReadOnlyList<ReminderDocument> Reminders,
    long Version,
    IReadOnlyList<EventDocument>? Events)
{
    public IReadOnlyList<UpdateEntitlementDocument>? Updates { get; init; }

    /// <summary>SPEC section 10: on a replaced license, the serial its plan moved to.</summary>
    public string? ReplacedBy { get; init; }

    /// <summary>SPEC section 10: on a license made by a replacement, the serial of the dongle it replaced.</summary>
    public string? ReplacementOf { get; init; }

    public static LicenseDocument From(StoredLicense stored, LocalDate today, ReminderSchedule schedule, IReadOnlyList<LicenseEvent>? events)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(schedule);
        var license = stored.License;
        return new LicenseDocument(
            license.Serial.Value,
            license.Product,
            new CustomerDocument(license.Customer.Id, license.Customer.Name),
            [.. license.Contacts.Select(c => c.Value)],
            license.OnSiteTraining,
            license.Activation.EmailSentAt,
            license.Activation.EmailSentOn,
            license.StatusOn(today),
            license.ExpiresOn,
            [.. license.Terms.Select(TermDocument.From)],
            ReminderDocument.For(license, schedule),
            stored.Version,
            events?.Select(EventDocument.From).ToList())
        {
            ReplacedBy = license.IsReplaced ? license.Replacement!.NewSerial.Value : null,
            ReplacementOf = license.ReplacementOf?.Value,
        };
    }
}

public sealed record CustomerDocument(string Id, string Name);

public sealed record TermDocument(
    TermKind Kind,
    LocalDate Start,
    LocalDate End,
    int? Months,
    int? Days,
    TermSource Source,
    string? OrderReference,
    LocalDate CoveredFrom)
{
    public static TermDocument From(Term term) =>
        new(term.Kind, term.Start, term.End, term.Months, term.Days, term.Source, term.OrderReference, term.CoveredFrom);
}

/// <summary>
/// An audit event: type, instant, actor and correlation id, and the facts of the change beside them; <c>actorId</c> is
/// the signed-in person's directory object id (SPEC section 7), absent for keys, timers and customers.
/// </summary>
public sealed record EventDocument(string Type, Instant At, string Actor, string CorrelationId)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ActorId { get; init; }

    [JsonExtensionData]
    public Dictionary<string, object>? Details { get; init; }

    public static EventDocument From(LicenseEvent e) => new(e.Type, e.At, e.Actor, e.CorrelationId)
    {
        ActorId = e.ActorId,
        Details = e.Data.Count == 0 ? null : e.Data.ToDictionary(d => d.Key, d => (object)d.Value, StringComparer.Ordinal),
    };
}

/// <summary>
/// A reminder of the plan (R8, R9): those already sent, missed or withdrawn (left out of their mail before delivery),
/// and those still planned for the current
/// <c>expiresOn</c> (a stage superseded by a later one that went out is not listed as planned).
/// </summary>
public sealed record ReminderDocument(string Stage, LocalDate? DueOn, LocalDate ExpiresOn, string Status, Instant? SentAt, string? MailId)
{
    public static IReadOnlyList<ReminderDocument> For(License license, ReminderSchedule schedule)
    {
        var recorded = license.Reminders.Select(r => (r.Stage.DaysBefore, Document: new ReminderDocument(
            r.Stage.Name,
            r.DueOn,
            r.ExpiresOn,
            r.Outcome switch { ReminderOutcome.Sent => "sent", ReminderOutcome.Withdrawn => "withdrawn", ReminderOutcome.BeforeImport => "beforeImport", _ => "missed" },
            r.Outcome == ReminderOutcome.Sent ? r.At : null,
            r.MailId)));
        var planned = schedule.Pending(license).Select(p => (p.Stage.DaysBefore, Document: new ReminderDocument(p.Stage.Name, p.DueOn, p.ExpiresOn, "planned", null, null)));
        return [.. recorded.Concat(planned).OrderBy(r => r.Document.ExpiresOn).ThenByDescending(r => r.DaysBefore).Select(r => r.Document)];
    }
}

/// <summary>
/// <c>GET /api/customers/{customerId}/licenses</c>: the licenses that could be read; <see cref="Unreadable"/> names
/// the serials left out because their records could not be read (absent when none).
/// </summary>
public sealed record CustomerLicensesDocument(CustomerDocument Customer, IReadOnlyList<LicenseDocument> Licenses, IReadOnlyList<string>? Unreadable = null);

/// <summary>
/// One page of <c>GET /api/reports/expiring</c>. When more licenses follow, <see cref="ContinuationToken"/> says where
/// the next page starts and <see cref="Next"/> is the request that reads it; both are absent on the last page.
/// <see cref="Unreadable"/> names the serials of this page's stretch whose records could not be read (absent when
/// none); the next page starts after them.
/// </summary>
public sealed record ExpiringReportDocument(LocalDate From, LocalDate To, IReadOnlyList<LicenseDocument> Licenses, string? ContinuationToken, string? Next, IReadOnlyList<string>? Unreadable = null);
