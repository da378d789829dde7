using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.Core.Updates;
using Smp.Functions.Http;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Functions;

/// <summary>
/// The staff console (SPEC section 8): server-rendered pages at /console for signed-in people (section 7). Every
/// action calls the same use case as its API route; a successful post redirects to the page that shows the change.
/// Pages are anonymous to the Functions host: <see cref="ConsoleGate"/> decides who may do what.
/// </summary>
public sealed class ConsoleFunctions(
    ConsoleGate gate,
    LicenseService licenses,
    LicenseResults results,
    UpdateService updates,
    BusinessCalendar calendar,
    IMailOutbox outbox,
    MailDispatcher dispatcher,
    CustomerRequests requests,
    ILicenseActivity activity)
{
    /// <summary>Every console function's name starts with this; the headers of section 8 are set on them.</summary>
    public const string NamePrefix = "Console";

    private static readonly string[] NoFields = [];
    private static readonly string[] RenewalFields = ["orderReference", "months"];
    private static readonly string[] ContactsFields = ["contacts"];
    private static readonly string[] PasswordLinkFields = ["version"];
    private static readonly string[] ReplacementFields = ["newSerial", "reason"];

    /// <summary>The activation form's fields, named as the API's body fields so that each error names its field.</summary>
    private static readonly string[] ActivationFields = ["serial", "product", "customer.id", "customer.name", "contacts", "onSiteTraining", "activationEmailSentAt"];

    [Function("ConsoleStylesheet")]
    public static IActionResult Stylesheet(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/console.css")] HttpRequest request)
    {
        _ = HttpCall.Of(request);
        return new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = "text/css; charset=utf-8", Content = ConsoleStyles.Text };
    }

    [Function("ConsoleDashboard")]
    public async Task<IActionResult> Dashboard(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        // The figures come from the expiry report of a bounded window around today, a page at a time.
        var today = calendar.Today;
        var (from, to) = ExpiryFigures.Window(today);
        var expiries = new List<LocalDate>();
        ExpiryPosition? after = null;
        do
        {
            var page = await licenses.ListExpiringPageAsync(from, to, after, ReportFunctions.MaxPageSize, call.Cancellation);
            expiries.AddRange(page.Licenses.Select(l => l.License.ExpiresOn));
            after = page.Next;
        }
        while (after is not null && expiries.Count < ConsoleDashboardPage.MaxLicenses);

        // The count of current licenses reads expiry index rows only; the latest events one page of rows and their events.
        var current = await activity.CountExpiringOnOrAfterAsync(today, call.Cancellation);
        var latest = await activity.ListLatestEventsAsync(ConsoleDashboardPage.LatestEvents, call.Cancellation);
        var failed = await outbox.ListFailedAsync(call.Cancellation);
        var body = ConsoleDashboardPage.Body(ExpiryFigures.From(expiries, today), current, failed.Count, after is not null, latest, calendar.Zone, session.Person!.Has(StaffRoles.Staff));
        return Page(session.Person, StatusCodes.Status200OK, "Dashboard", body);
    }

    [Function("ConsoleFindLicense")]
    public async Task<IActionResult> FindLicense(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/licenses")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        return RequestReaders.Serial(call.Query("serial").Trim(), call.Errors) is { } serial
            ? new RedirectResult(LicensePath(serial))
            : Message(session.Person, StatusCodes.Status400BadRequest, "No such serial", "serial: " + call.Errors.ToDictionary()["serial"][0]);
    }

    [Function("ConsoleLicense")]
    public async Task<IActionResult> License(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/licenses/{serial}")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        return await LicensePageAsync(call, session, serial, null, StatusCodes.Status200OK);
    }

    [Function("ConsoleRecordRenewal")]
    public async Task<IActionResult> RecordRenewal(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/licenses/{serial}/renewals")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "renewal", RenewalFields, async post =>
        {
            var body = new JsonObject { ["orderReference"] = post["orderReference"] };
            if (post["months"].Length > 0)
            {
                body["months"] = int.TryParse(post["months"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var months) ? months : post["months"];
            }

            using var json = JsonDocument.Parse(body.ToJsonString());
            var parsed = RequestReaders.Serial(serial, post.Errors);
            var command = RequestReaders.Renewal(json, post.Errors, calendar.Now);
            if (parsed is null || command is null)
            {
                return post.Invalid();
            }

            var result = await licenses.RenewAsync(parsed.Value, command, post.Audit, call.Cancellation);
            return LicenseOutcome(post, result, result.Outcome == CommandOutcome.Unchanged ? "renewal-repeated" : "renewed", "orderReference");
        }, LicenseFormAgain(serial));
    }

    [Function("ConsoleRecordTraining")]
    public async Task<IActionResult> RecordTraining(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/licenses/{serial}/training")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "training", NoFields, async post =>
        {
            if (RequestReaders.Serial(serial, post.Errors) is not { } parsed)
            {
                return post.Answer(NoSuchSerial(post));
            }

            var result = await licenses.RecordTrainingAsync(parsed, post.Audit, call.Cancellation);
            return LicenseOutcome(post, result, "training", "training");
        }, LicenseFormAgain(serial));
    }

    [Function("ConsoleReplaceContacts")]
    public async Task<IActionResult> ReplaceContacts(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/licenses/{serial}/contacts")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "contacts", ContactsFields, async post =>
        {
            var lines = post["contacts"].Split(['\n', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            using var json = JsonDocument.Parse(new JsonObject { ["contacts"] = new JsonArray([.. lines.Select(l => (JsonNode)JsonValue.Create(l)!)]) }.ToJsonString());
            var parsed = RequestReaders.Serial(serial, post.Errors);
            var contacts = RequestReaders.ContactsBody(json, post.Errors);
            if (parsed is null || contacts is null)
            {
                return post.Invalid();
            }

            var result = await licenses.ReplaceContactsAsync(parsed.Value, contacts.Value, post.Audit, call.Cancellation);
            return LicenseOutcome(post, result, "contacts", "contacts");
        }, LicenseFormAgain(serial));
    }

    [Function("ConsoleSendTermMail")]
    public async Task<IActionResult> SendTermMail(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/licenses/{serial}/term-mail")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "term-mail", NoFields, async post =>
        {
            if (RequestReaders.Serial(serial, post.Errors) is not { } parsed)
            {
                return post.Answer(NoSuchSerial(post));
            }

            if (await licenses.GetAsync(parsed, call.Cancellation) is null)
            {
                return post.Answer(LicenseNotFound(post));
            }

            // The same use case as POST /api/term-requests: recorded for the background work, which mails the contacts.
            var recorded = await requests.AcceptFromStaffAsync(requests.Today(CustomerRequestKinds.Term, parsed, null, QuoteScope.License, post.Audit), call.Cancellation);
            return post.Done(LicensePath(parsed), recorded ? "term-queued" : "term-already");
        }, LicenseFormAgain(serial));
    }

    [Function("ConsoleSendPasswordLink")]
    public async Task<IActionResult> SendPasswordLink(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/licenses/{serial}/password-link")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "password-link", PasswordLinkFields, async post =>
        {
            if (RequestReaders.Serial(serial, post.Errors) is not { } parsed)
            {
                return post.Answer(NoSuchSerial(post));
            }

            if (await licenses.GetAsync(parsed, call.Cancellation) is not { } stored)
            {
                return post.Answer(LicenseNotFound(post));
            }

            if (UpdateReaders.Version(post["version"], post.Errors) is not { } version)
            {
                return post.Invalid();
            }

            var released = await updates.EntitlementsAsync(stored.License, call.Cancellation);
            if (!released.Any(e => e.Release.Version == version))
            {
                return post.Invalid("version", "No update with this version has been released.");
            }

            // The same use case as POST /api/password-requests: the background work sends the link when R13 allows.
            var recorded = await requests.AcceptFromStaffAsync(requests.Today(CustomerRequestKinds.PasswordLink, parsed, version.Value, QuoteScope.License, post.Audit), call.Cancellation);
            return post.Done(LicensePath(parsed), recorded ? "password-link-queued" : "password-link-already");
        }, LicenseFormAgain(serial));
    }

    [Function("ConsoleReplaceDongle")]
    public async Task<IActionResult> ReplaceDongle(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/licenses/{serial}/replacement")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Admin, "replacement", ReplacementFields, async post =>
        {
            var body = new JsonObject { ["newSerial"] = post["newSerial"] };
            if (post["reason"].Length > 0)
            {
                body["reason"] = post["reason"];
            }

            using var json = JsonDocument.Parse(body.ToJsonString());
            var parsed = RequestReaders.Serial(serial, post.Errors);
            if (parsed is null)
            {
                return post.Answer(NoSuchSerial(post));
            }

            if (RequestReaders.Replacement(json, parsed, post.Errors) is not { } replacement)
            {
                return post.Invalid();
            }

            var result = await licenses.ReplaceAsync(parsed.Value, replacement.NewSerial, replacement.Reason, post.Audit, call.Cancellation);
            return result.Outcome switch
            {
                // The old license's page, which now says replaced and links the new serial; the confirmation links it too.
                CommandOutcome.Created or CommandOutcome.Updated or CommandOutcome.Unchanged => post.Done(LicensePath(parsed.Value), "replaced"),
                CommandOutcome.NotFound => post.Answer(LicenseNotFound(post)),
                _ => post.Invalid("newSerial", result.Detail ?? "The replacement conflicts with the recorded licenses.", StatusCodes.Status409Conflict),
            };
        }, LicenseFormAgain(serial));
    }

    [Function("ConsoleNewActivation")]
    public async Task<IActionResult> NewActivation(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/activations/new")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Staff);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        return Page(session.Person, StatusCodes.Status200OK, "Record an activation", ConsoleActivationPage.Body(session.FormToken!, null, calendar.Now, calendar.Zone));
    }

    [Function("ConsoleRecordActivation")]
    public async Task<IActionResult> RecordActivation(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/activations")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "activation", ActivationFields, async post =>
        {
            var lines = post["contacts"].Split(['\n', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var body = new JsonObject
            {
                ["serial"] = post["serial"],
                ["customer"] = new JsonObject { ["id"] = post["customer.id"], ["name"] = post["customer.name"] },
                ["contacts"] = new JsonArray([.. lines.Select(l => (JsonNode)JsonValue.Create(l)!)]),
                ["onSiteTraining"] = post["onSiteTraining"] == "true",
                ["activationEmailSentAt"] = ConsoleActivationPage.InstantText(post["activationEmailSentAt"], calendar.Zone),
            };
            if (post["product"].Length > 0)
            {
                body["product"] = post["product"];
            }

            using var json = JsonDocument.Parse(body.ToJsonString());
            if (RequestReaders.Activation(json, post.Errors, calendar.Now) is not { } command)
            {
                return post.Invalid();
            }

            var result = await licenses.ActivateAsync(command, post.Audit, call.Cancellation);
            return result.Outcome switch
            {
                CommandOutcome.Created or CommandOutcome.Updated => post.Done(LicensePath(command.Serial), "activated"),
                CommandOutcome.Unchanged => post.Done(LicensePath(command.Serial), "activation-repeated"),
                _ => post.Invalid("serial", result.Detail ?? "This serial is already activated with other data.", StatusCodes.Status409Conflict),
            };
        }, (post, status) => Task.FromResult<IActionResult>(Page(post.Person, status, "Record an activation", ConsoleActivationPage.Body(post.Session.FormToken!, post.State, calendar.Now, calendar.Zone))));
    }

    [Function("ConsoleCustomer")]
    public async Task<IActionResult> Customer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/customers/{customerId}")] HttpRequest request,
        string customerId,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        var found = RequestReaders.CustomerId(customerId, call.Errors) is { } id ? await licenses.ListByCustomerAsync(id, call.Cancellation) : [];
        if (found.Count == 0)
        {
            return Message(session.Person, StatusCodes.Status404NotFound, "Customer not found", "No license belongs to this customer.");
        }

        return Page(session.Person, StatusCodes.Status200OK, "Customer " + found[0].License.Customer.Name, ConsoleListPages.Customer([.. found.Select(l => results.Document(l))]));
    }

    [Function("ConsoleMail")]
    public async Task<IActionResult> Mail(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/mail")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        var failed = await outbox.ListFailedAsync(call.Cancellation);
        var pending = await outbox.ListDueAsync(calendar.Now + ConsoleListPages.PendingHorizon, ConsoleListPages.MaxPending, call.Cancellation);
        var canRetry = session.Person!.Has(StaffRoles.Staff);
        return Page(
            session.Person,
            StatusCodes.Status200OK,
            "Mail",
            ConsoleListPages.Mail(failed.Select(m => m.Message).ToList(), pending.Select(m => m.Message).ToList(), canRetry ? session.FormToken : null, calendar.Zone),
            Confirmation(call));
    }

    [Function("ConsoleRetryMail")]
    public async Task<IActionResult> RetryMail(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/mail/{id}/retry")] HttpRequest request,
        string id,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Staff, "retry", NoFields, async post =>
        {
            if (!Smp.Core.Mail.OutgoingMail.IsValidId(id))
            {
                return post.Answer(Message(post.Person, StatusCodes.Status400BadRequest, "No such mail", "id: a mail id is a GUID."));
            }

            return await dispatcher.RetryAsync(Guid.ParseExact(id, "D").ToString("D"), call.Cancellation) switch
            {
                RetryOutcome.Requeued => post.Done("/console/mail", "retried"),
                RetryOutcome.NotFound => post.Answer(Message(post.Person, StatusCodes.Status404NotFound, "No such mail", "No mail has this id.")),
                _ => post.Answer(Message(post.Person, StatusCodes.Status409Conflict, "Not retried", "Only failed mail can be retried; this mail is pending or already sent.", new PageLink("/console/mail", "Back to the mail"))),
            };
        }, (post, status) => Task.FromResult<IActionResult>(Message(post.Person, status, "Not retried", "The mail could not be retried.")));
    }

    private static string LicensePath(Serial serial) => "/console/licenses/" + Uri.EscapeDataString(serial.Value);

    private static string? Confirmation(HttpCall call) => Confirmations.TryGetValue(call.Query("done"), out var text) ? text : null;

    private static ContentResult LicenseNotFound(ConsolePost post) =>
        Message(post.Person, StatusCodes.Status404NotFound, "License not found", "No license has this serial.");

    private static ContentResult NoSuchSerial(ConsolePost post) =>
        Message(post.Person, StatusCodes.Status400BadRequest, "No such serial", "serial: " + post.Errors.ToDictionary()["serial"][0]);

    /// <summary>A license use case's result as a console outcome: the license page with the confirmation, a 404, or the form again with the conflict on <paramref name="conflictField"/>.</summary>
    private static ConsoleOutcome LicenseOutcome(ConsolePost post, CommandResult result, string done, string conflictField) => result.Outcome switch
    {
        CommandOutcome.Created or CommandOutcome.Updated or CommandOutcome.Unchanged => post.Done(LicensePath(result.License!.License.Serial), done),
        CommandOutcome.NotFound => post.Answer(LicenseNotFound(post)),
        _ => post.Invalid(conflictField, result.Detail ?? "The change conflicts with the recorded license.", StatusCodes.Status409Conflict),
    };

    /// <summary>Shows the license page again with the refused form.</summary>
    private Func<ConsolePost, int, Task<IActionResult>> LicenseFormAgain(string serial) =>
        (post, status) => LicensePageAsync(post.Call, post.Session, serial, post.State, status);

    private async Task<IActionResult> LicensePageAsync(HttpCall call, ConsoleSession session, string serial, ConsoleFormState? refused, int status)
    {
        if (!Serial.TryParse(serial, out var parsed) || await licenses.GetAsync(parsed, call.Cancellation) is not { } stored)
        {
            return Message(session.Person, StatusCodes.Status404NotFound, "License not found", "No license has this serial.");
        }

        var events = await licenses.GetEventsAsync(parsed, call.Cancellation);
        var entitlements = await updates.EntitlementsAsync(stored.License, call.Cancellation);
        var document = results.Document(stored, events) with { Updates = [.. entitlements.Select(UpdateEntitlementDocument.From)] };
        var body = ConsoleLicensePage.Body(document, calendar.Today, calendar.Zone, session.Person!, session.FormToken!, refused);
        var confirmation = refused is null ? Confirmation(call) : null;
        var link = confirmation is not null && call.Query("done") == "replaced" && document.ReplacedBy is { } newSerial
            ? new PageLink("/console/licenses/" + Uri.EscapeDataString(newSerial), "Open the new license " + newSerial)
            : null;
        return Page(session.Person, status, "License " + document.Serial, body, confirmation, link);
    }
}
