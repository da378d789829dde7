using Smp.Core.Mail;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using static Smp.Core.Tests.Reminders.LicenseFactory;

namespace Smp.Core.Tests.Reminders;

public class ReminderBatchesTests
{
    private static readonly Customer Globex = new("C-GLOBEX", "Globex");

    private static DueReminder Due(string serial, int stage = 90, Customer? customer = null, bool training = true, params string[] contacts)
    {
        var license = Activated(Date("2026-03-14"), training, serial, customer ?? Acme, contacts.Length == 0 ? ["ana@acme.example.com", "bo@acme.example.com"] : contacts);
        var reminder = ReminderSchedule.Default.Planned(license).Single(p => p.Stage.DaysBefore == stage);
        return new DueReminder(license, reminder);
    }

    private static IEnumerable<string> Serials(ReminderBatch batch) => batch.Items.Select(i => i.License.Serial.Value);

    [Fact]
    public void R10_two_licenses_of_one_customer_with_the_same_contacts_go_out_in_one_mail()
    {
        var first = Due("SN-1", contacts: ["ana@acme.example.com", "bo@acme.example.com"]);
        var second = Due("SN-2", contacts: ["BO@ACME.example.com", "Ana@Acme.Example.Com"]);

        var batch = Assert.Single(ReminderBatches.Group([second, first], maxPerMail: 50));

        Assert.Equal("C-ACME", batch.CustomerId);
        Assert.Equal(new ReminderStage(90), batch.Stage);
        Assert.Equal(["SN-1", "SN-2"], Serials(batch));
        Assert.Equal(first.License.Contacts.AsEnumerable(), batch.Recipients);
        Assert.All(batch.Items, i => Assert.Equal(Date("2027-04-01"), i.Reminder.ExpiresOn));
    }

    [Fact]
    public void R10_a_repeated_address_does_not_make_a_different_recipient_set()
    {
        var first = Due("SN-1", contacts: ["ana@acme.example.com"]);
        var second = Due("SN-2", contacts: ["ana@acme.example.com", "ANA@acme.example.com"]);

        Assert.Single(ReminderBatches.Group([first, second], maxPerMail: 50));
    }

    [Fact]
    public void R10_different_recipients_get_separate_mails()
    {
        var first = Due("SN-1", contacts: ["ana@acme.example.com"]);
        var second = Due("SN-2", contacts: ["ana@acme.example.com", "bo@acme.example.com"]);

        var batches = ReminderBatches.Group([first, second], maxPerMail: 50);

        Assert.Equal(2, batches.Length);
        Assert.Equal(["SN-1"], Serials(batches.Single(b => b.Recipients.Length == 1)));
        Assert.Equal(["SN-2"], Serials(batches.Single(b => b.Recipients.Length == 2)));
    }

    [Fact]
    public void R10_different_stages_get_separate_mails()
    {
        var batches = ReminderBatches.Group([Due("SN-1", stage: 90), Due("SN-2", stage: 30)], maxPerMail: 50);

        Assert.Equal([30, 90], batches.Select(b => b.Stage.DaysBefore).Order());
        Assert.All(batches, b => Assert.Single(b.Items));
    }

    [Fact]
    public void R10_different_customers_get_separate_mails_even_with_the_same_contacts()
    {
        var batches = ReminderBatches.Group([Due("SN-2", customer: Globex), Due("SN-1", customer: Acme)], maxPerMail: 50);

        Assert.Equal(2, batches.Length);
        Assert.Equal(["SN-1"], Serials(batches.Single(b => b.CustomerId == "C-ACME")));
        Assert.Equal(["SN-2"], Serials(batches.Single(b => b.CustomerId == "C-GLOBEX")));
    }

    [Fact]
    public void R10_licenses_of_two_products_of_one_customer_go_out_in_one_mail_naming_both_products()
    {
        var laser = Due("SN-1");
        var other = Due("SN-2");
        var step = other with { License = other.License with { Activation = other.License.Activation with { Product = "VTube-STEP" } } };

        var batch = Assert.Single(ReminderBatches.Group([step, laser], maxPerMail: 50));
        Assert.Equal(["SN-1", "SN-2"], Serials(batch));

        var settings = new MailSettings(EmailAddress.Parse("smp@vendor.example"), EmailAddress.Parse("renewals@vendor.example"), new Uri("https://smp.vendor.example/"));
        var mail = new ReminderMailComposer(settings, ReminderSchedule.Default).Compose(batch);

        Assert.Contains("VTube-LASER", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("VTube-STEP", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("SN-1 (VTube-LASER)", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("SN-2 (VTube-STEP)", mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_larger_than_one_mail_is_split_in_serial_order()
    {
        var due = new[] { "SN-5", "SN-3", "SN-1", "SN-4", "SN-2" }.Select(s => Due(s)).ToList();

        var batches = ReminderBatches.Group(due, maxPerMail: 2);

        Assert.Equal(
            [["SN-1", "SN-2"], ["SN-3", "SN-4"], ["SN-5"]],
            batches.Select(b => Serials(b).ToArray()));
        Assert.Equal(3, batches.Select(b => b.MailId).Distinct().Count());
    }

    [Fact]
    public void Splitting_does_not_depend_on_the_order_the_reminders_were_found_in()
    {
        var due = new[] { "SN-5", "SN-3", "SN-1", "SN-4", "SN-2" }.Select(s => Due(s)).ToList();
        var expected = ReminderBatches.Group(due, maxPerMail: 2).Select(b => b.MailId).ToList();

        foreach (var order in new[] { due.AsEnumerable().Reverse(), due.OrderBy(d => d.License.Serial.Value), due.Skip(2).Concat(due.Take(2)) })
        {
            Assert.Equal(expected, ReminderBatches.Group(order.ToList(), maxPerMail: 2).Select(b => b.MailId));
        }
    }

    [Fact]
    public void A_mail_size_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReminderBatches.Group([Due("SN-1")], maxPerMail: 0));
    }

    [Fact]
    public void Nothing_due_makes_no_mail()
    {
        Assert.Empty(ReminderBatches.Group([], maxPerMail: 50));
    }

    [Fact]
    public void The_mail_id_is_the_same_for_the_same_reminders_in_any_order()
    {
        var a = Due("SN-A");
        var b = Due("SN-B");
        var c = Due("SN-C");

        var one = Assert.Single(ReminderBatches.Group([a, b, c], 50)).MailId;
        var two = Assert.Single(ReminderBatches.Group([c, a, b], 50)).MailId;
        var three = new ReminderBatch("C-ACME", new ReminderStage(90), a.License.Contacts, [b, c, a]).MailId;

        Assert.Equal(one, two);
        Assert.Equal(one, three);
        Assert.True(OutgoingMail.IsValidId(one));
    }

    [Fact]
    public void The_mail_id_differs_when_the_reminders_differ()
    {
        var a = Due("SN-A");
        var b = Due("SN-B");
        var ids = new[]
        {
            Assert.Single(ReminderBatches.Group([a, b], 50)).MailId,
            Assert.Single(ReminderBatches.Group([a], 50)).MailId,
            Assert.Single(ReminderBatches.Group([b], 50)).MailId,
            Assert.Single(ReminderBatches.Group([Due("SN-A", stage: 30), Due("SN-B", stage: 30)], 50)).MailId,
            Assert.Single(ReminderBatches.Group([a, b with { Reminder = b.Reminder with { ExpiresOn = Date("2028-04-01") } }], 50)).MailId,
        };

        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Theory]
    [InlineData("reminder", "90-day", "SN-1@2027-04-01")]
    [InlineData("")]
    [InlineData("announcement", "1.96", "SN-1")]
    public void DeterministicId_makes_a_valid_mail_id_that_repeats_for_the_same_parts(params string[] parts)
    {
        var id = DeterministicId.From(parts);

        Assert.True(OutgoingMail.IsValidId(id), id);
        Assert.Equal(id, DeterministicId.From([.. parts]));
    }

    [Fact]
    public void DeterministicId_keeps_the_parts_apart()
    {
        Assert.NotEqual(DeterministicId.From("ab", "c"), DeterministicId.From("a", "bc"));
        Assert.NotEqual(DeterministicId.From("abc"), DeterministicId.From("a", "bc"));
    }
}
