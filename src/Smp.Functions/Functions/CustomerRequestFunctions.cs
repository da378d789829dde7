using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>
/// Customer requests from links in mail (R11, R12): a page with one button (GET) and the request itself (POST,
/// as JSON or as the page's form). Every well-formed request is checked against the anonymous limits, recorded and
/// answered 202 in the same way whether or not the serial exists; <see cref="ProcessCustomerRequests"/> acts on it
/// in the background, by mail to the license's registered contacts only.
/// </summary>
public sealed partial class CustomerRequestFunctions(CustomerRequests requests, ClientAddressHasher clients, SmpMetrics metrics, ILogger<CustomerRequestFunctions> logger)
{
    private static readonly HashSet<string> TermFormFields = ["serial"];
    private static readonly HashSet<string> QuoteFormFields = ["serial", "scope"];

    private const string Accepted = "If the serial belongs to a license with a maintenance plan, its registered contacts will receive an email shortly.";

    [Function("TermRequestPage")]
    public static IActionResult TermRequestPage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/term-requests")] HttpRequest request)
    {
        var call = HttpCall.Of(request);
        if (RequestReaders.Serial(call.Query("serial"), call.Errors) is not { } serial)
        {
            return call.InvalidForCaller();
        }

        return CustomerPages.Page(
            StatusCodes.Status200OK,
            "Plan term by email",
            [$"Send the maintenance plan term of license {serial.Value} (status, dates and terms) to the license's registered contacts."],
            new FormSpec("term-requests", "Email me the plan term", [("serial", serial.Value)]));
    }

    [Function("RequestTerm")]
    public Task<IActionResult> RequestTerm(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/term-requests")] HttpRequest request,
        FunctionContext context) =>
        AcceptAsync(HttpCall.Of(request, context), CustomerRequestKinds.Term, allowScope: false, "Plan term requested");

    [Function("QuoteRequestPage")]
    public static IActionResult QuoteRequestPage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/quote-requests")] HttpRequest request)
    {
        var call = HttpCall.Of(request);
        var parsed = RequestReaders.Serial(call.Query("serial"), call.Errors);
        var scope = Scope(call.Query("scope"), call.Errors);
        if (parsed is not { } serial || scope is null)
        {
            return call.InvalidForCaller();
        }

        var what = scope == QuoteScope.Customer
            ? $"license {serial.Value} and the other licenses of your company"
            : $"license {serial.Value}";
        return CustomerPages.Page(
            StatusCodes.Status200OK,
            "Renewal quotation",
            [$"Ask our renewals desk for a quotation to renew the maintenance plan of {what}. The desk replies by email; renewing stays optional."],
            new FormSpec("quote-requests", "Request a quotation", [("serial", serial.Value), ("scope", scope == QuoteScope.Customer ? "customer" : "license")]));
    }

    [Function("RequestQuote")]
    public Task<IActionResult> RequestQuote(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/quote-requests")] HttpRequest request,
        FunctionContext context) =>
        AcceptAsync(HttpCall.Of(request, context), CustomerRequestKinds.Quote, allowScope: true, "Renewal quotation requested");

    /// <summary>
    /// Acts on the recorded customer requests (R11, R12, R13) each minute and purges the limits and requests of past
    /// days. A request left pending by a crash is acted on again by the next run; its mail ids make that harmless.
    /// A request that keeps failing is given up after a bounded number of attempts, one older than
    /// <see cref="CustomerRequests.MaxAgeDays"/> (the work was down that long) is given up unprocessed, and a stored
    /// request that cannot be read is removed: each is logged as an error and counted, never dropped silently.
    /// </summary>
    [Function("ProcessCustomerRequests")]
    public async Task ProcessCustomerRequests([TimerTrigger("0 */1 * * * *")] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var report = await requests.ProcessPendingAsync(context.CancellationToken);
        foreach (var request in report.GivenUp)
        {
            // The key says what was asked (kind, serial, version or scope, day); nothing secret.
            LogGivenUp(logger, request.Kind, request.Key);
            metrics.CustomerRequestGivenUp("attempts");
        }

        foreach (var request in report.Expired ?? [])
        {
            LogExpired(logger, request.Kind, CustomerRequests.MaxAgeDays, request.Key);
            metrics.CustomerRequestGivenUp("age");
        }

        foreach (var row in report.Unreadable ?? [])
        {
            // Where the row was and the kind of error; never the stored values.
            LogUnreadable(logger, row.Day, row.Key, row.Reason);
            metrics.CustomerRequestUnreadable();
        }

        if (report.Backlog is { } backlog)
        {
            metrics.CustomerRequestBacklog(backlog.Pending, report.OldestPendingAgeDays);
        }

        if (report.PurgeFailure is { } failure)
        {
            LogPurgeFailed(logger, failure);
            metrics.CustomerRequestPurgeFailed();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Customer request of kind {Kind} given up after its last allowed attempt failed: {RequestKey}.")]
    private static partial void LogGivenUp(ILogger logger, string kind, string requestKey);

    [LoggerMessage(Level = LogLevel.Error, Message = "Customer request of kind {Kind} given up unprocessed: accepted more than {MaxAgeDays} days ago, too late to act on: {RequestKey}.")]
    private static partial void LogExpired(ILogger logger, string kind, int maxAgeDays, string requestKey);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stored customer request {Day}/{RowKey} could not be read ({Reason}); removed.")]
    private static partial void LogUnreadable(ILogger logger, string day, string rowKey, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The purge of past customer requests and counters failed ({Reason}); the next run purges what is left.")]
    private static partial void LogPurgeFailed(ILogger logger, string reason);

    /// <summary>
    /// A term or quotation request (posted as JSON or as the page's form): checked against the anonymous limits,
    /// recorded and answered 202 alike whether or not the serial exists.
    /// </summary>
    private async Task<IActionResult> AcceptAsync(HttpCall call, string kind, bool allowScope, string title)
    {
        var (serial, scope) = await ReadAsync(call, allowScope);
        if (serial is null)
        {
            return call.InvalidForCaller();
        }

        var recorded = requests.Today(kind, serial.Value, null, scope ?? QuoteScope.License, call.Audit);
        await requests.AcceptAsync(recorded, await clients.HashOfAsync(call), await clients.NetworkHashOfAsync(call), call.Cancellation);
        return CustomerResponses.Accepted(call.Request, title, Accepted, new { status = "accepted", detail = Accepted });
    }

    /// <summary>Reads <c>{serial, scope?}</c> from JSON or from the page's form, with the same rules.</summary>
    private static async Task<(Serial? Serial, QuoteScope? Scope)> ReadAsync(HttpCall call, bool allowScope)
    {
        var errors = call.Errors;
        if (call.IsForm)
        {
            if (await call.FormAsync(allowScope ? QuoteFormFields : TermFormFields) is not { } form)
            {
                return (null, null);
            }

            var formSerial = RequestReaders.Serial(FormBody.Single(form, "serial"), errors);
            var formScope = allowScope ? Scope(form["scope"].ToString(), errors) : QuoteScope.License;
            return errors.Any ? (null, null) : (formSerial, formScope);
        }

        using var body = await call.JsonAsync();
        if (body is null)
        {
            return (null, null);
        }

        var fields = new JsonFields(body.RootElement, errors);
        var raw = fields.Get("serial", required: true, JsonValueKind.String, "a string");
        var serial = raw is { } s ? RequestReaders.Serial(s.GetString(), errors) : null;
        QuoteScope? scope = QuoteScope.License;
        if (allowScope && fields.Get("scope", required: false, JsonValueKind.String, "\"license\" or \"customer\"") is { } rawScope)
        {
            scope = Scope(rawScope.GetString(), errors);
        }

        fields.RefuseUnknown();
        return errors.Any ? (null, null) : (serial, scope);
    }

    private static QuoteScope? Scope(string? raw, ValidationErrors errors)
    {
        switch (raw)
        {
            case null or "" or "license":
                return QuoteScope.License;
            case "customer":
                return QuoteScope.Customer;
            default:
                errors.Add("scope", "Expected \"license\" or \"customer\".");
                return null;
        }
    }
}
