using System.Collections.Immutable;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Tests;

/// <summary>
/// Builders for the worked examples. Licenses are made the way the service makes them, through
/// <see cref="PlanDecisions"/>, so that every example also exercises the decisions; each command is
/// recorded at noon of its business date in the sample business zone.
/// </summary>
internal static class Given
{
    public const string SerialNumber = "VT-10042";

    public static readonly DateTimeZone BusinessZone = DateTimeZoneProviders.Tzdb["America/Denver"];

    public static readonly CommandContext Staff = new("RecordRenewal", "corr-7f3a9c");

    public static readonly Customer Acme = new("CUST-042", "Acme Tube Works");

    public static readonly ImmutableArray<EmailAddress> AcmeContacts =
        [EmailAddress.Parse("buyer@acme.example"), EmailAddress.Parse("cad.lead@acme.example")];

    public static LocalDate Date(string iso) => LocalDatePattern.Iso.Parse(iso).GetValueOrThrow();

    public static Instant NoonOn(LocalDate date) => (date + new LocalTime(12, 0)).InZoneStrictly(BusinessZone).ToInstant();

    public static ActivationRequest ActivationRequest(LocalDate sentOn, bool onSiteTraining = false) =>
        new(Serial.Parse(SerialNumber), null, Acme, AcmeContacts, onSiteTraining, NoonOn(sentOn));

    public static License ActivatedOn(string sentOn, bool onSiteTraining = false) => ActivatedOn(Date(sentOn), onSiteTraining);

    public static License ActivatedOn(LocalDate sentOn, bool onSiteTraining = false) =>
        Changed(PlanDecisions.Activate(null, ActivationRequest(sentOn, onSiteTraining), PlanOptions.DefaultProductName, sentOn, NoonOn(sentOn), Staff)).License;

    public static License WithTrainingRecordedOn(this License license, string recordedOn) =>
        Changed(PlanDecisions.RecordTraining(license, Date(recordedOn), NoonOn(Date(recordedOn)), Staff)).License;

    public static License RenewedOn(this License license, string recordedOn, int months = 12, string orderReference = "PO-1") =>
        Changed(PlanDecisions.Renew(license, new RenewalRequest(orderReference, months, null), Date(recordedOn), NoonOn(Date(recordedOn)), Staff)).License;

    public static Decision.Change Changed(Decision decision) => Assert.IsType<Decision.Change>(decision);
}
