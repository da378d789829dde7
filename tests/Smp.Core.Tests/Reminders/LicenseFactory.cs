using System.Collections.Immutable;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Tests.Reminders;

/// <summary>Builds licenses through the same decisions the service applies, so their facts are ones the system can hold.</summary>
public static class LicenseFactory
{
    public const string Product = "VTube-LASER";

    public static readonly DateTimeZone Denver = DateTimeZoneProviders.Tzdb["America/Denver"];

    public static readonly Customer Acme = new("C-ACME", "Acme Tube Works");

    public static readonly CommandContext Staff = new("RenewalsDesk", "corr-test");

    public static LocalDate Date(string iso) => LocalDatePattern.Iso.Parse(iso).Value;

    /// <summary>An instant in the middle of the business day <paramref name="date"/>.</summary>
    public static Instant Noon(LocalDate date) => date.At(new LocalTime(12, 0)).InZoneStrictly(Denver).ToInstant();

    public static ImmutableArray<EmailAddress> Addresses(params string[] contacts) => [.. contacts.Select(EmailAddress.Parse)];

    public static ActivationRequest Activation(string serial, LocalDate emailSentOn, bool training, Customer? customer = null, params string[] contacts) =>
        new(
            Serial.Parse(serial),
            Product,
            customer ?? Acme,
            contacts.Length == 0 ? Addresses("buyer@acme.example.com") : Addresses(contacts),
            training,
            Noon(emailSentOn));

    public static License Activated(LocalDate emailSentOn, bool training, string serial = "SN-1", Customer? customer = null, params string[] contacts) =>
        Changed(PlanDecisions.Activate(null, Activation(serial, emailSentOn, training, customer, contacts), Product, emailSentOn, Noon(emailSentOn), Staff));

    public static License RenewedOn(this License license, LocalDate recordedOn, int months = 12, string? orderReference = null) =>
        Changed(PlanDecisions.Renew(
            license,
            new RenewalRequest(orderReference ?? $"PO-{license.Renewals.Length + 1}", months, null),
            recordedOn,
            Noon(recordedOn),
            Staff));

    public static License TrainedOn(this License license, LocalDate recordedOn) =>
        Changed(PlanDecisions.RecordTraining(license, recordedOn, Noon(recordedOn), Staff));

    public static License WithReminder(this License license, PlannedReminder reminder, ReminderOutcome outcome = ReminderOutcome.Sent) =>
        Changed(PlanDecisions.RecordReminder(
            license,
            reminder,
            outcome,
            outcome == ReminderOutcome.Sent ? Guid.NewGuid().ToString("D") : null,
            Noon(reminder.DueOn),
            Staff));

    private static License Changed(Decision decision) => Assert.IsType<Decision.Change>(decision).License;
}
