using System.Collections.Immutable;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Updates;

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
/// What one run of the background work on customer requests did: <paramref name="GivenUp"/> are the requests whose
/// last allowed attempt failed in this run (never tried again); <paramref name="Expired"/> those given up unprocessed
/// because they were older than <see cref="CustomerRequests.MaxAgeDays"/>; <paramref name="Unreadable"/> the stored
/// requests that could not be read and were removed; <paramref name="PurgeFailure"/> the kind of error that stopped the
/// purge of past days (null when it ran through), which never hides the rest of the report; <paramref name="Backlog"/>
/// the requests that were waiting when the run began, the oldest of them <paramref name="OldestPendingAgeDays"/> business
/// days old.
/// </summary>
public sealed record CustomerRequestReport(
    int Processed,
    int Failed,
    int Purged,
    IReadOnlyList<CustomerRequest> GivenUp,
    IReadOnlyList<CustomerRequest>? Expired = null,
    IReadOnlyList<UnreadableCustomerRequest>? Unreadable = null,
    string? PurgeFailure = null,
    PendingBacklog? Backlog = null,
    int OldestPendingAgeDays = 0);

/// <summary>
/// When the background work tries a failed customer request again: after <paramref name="FirstDelay"/>, doubling
/// each time up to <paramref name="MaxDelay"/>, and gives it up after <paramref name="MaxAttempts"/> attempts.
/// </summary>
public sealed record CustomerRequestRetry(int MaxAttempts, NodaTime.Duration FirstDelay, NodaTime.Duration MaxDelay)
{
    /// <summary>1, 2, 4 ... minutes, at most an hour apart, 10 attempts: given up within hours, well before the purge.</summary>
    public static CustomerRequestRetry Default { get; } = new(10, NodaTime.Duration.FromMinutes(1), NodaTime.Duration.FromHours(1));

    /// <summary>The wait after the <paramref name="failedAttempts"/>-th failed attempt.</summary>
    public NodaTime.Duration DelayAfter(int failedAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        var delay = FirstDelay * Math.Pow(2, Math.Min(failedAttempts - 1, 30));
        return delay < MaxDelay ? delay : MaxDelay;
    }
}

/// <summary>
/// Customer requests made through links in mail (R11, R12, R13; SPEC section 5). The request path
/// (<see cref="AcceptAsync"/>) checks the limits and records the request, and does exactly that whether or not the
/// serial exists, and whether or not the same ask was made before, so neither the answer nor its storage calls say
/// anything about the serial. The background work (<see cref="ProcessPendingAsync"/>) reads the license and mails its
/// registered contacts and the renewals desk; it takes the serial's daily allowance and the route's daily cap only
/// for a request about to mail an existing license, so asks for made-up serials or versions use up neither.
/// A request is identified by what it asks (kind, serial, version or scope, day): its mail ids come from that, so a
/// repeat, or a run again after a crash, sends no second copy and records no second event.
/// </summary>
public sealed class CustomerRequests(
    LicenseService licenses,
    IMailOutbox outbox,
    IRequestRateLimiter limiter,
    ICustomerRequestQueue queue,
    PasswordService passwords,
    AnonymousLimits limits,
    MailSettings mail,
    BusinessCalendar calendar,
    CustomerRequestRetry? retry = null,
    IStorageFailures? storageFailures = null)
{
    private readonly CustomerRequestRetry retry = retry ?? CustomerRequestRetry.Default;

    /// <summary>
    /// How long (business days) recorded requests are kept once acted on or given up: today and yesterday. A request
    /// still pending is kept until it is acted on or given up, whatever its day. Counters are kept longer (see
    /// <see cref="MaxAgeDays"/>).
    /// </summary>
    public const int KeptDays = 2;

    /// <summary>
    /// The oldest request the background work still acts on, in business days before today: a reply later than that
    /// is of no use (the customer asked again, or called). Older pending requests (the work was down that long) are
    /// given up unprocessed, reported in <see cref="CustomerRequestReport.Expired"/>. The counters of a day are kept
    /// as long as a request of that day can be acted on, since the serial's allowance and the route's cap are taken
    /// in the partition of the request's day: purged sooner, a backlog processed over several runs would find them
    /// empty again and mail more than the limits allow.
    /// </summary>
    public const int MaxAgeDays = 7;

    /// <summary>
    /// How long (business days) quote requests acted on are kept: the renewals desk's digest lists those of the last
    /// 14 days (SPEC section 11), and a day more lets a digest run late in the day still see its first day.
    /// </summary>
    public const int KeptQuoteDays = Digest.DigestRules.QuoteDays + 1;

    private const int BatchSize = 100;

    /// <summary>A request made today (business calendar) by <paramref name="context"/>.</summary>
    public CustomerRequest Today(string kind, Serial serial, string? version, QuoteScope scope, CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new CustomerRequest(kind, serial, version, scope, calendar.Today, context.Actor, context.CorrelationId, context.ActorId);
    }

    /// <summary>
    /// The request path: the client's daily limit (and its network's), then the request is recorded for the background
    /// work. Nothing past a refused limit is written. The same storage calls run whether or not a license has the
    /// serial (no license is read here) and whether or not the same ask was made before (a repeat is counted as
    /// nothing, but written alike, and its recording conflicts). Neither the serial's allowance nor the route's daily
    /// cap is taken here: asks for made-up serials or versions, which this path cannot tell apart without becoming an
    /// oracle, would use them up and silence real customers, and a serial's counter would tell whether anyone asked
    /// about it today. The background work takes both only for a request about to mail an existing license
    /// (<see cref="WithinLimitsAsync"/>).
    /// </summary>
    public Task<bool> AcceptAsync(CustomerRequest request, string clientAddressHash, CancellationToken cancellationToken) =>
        AcceptAsync(request, clientAddressHash, null, cancellationToken);

    /// <summary>
    /// As <see cref="AcceptAsync(CustomerRequest, string, CancellationToken)"/>; an IPv6 client is also counted with
    /// the other clients of its /48 allocation (<paramref name="networkHash"/>, null for IPv4), after its own count.
    /// </summary>
    public async Task<bool> AcceptAsync(CustomerRequest request, string clientAddressHash, string? networkHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientAddressHash);
        // Every counter counts what the request asks (a digest of its key), so a repeat, or a write the SDK resent,
        // takes no second allowance, and counters stay small.
        var key = request.Digest;
        if (await limiter.TryAcquireAsync($"{request.Kind}|client|{clientAddressHash}", request.Day, limits.PerClientPerDay, key, cancellationToken) == LimitDecision.Refused
            || (networkHash is not null
                && await limiter.TryAcquireAsync($"{request.Kind}|network|{networkHash}", request.Day, limits.PerNetworkPerDay, key, cancellationToken) == LimitDecision.Refused))
        {
            return false;
        }

        await queue.RecordAsync(request, cancellationToken);
        return true;
    }

    /// <summary>
    /// A request a signed-in staff member makes for the license's contacts from the console (SPEC section 7): recorded
    /// for the same background work as a customer's, marked as the staff's, without the anonymous limits: neither the
    /// client's here nor the serial's allowance and the route's daily cap when it is acted on (they exist against
    /// anonymous abuse; the person is signed in and recorded on the event). An anonymous request for the same thing
    /// that day never swallows it: one not yet acted on is taken over (it is mailed once, as the staff's, whatever the
    /// anonymous limits said), and after one already acted on (refused by the limits, or mailed) the staff's request
    /// is mailed anew, a deliberate act recorded with its person (<see cref="ICustomerRequestQueue.RecordFromStaffAsync"/>).
    /// False when the same request (kind, serial, version, day) was made by staff before: it is acted on once, so no
    /// second mail goes out.
    /// </summary>
    public Task<bool> AcceptFromStaffAsync(CustomerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return queue.RecordFromStaffAsync(request with { FromStaff = true, StaffResend = false }, cancellationToken);
    }

    /// <summary>
    /// The background work: acts on every recorded request that is due, then marks it done. A request that fails
    /// is tried again later and given up after a bounded number of attempts (<see cref="CustomerRequestRetry"/>); it
    /// never stops the others, nor hides the ones behind it. A request older than <see cref="MaxAgeDays"/> is given up
    /// unprocessed, and a stored request that cannot be read is removed; both are reported. Purges the counters of
    /// days no request can be acted on any more, and the requests of past days that were acted on or given up (never
    /// a pending one).
    /// </summary>
    public async Task<CustomerRequestReport> ProcessPendingAsync(CancellationToken cancellationToken)
    {
        int processed = 0, failed = 0;
        var givenUp = new List<CustomerRequest>();
        var expired = new List<CustomerRequest>();
        var unreadable = new List<UnreadableCustomerRequest>();
        var now = calendar.Now;
        var oldestActedOn = calendar.Today.PlusDays(-MaxAgeDays);
        PendingBacklog? backlog = null;
        foreach (var pending in await queue.ListPendingAsync(now, BatchSize, unreadable.Add, b => backlog = b, cancellationToken))
        {
            if (pending.Request.Day < oldestActedOn)
            {
                // Too late to be of use: given up without acting, and reported (never dropped silently).
                try
                {
                    await queue.RecordFailureAsync(pending, null, cancellationToken);
                    expired.Add(pending.Request);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Not recorded: it stays pending and the next run gives it up; go on with the others.
                }

                continue;
            }

            try
            {
                await ActAsync(pending.Request, lastAttempt: pending.FailedAttempts + 1 >= retry.MaxAttempts, cancellationToken);
                await queue.MarkDoneAsync(pending, cancellationToken);
                processed++;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Left pending until its next attempt: its mail ids make a repeat harmless.
                failed++;
                var attempts = pending.FailedAttempts + 1;
                var giveUp = attempts >= retry.MaxAttempts;
                try
                {
                    await queue.RecordFailureAsync(pending, giveUp ? null : now + retry.DelayAfter(attempts), cancellationToken);
                    if (giveUp)
                    {
                        givenUp.Add(pending.Request);
                    }
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Not recorded: the request stays due and the next run tries it again; go on with the others.
                }
            }
        }

        // The purge is tidying only: a storage error there never hides what this run did (requests given up,
        // removed or failed are still reported); it is reported beside them, and the next run purges what is left.
        // Counters are kept back to the oldest day whose requests this run acts on (the same "today" as the age
        // check), so a request acted on late never finds its day's counters emptied by an earlier run's purge.
        var keepFrom = calendar.Today.PlusDays(1 - KeptDays);
        var purged = 0;
        string? purgeFailure = null;
        try
        {
            purged += await limiter.PurgeBeforeAsync(oldestActedOn, cancellationToken);
            purged += await queue.PurgeBeforeAsync(keepFrom, calendar.Today.PlusDays(1 - KeptQuoteDays), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && storageFailures?.IsStorageFailure(e) == true)
        {
            // The kind of error only: its message may quote what storage was sent.
            purgeFailure = e.GetType().Name;
        }

        var oldestAge = backlog?.OldestDay is { } oldestDay ? Math.Max(0, NodaTime.Period.Between(oldestDay, calendar.Today, NodaTime.PeriodUnits.Days).Days) : 0;
        return new CustomerRequestReport(processed, failed, purged, givenUp, expired, unreadable, purgeFailure, backlog, oldestAge);
    }

    private Task ActAsync(CustomerRequest request, bool lastAttempt, CancellationToken cancellationToken) => request.Kind switch
    {
        CustomerRequestKinds.Term => SendTermAsync(request, cancellationToken),
        CustomerRequestKinds.Quote => SendQuoteAsync(request, lastAttempt, cancellationToken),
        CustomerRequestKinds.PasswordLink => passwords.SendLinkAsync(request, ct => WithinLimitsAsync(request, ct), cancellationToken),
        _ => throw new InvalidOperationException($"Unknown kind of customer request '{request.Kind}'."),
    };

    /// <summary>
    /// The serial's daily allowance (a few different asks per kind), then the route's daily cap (all callers
    /// together), taken by the background work only once a request is about to mail an existing license: made-up
    /// serials, unknown or unreleased updates and refused asks never use them up, while the mail each serial and the
    /// route cause per day stays bounded. A serial over its allowance takes nothing of the route's cap. Counted by what
    /// the request asks, so a repeat, or a run again after a crash, takes no second allowance. A staff member's request
    /// from the console takes neither: it is always within them.
    /// </summary>
    private async Task<bool> WithinLimitsAsync(CustomerRequest request, CancellationToken cancellationToken) =>
        request.FromStaff
        || await limiter.TryAcquireAsync($"{request.Kind}|serial|{request.Serial.Value}", request.Day, limits.PerSerialPerDay, request.Digest, cancellationToken) != LimitDecision.Refused
        && await limiter.TryAcquireAsync($"{request.Kind}|all", request.Day, limits.GlobalPerDay(request.Kind), request.Digest, cancellationToken) != LimitDecision.Refused;

    /// <summary>
    /// R12: mails the license's plan term to its registered contacts, never to any other address. For a dongle that was
    /// replaced (SPEC section 10) that is the plan's term under the serial holding it now, mailed to that license's
    /// contacts and recorded on it: the customer asked about their plan, and it lives on there.
    /// </summary>
    private async Task SendTermAsync(CustomerRequest request, CancellationToken cancellationToken)
    {
        var stored = await licenses.GetPlanHolderAsync(request.Serial, cancellationToken);
        if (stored is null)
        {
            return;
        }

        var today = request.Day;
        var license = stored.License;
        if (Render(() => PlanTermMail.Render(new PlanTermMailModel(
            license.Product,
            license.Customer.Name,
            license.Serial,
            today,
            license.StatusOn(today),
            license.Terms[0].Start,
            license.ExpiresOn,
            license.Terms,
            CustomerLinks.QuoteRequestPage(mail.PublicBaseUrl, license.Serial, allOfCustomer: false),
            mail.RenewalsDesk,
            license.ReplacementOf))) is not { } content)
        {
            return;
        }

        if (!await WithinLimitsAsync(request, cancellationToken))
        {
            return;
        }

        var id = DeterministicId.From("term", license.Serial.Value, request.MailKey);
        await EnqueueAsync(new OutgoingMail(id, mail.Sender, license.Contacts, mail.RenewalsDesk, content.Subject, content.PlainText, content.Html), MailKinds.Term, cancellationToken);
        // One mail, one event (R15), recorded by whoever's request first sent it: a run acting on a request again
        // (taken over by staff after a run had already mailed it, so still pending) finds the mail already queued and
        // records nothing more.
        await licenses.RecordRequestOnceAsync(license.Serial, LicenseEventTypes.TermRequested, new Dictionary<string, string> { [LicenseEventData.MailId] = id }, LicenseEventData.MailId, request.Context, cancellationToken);
    }

    /// <summary>
    /// The licenses a customer-wide quote lists (R11): the customer's, each plan under its current serial (SPEC section
    /// 10). A license whose read failed in storage (an error past the SDK's retries) is never left out silently: the
    /// request fails here, before anything is mailed or recorded, and is tried again, so the desk hears of every
    /// license and every one records the ask. A record that cannot be understood (it will not read better later), or a
    /// license still unreadable at the request's last allowed attempt, is left out: one bad record never stops the quote.
    /// </summary>
    private async Task<ImmutableArray<License>> CustomerLicensesAsync(string customerId, bool lastAttempt, CancellationToken cancellationToken)
    {
        var listed = await licenses.ListCustomerAsync(customerId, cancellationToken);

        // Without a way to tell storage failures apart (no IStorageFailures), every failure may be one: try again.
        if (!lastAttempt && listed.Unreadable.FirstOrDefault(f => storageFailures?.IsStorageFailure(f.Error) != false) is { } failed)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.Error);
        }

        return [.. listed.Licenses.Select(l => l.License).Where(l => !l.IsReplaced)]; // SPEC section 10: a replaced dongle's plan is quoted under its new serial.
    }

    /// <summary>
    /// R11: notifies the renewals desk with each serial, its expiry and the proposed next term (R6, as if renewed
    /// today for the default twelve months), and acknowledges to the requesting license's registered contacts. Each
    /// mail names the products of the licenses it lists (a customer may hold several products), as reminders do (R10).
    /// </summary>
    /// <remarks>For a dongle that was replaced, the quotation is for the plan under the serial holding it now (SPEC section 10).</remarks>
    private async Task SendQuoteAsync(CustomerRequest request, bool lastAttempt, CancellationToken cancellationToken)
    {
        var stored = await licenses.GetPlanHolderAsync(request.Serial, cancellationToken);
        if (stored is null)
        {
            return;
        }

        var today = request.Day;
        var scope = request.Scope;
        var requester = stored.License;
        // The desk is the vendor's own: for a whole customer it hears of every license of the customer. The
        // acknowledgement goes to the requester's contacts, so it names a license only when every one of them is
        // among that license's contacts: nobody learns of a license that is not theirs.
        var included = scope == QuoteScope.Customer
            ? await CustomerLicensesAsync(requester.Customer.Id, lastAttempt, cancellationToken)
            : [requester];
        if (!included.Any(l => l.Serial == requester.Serial))
        {
            included = included.Add(requester);
        }

        var acknowledged = included.Where(l => l.Serial == requester.Serial || requester.Contacts.All(l.Contacts.Contains)).ToImmutableArray();

        var lines = included
            .Select(l => QuoteLine.For(l.Serial, l.ExpiresOn, PlanRules.RenewalTerm(l.ExpiresOn, today, PlanRules.DefaultRenewalMonths, null)))
            .ToImmutableArray();
        var notification = Render(() => QuoteNotificationMail.Render(new QuoteNotificationMailModel(MailProducts.Name(included.Select(l => l.Product)), requester.Customer, requester.Contacts, today, lines)));
        var acknowledgement = Render(() => QuoteAcknowledgementMail.Render(new QuoteAcknowledgementMailModel(
            MailProducts.Name(acknowledged.Select(l => l.Product)),
            requester.Customer.Name,
            today,
            [.. acknowledged.Select(l => new PlanExpiry(l.Serial, l.ExpiresOn))],
            mail.RenewalsDesk)));
        if (notification is null || acknowledgement is null || !await WithinLimitsAsync(request, cancellationToken))
        {
            return;
        }

        // Every quote request reaches the desk (R11), with the requester's contacts to reply to: the desk mail is
        // identified by what the request asks (requesting serial, scope, day), so a repeat, or a run again after a
        // crash, sends no second copy, while two requesters of one customer each get their own. The per-serial and
        // per-client limits bound these mails. Every other license of the customer records each requester's ask
        // once, within an allowance of its own for asks made through other licenses (as many a day as the
        // per-serial limit), so requests through each serial of a customer buy no more such events on any license
        // than that limit (SPEC section 5), and never use up the license's own allowance: its own contacts' asks
        // still reach the desk and are acknowledged.
        var deskId = scope == QuoteScope.Customer
            ? DeterministicId.From("quote-desk-customer", requester.Serial.Value, request.MailKey)
            : DeterministicId.From("quote-desk", requester.Serial.Value, request.MailKey);
        var ackId = DeterministicId.From("quote-ack", requester.Serial.Value, request.MailKey);
        await EnqueueAsync(new OutgoingMail(deskId, mail.Sender, [mail.RenewalsDesk], requester.Contacts[0], notification.Subject, notification.PlainText, notification.Html), MailKinds.QuoteNotification, cancellationToken);
        await EnqueueAsync(new OutgoingMail(ackId, mail.Sender, requester.Contacts, mail.RenewalsDesk, acknowledgement.Subject, acknowledgement.PlainText, acknowledgement.Html), MailKinds.QuoteAcknowledgement, cancellationToken);
        var data = new Dictionary<string, string>
        {
            [LicenseEventData.RequestedFor] = requester.Serial.Value,
            [LicenseEventData.Scope] = scope == QuoteScope.Customer ? "customer" : "license",
            [LicenseEventData.NotificationMailId] = deskId,
            [LicenseEventData.AcknowledgementMailId] = ackId,
        };
        // One desk mail, one event (R15), recorded by whoever's request first sent it, as for the term and the password
        // link: a request acted on again after a takeover finds its desk mail recorded and records nothing more.
        await licenses.RecordRequestOnceAsync(requester.Serial, LicenseEventTypes.QuoteRequested, data, LicenseEventData.NotificationMailId, request.Context, cancellationToken);
        var askOfCustomer = CustomerRequest.DigestOf(string.Join('|', CustomerRequestKinds.Quote, "customer-of", requester.Customer.Id, request.Key));
        foreach (var license in included.Where(l => l.Serial != requester.Serial))
        {
            if (await limiter.TryAcquireAsync($"{CustomerRequestKinds.Quote}|customer-of|{license.Serial.Value}", request.Day, limits.PerSerialPerDay, askOfCustomer, cancellationToken) != LimitDecision.Refused)
            {
                await licenses.RecordRequestOnceAsync(license.Serial, LicenseEventTypes.QuoteRequested, data, LicenseEventData.NotificationMailId, request.Context, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The rendered mail, or null when the stored license holds data no mail can carry (written before input
    /// validation refused it): the request then gets the same answer as any other and sends nothing.
    /// </summary>
    private static MailContent? Render(Func<MailContent> render)
    {
        try
        {
            return render();
        }
        catch (UnmailableDataException)
        {
            return null;
        }
    }

    private async Task EnqueueAsync(OutgoingMail message, string kind, CancellationToken cancellationToken) =>
        // A repeat of the same request composes the same id: AlreadyEnqueued, nothing new.
        _ = await outbox.EnqueueAsync(message, kind, [], calendar.Now, cancellationToken);
}
