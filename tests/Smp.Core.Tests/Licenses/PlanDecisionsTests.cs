using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Licenses;

/// <summary>
/// The decisions on each command: what the license becomes, when a repeat changes nothing, and the
/// audit event that records a change with its instant, actor and correlation id (R15).
/// </summary>
public class PlanDecisionsTests
{
    private static readonly CommandContext MailFlow = new("ActivationEmailSent", "0HNA1B2C3D4E5:00000001");
    private static readonly CommandContext RenewalsDesk = new("renewals-desk", "corr-renew-0042");
    private static readonly Instant SentAt = Instant.FromUtc(2026, 3, 14, 16, 45);
    private static readonly Instant Recorded = Instant.FromUtc(2026, 3, 14, 16, 45, 3);

    [Fact]
    public void R15_activation_records_an_activated_event_with_the_term_it_starts()
    {
        var request = new ActivationRequest(Serial.Parse("vt-10042"), null, Acme, AcmeContacts, false, SentAt);

        var change = Changed(PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, Date("2026-03-14"), Recorded, MailFlow));

        AssertEvent(
            change.Event,
            LicenseEventTypes.Activated,
            Recorded,
            "ActivationEmailSent",
            "0HNA1B2C3D4E5:00000001",
            new Dictionary<string, string>
            {
                ["activationEmailSentAt"] = "2026-03-14T16:45:00Z",
                ["customerId"] = "CUST-042",
                ["expiresOn"] = "2026-05-01",
                ["onSiteTraining"] = "false",
                ["product"] = "VTube-LASER",
                ["start"] = "2026-04-01",
            });
    }

    [Fact]
    public void R15_activation_with_training_records_the_one_year_expiry()
    {
        var request = new ActivationRequest(Serial.Parse("VT-10042"), "VTube-STEP", Acme, AcmeContacts, true, SentAt);

        var change = Changed(PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, Date("2026-03-14"), Recorded, MailFlow));

        Assert.Equal("true", change.Event.Data["onSiteTraining"]);
        Assert.Equal("VTube-STEP", change.Event.Data["product"]);
        Assert.Equal("2027-04-01", change.Event.Data["expiresOn"]);
    }

    [Fact]
    public void Activation_stores_the_facts_as_reported()
    {
        var request = new ActivationRequest(Serial.Parse("vt-10042"), "  VTube-STEP ", Acme, AcmeContacts, false, SentAt);

        var license = Changed(PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, Date("2026-03-14"), Recorded, MailFlow)).License;

        Assert.Equal(Serial.Parse("VT-10042"), license.Serial);
        Assert.Equal("VTube-STEP", license.Activation.Product);
        Assert.Equal(Acme, license.Activation.Customer);
        Assert.Equal<EmailAddress>(AcmeContacts, license.Activation.Contacts);
        Assert.False(license.Activation.OnSiteTraining);
        Assert.Equal(SentAt, license.Activation.EmailSentAt);
        Assert.Equal(Date("2026-03-14"), license.Activation.EmailSentOn);
        Assert.Equal<EmailAddress>(AcmeContacts, license.Contacts);
        Assert.Null(license.TrainingRecordedOn);
        Assert.Empty(license.Renewals);
    }

    [Fact]
    public void Activation_without_a_product_uses_the_default_product()
    {
        var license = ActivatedOn("2026-03-14");

        Assert.Equal(PlanOptions.DefaultProductName, license.Product);
    }

    [Fact]
    public void An_identical_activation_repeat_changes_nothing()
    {
        var license = ActivatedOn("2026-03-14");

        var repeat = PlanDecisions.Activate(license, ActivationRequest(Date("2026-03-14")), PlanOptions.DefaultProductName, Date("2026-03-14"), Recorded.Plus(Duration.FromMinutes(5)), MailFlow);

        Assert.IsType<Decision.NoChange>(repeat);
    }

    [Fact]
    public void An_activation_repeat_naming_the_default_product_and_the_contacts_in_another_order_and_case_changes_nothing()
    {
        var license = ActivatedOn("2026-03-14");
        var request = ActivationRequest(Date("2026-03-14")) with
        {
            Product = PlanOptions.DefaultProductName,
            Contacts = [EmailAddress.Parse("CAD.Lead@acme.example"), EmailAddress.Parse("Buyer@Acme.Example")],
        };

        Assert.IsType<Decision.NoChange>(PlanDecisions.Activate(license, request, PlanOptions.DefaultProductName, Date("2026-03-14"), Recorded, MailFlow));
    }

    [Theory]
    [InlineData("training")]
    [InlineData("sentAt")]
    [InlineData("customer")]
    [InlineData("product")]
    [InlineData("contacts")]
    public void An_activation_of_the_same_serial_with_different_data_is_refused(string difference)
    {
        var license = ActivatedOn("2026-03-14");
        var same = ActivationRequest(Date("2026-03-14"));
        var request = difference switch
        {
            "training" => same with { OnSiteTraining = true },
            "sentAt" => same with { ActivationEmailSentAt = same.ActivationEmailSentAt.Plus(Duration.FromSeconds(1)) },
            "customer" => same with { Customer = Acme with { Name = "Acme Tube Works Inc." } },
            "product" => same with { Product = "VTube-STEP" },
            "contacts" => same with { Contacts = [AcmeContacts[0]] },
            _ => throw new ArgumentOutOfRangeException(nameof(difference)),
        };

        var refused = Assert.IsType<Decision.Refuse>(PlanDecisions.Activate(license, request, PlanOptions.DefaultProductName, Date("2026-03-14"), Recorded, MailFlow));
        Assert.Contains(SerialNumber, refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void R15_training_records_a_trainingRecorded_event_with_both_expiry_dates()
    {
        var license = ActivatedOn("2026-03-14");
        var at = Instant.FromUtc(2026, 6, 15, 17, 2);

        var change = Changed(PlanDecisions.RecordTraining(license, Date("2026-06-15"), at, RenewalsDesk));

        AssertEvent(
            change.Event,
            LicenseEventTypes.TrainingRecorded,
            at,
            "renewals-desk",
            "corr-renew-0042",
            new Dictionary<string, string>
            {
                ["expiresOn"] = "2027-04-01",
                ["previousExpiresOn"] = "2026-05-01",
            });
        Assert.Equal(Date("2026-06-15"), change.License.TrainingRecordedOn);
    }

    [Fact]
    public void R15_renewal_records_a_renewed_event_with_the_new_term()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true);
        var at = Instant.FromUtc(2027, 2, 10, 21, 30);
        var paidAt = Instant.FromUtc(2027, 2, 9, 15, 0);

        var change = Changed(PlanDecisions.Renew(license, new RenewalRequest("PO-2027-0117", 24, paidAt), Date("2027-02-10"), at, RenewalsDesk));

        AssertEvent(
            change.Event,
            LicenseEventTypes.Renewed,
            at,
            "renewals-desk",
            "corr-renew-0042",
            new Dictionary<string, string>
            {
                ["coveredFrom"] = "2027-04-01",
                ["expiresOn"] = "2029-04-01",
                ["months"] = "24",
                ["orderReference"] = "PO-2027-0117",
                ["paidAt"] = "2027-02-09T15:00:00Z",
                ["previousExpiresOn"] = "2027-04-01",
                ["start"] = "2027-04-01",
            });
    }

    [Fact]
    public void R15_late_renewal_event_records_where_coverage_resumes()
    {
        var license = ActivatedOn("2026-03-14", onSiteTraining: true);
        var at = Instant.FromUtc(2027, 6, 17, 16, 0);

        var change = Changed(PlanDecisions.Renew(license, new RenewalRequest("PO-9", 12, null), Date("2027-06-17"), at, RenewalsDesk));

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["coveredFrom"] = "2027-06-17",
                ["expiresOn"] = "2028-07-01",
                ["months"] = "12",
                ["orderReference"] = "PO-9",
                ["previousExpiresOn"] = "2027-04-01",
                ["start"] = "2027-07-01",
            },
            change.Event.Data);
        Assert.False(change.Event.Data.ContainsKey("paidAt"));
    }

    [Fact]
    public void R15_replacing_contacts_records_a_contactsChanged_event_with_both_lists()
    {
        var license = ActivatedOn("2026-03-14");
        var at = Instant.FromUtc(2026, 5, 2, 14, 0);
        ImmutableArray<EmailAddress> contacts = [EmailAddress.Parse("it@acme.example")];

        var change = Changed(PlanDecisions.ReplaceContacts(license, contacts, at, RenewalsDesk));

        AssertEvent(
            change.Event,
            LicenseEventTypes.ContactsChanged,
            at,
            "renewals-desk",
            "corr-renew-0042",
            new Dictionary<string, string>
            {
                ["contacts"] = "it@acme.example",
                ["previousContacts"] = "buyer@acme.example, cad.lead@acme.example",
            });
        Assert.Equal<EmailAddress>(contacts, change.License.Contacts);
        Assert.Equal<EmailAddress>(AcmeContacts, change.License.Activation.Contacts);
    }

    [Fact]
    public void Replacing_contacts_with_the_same_set_in_another_order_and_case_changes_nothing()
    {
        var license = ActivatedOn("2026-03-14");
        ImmutableArray<EmailAddress> same = [EmailAddress.Parse("CAD.LEAD@acme.example"), EmailAddress.Parse("buyer@acme.example")];

        Assert.IsType<Decision.NoChange>(PlanDecisions.ReplaceContacts(license, same, Recorded, RenewalsDesk));
    }

    [Fact]
    public void Replacing_contacts_does_not_change_the_plan()
    {
        var license = ActivatedOn("2026-03-14").RenewedOn("2026-04-20");

        var changed = Changed(PlanDecisions.ReplaceContacts(license, [EmailAddress.Parse("it@acme.example")], Recorded, RenewalsDesk)).License;

        Assert.Equal<Term>(license.Terms, changed.Terms);
    }

    [Fact]
    public void Decisions_never_read_a_clock_the_same_inputs_give_the_same_decision()
    {
        var license = ActivatedOn("2026-03-14");
        var request = new RenewalRequest("PO-1", 12, null);

        var first = Changed(PlanDecisions.Renew(license, request, Date("2026-04-20"), Recorded, RenewalsDesk));
        var second = Changed(PlanDecisions.Renew(license, request, Date("2026-04-20"), Recorded, RenewalsDesk));

        AssertEvent(second.Event, first.Event.Type, first.Event.At, first.Event.Actor, first.Event.CorrelationId, first.Event.Data);
        Assert.Equal<Term>(first.License.Terms, second.License.Terms);
        Assert.Equal<Renewal>(first.License.Renewals, second.License.Renewals);
    }

    [Fact]
    public void R15_a_reminder_left_out_of_its_mail_is_withdrawn_with_an_event_once_and_stays_taken()
    {
        var license = ActivatedOn("2026-03-14"); // 30-day term: expires 2026-05-01, 30-day reminder due 2026-04-01.
        var reminder = Assert.Single(Smp.Core.Plans.ReminderSchedule.Default.Planned(license));
        var queued = Changed(PlanDecisions.RecordReminder(license, reminder, Smp.Core.Plans.ReminderOutcome.Sent, "mail-1", Recorded, RenewalsDesk)).License;
        var dispatcher = new CommandContext("DispatchMail", "mail-1");

        var change = Changed(PlanDecisions.WithdrawReminder(queued, reminder.Stage, reminder.ExpiresOn, "mail-1", "Superseded before delivery: now expires on 2027-05-01, not 2026-05-01.", Recorded, dispatcher));

        AssertEvent(change.Event, LicenseEventTypes.ReminderWithdrawn, Recorded, "DispatchMail", "mail-1", new Dictionary<string, string>
        {
            ["expiresOn"] = "2026-05-01",
            ["mailId"] = "mail-1",
            ["reason"] = "Superseded before delivery: now expires on 2027-05-01, not 2026-05-01.",
            ["stage"] = "30-day",
        });
        var record = Assert.Single(change.License.Reminders);
        Assert.Equal((Smp.Core.Plans.ReminderOutcome.Withdrawn, "mail-1", (LocalDate?)Date("2026-04-01")), (record.Outcome, record.MailId, record.DueOn));

        // Again, or for another mail: nothing changes. The reminder stays taken: the schedule plans it no more.
        Assert.IsType<Decision.NoChange>(PlanDecisions.WithdrawReminder(change.License, reminder.Stage, reminder.ExpiresOn, "mail-1", "again", Recorded, dispatcher));
        Assert.IsType<Decision.NoChange>(PlanDecisions.WithdrawReminder(queued, reminder.Stage, reminder.ExpiresOn, "mail-2", "other mail", Recorded, dispatcher));
        Assert.Empty(Smp.Core.Plans.ReminderSchedule.Default.Pending(change.License));
    }

    private static void AssertEvent(
        LicenseEvent actual,
        string type,
        Instant at,
        string actor,
        string correlationId,
        IReadOnlyDictionary<string, string> data)
    {
        Assert.Equal(type, actual.Type);
        Assert.Equal(at, actual.At);
        Assert.Equal(actor, actual.Actor);
        Assert.Equal(correlationId, actual.CorrelationId);
        Assert.Equal(data.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Data);
    }
}
