using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Updates;

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
    long Version,
    IReadOnlyList<EventDocument>? Events,
    IReadOnlyList<UpdateEntitlementDocument>? Updates = null)
{
    public static LicenseDocument From(StoredLicense stored, LocalDate today, IReadOnlyList<LicenseEvent>? events, IReadOnlyList<UpdateEntitlement>? updates = null)
    {
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
            stored.Version,
            events?.Select(EventDocument.From).ToList(),
            updates?.Select(UpdateEntitlementDocument.From).ToList());
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

public sealed record EventDocument(string Type, Instant At, string Actor, string CorrelationId, IReadOnlyDictionary<string, string> Data)
{
    public static EventDocument From(LicenseEvent e) => new(e.Type, e.At, e.Actor, e.CorrelationId, e.Data);
}

public sealed record CustomerLicensesDocument(CustomerDocument Customer, IReadOnlyList<LicenseDocument> Licenses);

public sealed record ExpiringReportDocument(LocalDate From, LocalDate To, IReadOnlyList<LicenseDocument> Licenses);
