using System.Collections.Immutable;
using Smp.Core.Plans;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// A plan-expiry reminder (R8) for one or several licenses of one customer (R10).
/// </summary>
/// <param name="Product">The product name, e.g. "VTube-LASER".</param>
/// <param name="CustomerName">The customer (company) the licenses belong to.</param>
/// <param name="Stage">Which reminder this is; the early and the last one are worded differently.</param>
/// <param name="Licenses">Every license the reminder is about, with its plan's expiry date.</param>
/// <param name="QuoteRequestUrl">Where the customer can ask for a renewal quotation (absolute https).</param>
/// <param name="RenewalsDesk">The renewals desk's address; the mail's Reply-To is expected to be this address too.</param>
public sealed record ReminderMailModel(
    string Product,
    string CustomerName,
    ReminderWording Wording,
    ImmutableArray<PlanExpiry> Licenses,
    Uri QuoteRequestUrl,
    EmailAddress RenewalsDesk);

public static class ReminderMail
{
    /// <exception cref="ArgumentException">The model is incomplete, or its link is not an absolute https URL.</exception>
    public static MailContent Render(ReminderMailModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var product = MailGuard.Text(model.Product, nameof(model.Product));
        var customer = MailGuard.Text(model.CustomerName, nameof(model.CustomerName));
        var desk = MailGuard.Address(model.RenewalsDesk, nameof(model.RenewalsDesk));
        var licenses = MailGuard.Licenses(model.Licenses, l => l.Serial, l => l.ExpiresOn, nameof(model.Licenses));
        var quote = MailLink.To(model.QuoteRequestUrl, $"Request a renewal quotation");
        var final = model.Wording switch
        {
            ReminderWording.Early => false,
            ReminderWording.Final => true,
            _ => throw new ArgumentOutOfRangeException(nameof(model), model.Wording, "Unknown reminder stage."),
        };

        var first = licenses[0];
        var single = licenses.Length == 1;
        var sameDate = licenses.All(l => l.ExpiresOn == first.ExpiresOn);

        var headline = single
            ? Plain($"{product} maintenance plan {first.Serial} expires on {first.ExpiresOn}")
            : sameDate
                ? Plain($"{licenses.Length} {product} maintenance plans expire on {first.ExpiresOn}")
                : Plain($"{licenses.Length} {product} maintenance plans expire soon");

        var doc = new MailLayout()
            .Heading($"{headline}")
            .Paragraph($"Hello,");

        if (single)
        {
            doc.Paragraph($"The Software Maintenance Plan (SMP) for {product} license {Strong(first.Serial)} of {customer} expires on {Strong(first.ExpiresOn)}.");
        }
        else
        {
            if (sameDate)
            {
                doc.Paragraph($"The Software Maintenance Plans (SMPs) for these {licenses.Length} {product} licenses of {customer} expire on {Strong(first.ExpiresOn)}:");
            }
            else
            {
                doc.Paragraph($"The Software Maintenance Plans (SMPs) for these {licenses.Length} {product} licenses of {customer} expire soon:");
            }

            // Section 4: each mail names the product; with more than one, each line names its license's.
            var mixed = licenses.Select(l => l.Product).Where(p => p is not null).Distinct(StringComparer.Ordinal).Count() > 1;
            doc.List(licenses.Select(l => mixed
                ? MailLayout.Item($"{Strong(l.Serial)} ({MailGuard.Text(l.Product, nameof(model.Licenses))}): expires on {l.ExpiresOn}")
                : MailLayout.Item($"{Strong(l.Serial)}: expires on {l.ExpiresOn}")));
        }

        doc.Paragraph($"While a plan is current, its license receives every new {product} update, each unlocked by its own password, and technical support from our team.");

        if (!final)
        {
            doc.Paragraph($"This is an early reminder, so that there is time to get a quotation and renew without a gap. We will remind you once more shortly before the expiry date.");
        }
        else if (single)
        {
            doc.Paragraph($"This is our last reminder before the plan expires. To keep updates and technical support without interruption, renew before {Strong(first.ExpiresOn)}.");
        }
        else
        {
            doc.Paragraph($"This is our last reminder before these plans expire. To keep updates and technical support without interruption, renew each plan before its expiry date.");
        }

        doc.Paragraph($"To receive a renewal quotation, reply to this email (it reaches our renewals desk at {desk}) or open this link:", quote)
            .Paragraph($"Renewing is optional: if you do not wish to renew, there is nothing to do. Plan terms are prepaid, and each license has its own plan. A renewal recorded before the expiry date continues the plan from that date, so no day is lost; a plan that has lapsed can still be renewed later, but the time in between is not covered.")
            .SignOff(product)
            .ContactNote(licenses.Length);

        return doc.Render(final ? "Final reminder: " + headline : headline);
    }
}
