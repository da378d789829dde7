using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Plans;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>The acknowledgement of a renewal-quotation request (R11), sent to the customer's registered contacts.</summary>
/// <param name="Product">The product name, e.g. "VTube-LASER".</param>
/// <param name="CustomerName">The customer (company) the licenses belong to.</param>
/// <param name="RequestedOn">The business date of the request; plans expiring on or before it are written as expired.</param>
/// <param name="Licenses">Every license the quotation is for, with its plan's expiry date.</param>
/// <param name="RenewalsDesk">The renewals desk's address.</param>
public sealed record QuoteAcknowledgementMailModel(
    string Product,
    string CustomerName,
    LocalDate RequestedOn,
    ImmutableArray<PlanExpiry> Licenses,
    EmailAddress RenewalsDesk);

public static class QuoteAcknowledgementMail
{
    /// <exception cref="ArgumentException">The model is incomplete.</exception>
    public static MailContent Render(QuoteAcknowledgementMailModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var product = MailGuard.Text(model.Product, nameof(model.Product));
        var customer = MailGuard.Text(model.CustomerName, nameof(model.CustomerName));
        var desk = MailGuard.Address(model.RenewalsDesk, nameof(model.RenewalsDesk));
        var licenses = MailGuard.Licenses(model.Licenses, l => l.Serial, l => l.ExpiresOn, nameof(model.Licenses));
        var first = licenses[0];
        var single = licenses.Length == 1;

        var doc = new MailLayout()
            .Heading($"We received your request for a renewal quotation")
            .Paragraph($"Hello,");

        if (single)
        {
            if (Expired(first, model.RequestedOn))
            {
                doc.Paragraph($"We received a request for a renewal quotation for the Software Maintenance Plan (SMP) of {product} license {Strong(first.Serial)} of {customer}, which expired on {Strong(first.ExpiresOn)}.");
            }
            else
            {
                doc.Paragraph($"We received a request for a renewal quotation for the Software Maintenance Plan (SMP) of {product} license {Strong(first.Serial)} of {customer}, which expires on {Strong(first.ExpiresOn)}.");
            }
        }
        else
        {
            doc.Paragraph($"We received a request for a renewal quotation for the Software Maintenance Plans (SMPs) of these {licenses.Length} {product} licenses of {customer}:")
                .List(licenses.Select(l => Expired(l, model.RequestedOn)
                    ? MailLayout.Item($"{Strong(l.Serial)}: plan expired on {l.ExpiresOn}")
                    : MailLayout.Item($"{Strong(l.Serial)}: plan expires on {l.ExpiresOn}")));
        }

        doc.Paragraph($"Our renewals desk will prepare the quotation and send it to you by email. Nothing changes until you order: renewals are optional and prepaid, and each license has its own plan.")
            .Paragraph($"A renewal recorded before a plan's expiry date continues the plan from that date without a gap. For a plan that has already lapsed, cover resumes on the day the renewal is recorded and the new term starts on the first day of the following month.")
            .Paragraph($"Questions? Reply to this email or write to our renewals desk at {desk}. If you did not ask for a quotation, you can ignore this email.")
            .SignOff(product)
            .ContactNote(licenses.Length);

        return doc.Render(single
            ? Plain($"{product} renewal quotation requested for license {first.Serial}")
            : Plain($"{product} renewal quotation requested for {licenses.Length} licenses"));
    }

    private static bool Expired(PlanExpiry license, LocalDate requestedOn) => license.ExpiresOn <= requestedOn;
}
