using System.Collections.Immutable;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Requests;

/// <summary>Which licenses a quotation request covers (R11).</summary>
public enum QuoteScope
{
    /// <summary>The license whose serial was given.</summary>
    License,

    /// <summary>
    /// Every license of the same customer: the renewals desk hears of all of them; the acknowledgement names only
    /// those whose contacts include every recipient of it.
    /// </summary>
    Customer,
}

/// <summary>
/// Customer requests made through links in mail (R11, R12). Every well-formed request gets the same answer
/// whether or not the serial exists (no oracle); mail goes only to a license's registered contacts and to the
/// renewals desk; each serial gets a few requests of each kind per day.
/// </summary>
public sealed class CustomerRequests(
    LicenseService licenses,
    IMailOutbox outbox,
    IRequestRateLimiter limiter,
    MailSettings mail,
    BusinessCalendar calendar)
{
    public const int TermRequestsPerDay = 3;
    public const int QuoteRequestsPerDay = 3;
    public const string TermLimitScope = "term-request";
    public const string QuoteLimitScope = "quote-request";

    /// <summary>R12: mails the license's plan term to its registered contacts, never to any other address.</summary>
    public async Task RequestTermAsync(Serial serial, CommandContext context, CancellationToken cancellationToken)
    {
        var today = calendar.Today;
        var allowed = await limiter.TryAcquireAsync(TermLimitScope, serial, today, TermRequestsPerDay, context.CorrelationId, cancellationToken);
        var stored = await licenses.GetAsync(serial, cancellationToken);
        if (!allowed || stored is null)
        {
            return;
        }

        var license = stored.License;
        var content = PlanTermMail.Render(new PlanTermMailModel(
            license.Product,
            license.Customer.Name,
            license.Serial,
            today,
            license.StatusOn(today),
            license.Terms[0].Start,
            license.ExpiresOn,
            license.Terms,
            CustomerLinks.QuoteRequestPage(mail.PublicBaseUrl, license.Serial, allOfCustomer: false),
            mail.RenewalsDesk));
        var id = DeterministicId.From("term", license.Serial.Value, context.CorrelationId);
        await EnqueueAsync(new OutgoingMail(id, mail.Sender, license.Contacts, mail.RenewalsDesk, content.Subject, content.PlainText, content.Html), MailKinds.Term, cancellationToken);
        await licenses.RecordRequestAsync(license.Serial, LicenseEventTypes.TermRequested, new Dictionary<string, string> { ["mailId"] = id }, context, cancellationToken);
    }

    /// <summary>
    /// R11: notifies the renewals desk with each serial, its expiry and the proposed next term (R6, as if renewed
    /// today for the default twelve months), and acknowledges to the requesting license's registered contacts.
    /// </summary>
    public async Task RequestQuoteAsync(Serial serial, QuoteScope scope, CommandContext context, CancellationToken cancellationToken)
    {
        var today = calendar.Today;
        var allowed = await limiter.TryAcquireAsync(QuoteLimitScope, serial, today, QuoteRequestsPerDay, context.CorrelationId, cancellationToken);
        var stored = await licenses.GetAsync(serial, cancellationToken);
        if (!allowed || stored is null)
        {
            return;
        }

        var requester = stored.License;
        // The desk is the vendor's own: for a whole customer it hears of every license of the customer. The
        // acknowledgement goes to the requester's contacts, so it names a license only when every one of them is
        // among that license's contacts: nobody learns of a license that is not theirs.
        var included = scope == QuoteScope.Customer
            ? (await licenses.ListByCustomerAsync(requester.Customer.Id, cancellationToken))
                .Select(l => l.License)
                .ToImmutableArray()
            : [requester];
        if (!included.Any(l => l.Serial == requester.Serial))
        {
            included = included.Add(requester);
        }

        var acknowledged = included.Where(l => l.Serial == requester.Serial || requester.Contacts.All(l.Contacts.Contains)).ToImmutableArray();

        var lines = included
            .Select(l => QuoteLine.For(l.Serial, l.ExpiresOn, PlanRules.RenewalTerm(l.ExpiresOn, today, PlanRules.DefaultRenewalMonths, null)))
            .ToImmutableArray();
        var notification = QuoteNotificationMail.Render(new QuoteNotificationMailModel(requester.Product, requester.Customer, requester.Contacts, today, lines));
        var acknowledgement = QuoteAcknowledgementMail.Render(new QuoteAcknowledgementMailModel(
            requester.Product,
            requester.Customer.Name,
            today,
            [.. acknowledged.Select(l => new PlanExpiry(l.Serial, l.ExpiresOn))],
            mail.RenewalsDesk));

        var deskId = DeterministicId.From("quote-desk", requester.Serial.Value, context.CorrelationId);
        var ackId = DeterministicId.From("quote-ack", requester.Serial.Value, context.CorrelationId);
        await EnqueueAsync(new OutgoingMail(deskId, mail.Sender, [mail.RenewalsDesk], requester.Contacts[0], notification.Subject, notification.PlainText, notification.Html), MailKinds.QuoteNotification, cancellationToken);
        await EnqueueAsync(new OutgoingMail(ackId, mail.Sender, requester.Contacts, mail.RenewalsDesk, acknowledgement.Subject, acknowledgement.PlainText, acknowledgement.Html), MailKinds.QuoteAcknowledgement, cancellationToken);
        foreach (var license in included)
        {
            await licenses.RecordRequestAsync(license.Serial, LicenseEventTypes.QuoteRequested, new Dictionary<string, string>
            {
                ["requestedFor"] = requester.Serial.Value,
                ["scope"] = scope == QuoteScope.Customer ? "customer" : "license",
                ["notificationMailId"] = deskId,
                ["acknowledgementMailId"] = ackId,
            }, context, cancellationToken);
        }
    }

    private async Task EnqueueAsync(OutgoingMail message, string kind, CancellationToken cancellationToken) =>
        // A repeat of the same request (same correlation id) composes the same id: AlreadyEnqueued, nothing new.
        _ = await outbox.EnqueueAsync(message, kind, [], calendar.Now, cancellationToken);
}
