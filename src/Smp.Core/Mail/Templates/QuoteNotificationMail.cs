using System.Collections.Immutable;
using System.Globalization;
using NodaTime;
using Smp.Core.Plans;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>The notification of a renewal-quotation request (R11) to the renewals desk.</summary>
/// <param name="Product">The product name, e.g. "VTube-LASER".</param>
/// <param name="Customer">The customer the licenses belong to.</param>
/// <param name="Contacts">The licenses' registered contacts, to whom the quotation goes; may be empty.</param>
/// <param name="RequestedOn">The business date of the request, for which the next terms were computed.</param>
/// <param name="Lines">Every license of the request, with its expiry and its proposed next term.</param>
public sealed record QuoteNotificationMailModel(
    string Product,
    Customer Customer,
    ImmutableArray<EmailAddress> Contacts,
    LocalDate RequestedOn,
    ImmutableArray<QuoteLine> Lines);

public static class QuoteNotificationMail
{
    private static readonly string[] Headers = ["Serial", "Expires on", "Next term start", "Next term end", "Months"];

    /// <exception cref="ArgumentException">The model is incomplete.</exception>
    public static MailContent Render(QuoteNotificationMailModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(model.Customer, nameof(model));
        var product = MailGuard.Text(model.Product, nameof(model.Product));
        var customerName = MailGuard.Text(model.Customer.Name, nameof(model.Customer));
        var customerId = MailGuard.Text(model.Customer.Id, nameof(model.Customer));
        var lines = MailGuard.Licenses(model.Lines, l => l.Serial, l => l.ExpiresOn, nameof(model.Lines));
        var contacts = model.Contacts.IsDefault ? [] : model.Contacts.Select(c => MailGuard.Address(c, nameof(model.Contacts))).Distinct().ToImmutableArray();
        var single = lines.Length == 1;

        var doc = new MailLayout()
            .Heading($"Renewal quotation requested");

        if (single)
        {
            doc.Paragraph($"A renewal quotation for {product} license {Strong(lines[0].Serial)} was requested on {Strong(model.RequestedOn)} for {Strong(customerName)} (customer id {customerId}).");
        }
        else
        {
            doc.Paragraph($"A renewal quotation for {lines.Length} {product} licenses was requested on {Strong(model.RequestedOn)} for {Strong(customerName)} (customer id {customerId}).");
        }

        doc.Table(
                Plain($"Proposed next terms for a renewal recorded on {model.RequestedOn}"),
                Headers,
                lines.Select(l => new[]
                {
                    l.Serial.Value,
                    MailDates.Format(l.ExpiresOn),
                    MailDates.Format(l.NextTermStart),
                    MailDates.Format(l.NextTermEnd),
                    l.NextTermMonths.ToString(CultureInfo.InvariantCulture),
                }))
            .Paragraph($"A plan renewed before it expires continues from its expiry date. A lapsed plan is covered again from the day the renewal is recorded, and its new term starts on the first day of the following month, so a later order moves it. End dates, like expiry dates, are the first day no longer covered.");

        if (contacts.IsEmpty)
        {
            doc.Paragraph($"No registered contact is on file for {(single ? "this license" : "these licenses")}, so nobody received an acknowledgement of the request.")
                .Paragraph($"Next: ask the customer where the quotation should go, and record that address as a contact of {(single ? "the license" : "each license")}. When the customer orders, record one renewal per license with its order reference.");
        }
        else
        {
            doc.Paragraph($"Registered contacts, who received an acknowledgement of the request:")
                .List(contacts.Select(c => MailLayout.Item($"{c}")))
                .Paragraph($"Next: send the quotation to the registered contacts. When the customer orders, record one renewal per license with its order reference.");
        }

        return doc.Render(single
            ? Plain($"Quotation request: {customerName}, {product} {lines[0].Serial}")
            : Plain($"Quotation request: {customerName}, {lines.Length} {product} licenses"));
    }
}
