using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>Licenses and events made by the real decisions of Smp.Core, as the service would store them.</summary>
internal static class TestLicenses
{
    public const string Product = "VTube-LASER";

    public static readonly DateTimeZone Zone = DateTimeZoneProviders.Tzdb["America/Denver"];

    /// <summary>2026-03-14 in Denver: the plan starts 2026-04-01; 30 days -> expires 2026-05-01, a year -> 2027-04-01.</summary>
    public static readonly Instant ActivationEmailSentAt = Instant.FromUtc(2026, 3, 14, 16, 0);

    public static readonly CommandContext Context = new("tests", "corr-0001");

    private static int counter;

    /// <summary>A serial no other test in this process uses.</summary>
    public static Serial NewSerial(string prefix = "T") =>
        Serial.Parse($"{prefix}-{Interlocked.Increment(ref counter):D6}-{Guid.NewGuid():N}"[..SpecLimits.SerialMaxLength].TrimEnd('-'));

    public static ActivationRequest Activation(Serial serial, string customerId = "ACME-001", string customerName = "Acme Tubes", bool onSiteTraining = false) =>
        new(serial, Product, new Customer(customerId, customerName), [EmailAddress.Parse("buyer@acme.example"), EmailAddress.Parse("it@acme.example")], onSiteTraining, ActivationEmailSentAt);

    public static Decision.Change Activate(ActivationRequest request) =>
        (Decision.Change)PlanDecisions.Activate(null, request, Product, request.ActivationEmailSentAt.InZone(Zone).Date, ActivationEmailSentAt, Context);

    public static Decision.Change Activate(Serial serial, string customerId = "ACME-001", bool onSiteTraining = false) =>
        Activate(Activation(serial, customerId, onSiteTraining: onSiteTraining));

    public static Decision.Change Renew(License license, string orderReference, int months = 12, Instant? paidAt = null, LocalDate? today = null) =>
        (Decision.Change)PlanDecisions.Renew(
            license,
            new RenewalRequest(orderReference, months, paidAt),
            today ?? new LocalDate(2026, 4, 20),
            Instant.FromUtc(2026, 4, 20, 15, 30),
            new CommandContext("renewals-desk", $"corr-{orderReference}"));

    public static Decision.Change RecordTraining(License license) =>
        (Decision.Change)PlanDecisions.RecordTraining(license, new LocalDate(2026, 4, 2), Instant.FromUtc(2026, 4, 2, 18, 0), Context);

    public static Decision.Change ReplaceContacts(License license, params string[] contacts) =>
        (Decision.Change)PlanDecisions.ReplaceContacts(license, [.. contacts.Select(EmailAddress.Parse)], Instant.FromUtc(2026, 4, 3, 9, 0), Context);

    /// <summary>The recorded facts and everything derived from them, in a form that compares by value.</summary>
    public static object Facts(License license) => new
    {
        Serial = license.Serial.Value,
        license.Activation.Product,
        license.Activation.Customer,
        ActivationContacts = string.Join(",", license.Activation.Contacts.Select(c => c.Value)),
        license.Activation.OnSiteTraining,
        license.Activation.EmailSentAt,
        license.Activation.EmailSentOn,
        Contacts = string.Join(",", license.Contacts.Select(c => c.Value)),
        license.TrainingRecordedOn,
        Renewals = string.Join(";", license.Renewals.Select(r => r.ToString())),
        Terms = string.Join(";", license.Terms.Select(t => t.ToString())),
        license.ExpiresOn,
    };

    public static object Facts(LicenseEvent e) => new
    {
        e.Type,
        e.At,
        e.Actor,
        e.CorrelationId,
        Data = string.Join(";", e.Data.Select(kv => $"{kv.Key}={kv.Value}")),
    };

    public static object[] Facts(IEnumerable<LicenseEvent> events) => [.. events.Select(Facts)];
}
