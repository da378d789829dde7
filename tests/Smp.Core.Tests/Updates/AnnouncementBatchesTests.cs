using System.Collections.Immutable;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Updates;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Updates;

/// <summary>R14 grouped as R10: one announcement per customer and recipient set.</summary>
public class AnnouncementBatchesTests
{
    private static readonly UpdateVersion Version = UpdateVersion.Parse("1.96");

    [Fact]
    public void Licenses_of_one_customer_with_the_same_recipients_in_any_case_or_order_share_one_mail()
    {
        var batches = AnnouncementBatches.Group(
            [
                License("VT-2", "C-1", "b@acme.example", "A@acme.example"),
                License("VT-1", "C-1", "a@acme.example", "B@ACME.example"),
                License("VT-3", "C-1", "it@acme.example"),
                License("GX-1", "C-2", "a@acme.example", "b@acme.example"),
            ],
            maxPerMail: 98);

        Assert.Equal(3, batches.Length);
        var pair = batches[0];
        Assert.Equal("C-1", pair.CustomerId);
        Assert.Equal(["VT-1", "VT-2"], pair.Licenses.Select(l => l.Serial.Value));
        Assert.Equal(["a@acme.example", "B@ACME.example"], pair.Recipients.Select(r => r.Value));
        Assert.Equal(["VT-3"], batches[1].Licenses.Select(l => l.Serial.Value));
        Assert.Equal(["GX-1"], batches[2].Licenses.Select(l => l.Serial.Value));
    }

    [Fact]
    public void R10_licenses_of_different_products_of_one_customer_go_out_in_one_mail_naming_both_products()
    {
        var batches = AnnouncementBatches.Group([License("VT-2", "C-1", "a@acme.example", product: "VTube-STEP"), License("VT-1", "C-1", "a@acme.example")], 98);

        var batch = Assert.Single(batches);
        Assert.Equal(["VT-1", "VT-2"], batch.Licenses.Select(l => l.Serial.Value));
        Assert.Equal("VTube-LASER and VTube-STEP", batch.Product);
    }

    [Fact]
    public void A_group_larger_than_one_write_is_split_in_serial_order_and_a_license_is_never_listed_twice()
    {
        var licenses = Enumerable.Range(1, 5).Select(i => License($"VT-{i}", "C-1", "a@acme.example")).ToList();

        var batches = AnnouncementBatches.Group([.. licenses, licenses[0]], maxPerMail: 2);

        Assert.Equal([["VT-1", "VT-2"], ["VT-3", "VT-4"], ["VT-5"]], batches.Select(b => b.Licenses.Select(l => l.Serial.Value).ToArray()));
    }

    [Fact]
    public void The_mail_id_is_derived_from_the_version_and_the_serials_in_any_order()
    {
        var one = new AnnouncementBatch("C-1", [], [License("VT-2", "C-1", "a@acme.example"), License("VT-1", "C-1", "a@acme.example")]);
        var other = one with { Licenses = [.. one.Licenses.Reverse()] };

        Assert.Equal(DeterministicId.From("announcement", "1.96", "VT-1", "VT-2"), one.MailIdFor(Version));
        Assert.Equal(one.MailIdFor(Version), other.MailIdFor(Version));
        Assert.NotEqual(one.MailIdFor(Version), one.MailIdFor(UpdateVersion.Parse("1.97")));
    }

    private static License License(string serial, string customerId, string contact, string? second = null, string product = "VTube-LASER")
    {
        ImmutableArray<EmailAddress> contacts = second is null ? [EmailAddress.Parse(contact)] : [EmailAddress.Parse(contact), EmailAddress.Parse(second)];
        var request = new ActivationRequest(Serial.Parse(serial), product, new Customer(customerId, "Customer " + customerId), contacts, false, NoonOn(Date("2026-03-14")));
        return Changed(PlanDecisions.Activate(null, request, product, Date("2026-03-14"), NoonOn(Date("2026-03-14")), Staff)).License;
    }
}
