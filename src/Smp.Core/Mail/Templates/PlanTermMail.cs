using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Plans;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>The plan term of one license (R12), sent on request to the license's registered contacts only.</summary>
/// <param name="Product">The product name, e.g. "VTube-LASER".</param>
/// <param name="CustomerName">The customer (company) the license belongs to.</param>
/// <param name="Serial">The license's serial.</param>
/// <param name="AsOf">The business date <paramref name="Status"/> was computed for.</param>
/// <param name="Status">The plan's status on <paramref name="AsOf"/> (R7).</param>
/// <param name="Start">The start of the plan's first term.</param>
/// <param name="ExpiresOn">The first day the plan no longer covers.</param>
/// <param name="Terms">Every term of the plan, oldest first.</param>
/// <param name="QuoteRequestUrl">Where the customer can ask for a renewal quotation (absolute https).</param>
/// <param name="RenewalsDesk">The renewals desk's address.</param>
/// <param name="ReplacementOf">SPEC section 10: the serial of the dongle this license replaced, when it did.</param>
public sealed record PlanTermMailModel(
    string Product,
    string CustomerName,
    Serial Serial,
    LocalDate AsOf,
    PlanStatus Status,
    LocalDate Start,
    LocalDate ExpiresOn,
    ImmutableArray<Term> Terms,
    Uri QuoteRequestUrl,
    EmailAddress RenewalsDesk,
    Serial? ReplacementOf = null);

public static class PlanTermMail
{
    private static readonly string[] TermHeaders = ["Term", "Start", "Expires on", "Length", "Source", "Order reference"];

    /// <exception cref="ArgumentException">The model is incomplete, or its link is not an absolute https URL.</exception>
    public static MailContent Render(PlanTermMailModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var product = MailGuard.Text(model.Product, nameof(model.Product));
        var customer = MailGuard.Text(model.CustomerName, nameof(model.CustomerName));
        var serial = MailGuard.Serial(model.Serial, nameof(model.Serial));
        var desk = MailGuard.Address(model.RenewalsDesk, nameof(model.RenewalsDesk));
        var quote = MailLink.To(model.QuoteRequestUrl, $"Request a renewal quotation for {serial}");
        if (model.Terms.IsDefaultOrEmpty || model.Terms.Any(t => t is null))
        {
            throw new ArgumentException("A plan has at least one term.", nameof(model));
        }

        var current = model.Status switch
        {
            PlanStatus.Current => true,
            PlanStatus.Lapsed => false,
            _ => throw new ArgumentOutOfRangeException(nameof(model), model.Status, "Unknown plan status."),
        };
        var lastCoveredDay = model.ExpiresOn.PlusDays(-1);

        var subject = current
            ? Plain($"{product} maintenance plan {serial}: current, expires on {model.ExpiresOn}")
            : Plain($"{product} maintenance plan {serial}: lapsed, expired on {model.ExpiresOn}");

        var doc = new MailLayout()
            .Heading($"{product} maintenance plan {serial}")
            .Paragraph($"Hello,")
            .Paragraph($"As requested, here is the Software Maintenance Plan (SMP) of {product} license {Strong(serial)} of {customer}, as of {model.AsOf}.")
            .Facts(Plain($"Plan {serial} on {model.AsOf}"), [
                KeyValuePair.Create("Status", current ? "Current" : "Lapsed"),
                KeyValuePair.Create("Plan start", MailDates.Format(model.Start)),
                KeyValuePair.Create(current ? "Expires on" : "Expired on", MailDates.Format(model.ExpiresOn)),
            ])
            .Table(Plain($"Terms of plan {serial}"), TermHeaders, model.Terms.Select(TermRow));

        if (model.ReplacementOf is { } replaced)
        {
            var oldSerial = MailGuard.Serial(replaced, nameof(model.ReplacementOf));
            doc.Paragraph($"License {Strong(serial)} replaced dongle {Strong(oldSerial)}: the plan moved to the new dongle unchanged, and the terms above are its whole history, from the activation of {oldSerial} on.");
        }

        if (current)
        {
            doc.Paragraph($"An expiry date is the first day a term no longer covers: this plan covers updates and technical support up to and including {Strong(lastCoveredDay)}.")
                .Paragraph($"To renew the plan from {Strong(model.ExpiresOn)} without a gap, ask for a renewal quotation: write to our renewals desk at {desk} or open this link:", quote);
        }
        else
        {
            doc.Paragraph($"An expiry date is the first day a term no longer covers: this plan covered updates and technical support up to and including {Strong(lastCoveredDay)}.")
                .Paragraph($"The plan has lapsed, so new updates and technical support are not included. It can still be renewed: cover resumes on the day we record the renewal, and the new term starts on the first day of the following month. To ask for a renewal quotation, write to our renewals desk at {desk} or open this link:", quote);
        }

        doc.SignOff(product)
            .Paragraph($"We sent this email because someone asked for the term of this plan. We send it only to the license's registered contacts; if you did not ask for it, you can ignore it.");

        return doc.Render(subject);
    }

    private static IEnumerable<string> TermRow(Term term) =>
    [
        term.Kind switch
        {
            TermKind.Initial => "Initial",
            TermKind.Renewal => "Renewal",
            TermKind.Imported => "Imported",
            _ => term.Kind.ToString(),
        },
        MailDates.Format(term.Start),
        MailDates.Format(term.End),
        (term.Months, term.Days) switch
        {
            ({ } months, _) => Count(months, "month", "months"),
            (null, { } days) => Count(days, "day", "days"),
            _ => string.Empty,
        },
        term.Source switch
        {
            TermSource.Activation => "Activation",
            TermSource.Training => "On-site training",
            TermSource.Renewal => "Renewal",
            TermSource.Import => "Import",
            _ => term.Source.ToString(),
        },
        term.OrderReference ?? string.Empty,
    ];
}
