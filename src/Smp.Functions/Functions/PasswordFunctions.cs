using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Links;
using Smp.Core.Requests;
using Smp.Core.Updates;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>
/// Customer routes for update passwords (R13, SPEC section 5): show the password behind a signed link, and mail a
/// fresh link on request. Anonymous: the signature, the entitlement rules and the per-serial limit protect them.
/// </summary>
public sealed partial class PasswordFunctions(PasswordService passwords, CustomerRequests requests, ClientAddressHasher clients, ILogger<PasswordFunctions> logger)
{
    [Function("GetUpdatePassword")]
    public async Task<IActionResult> GetUpdatePassword(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/updates/{version}/password")] HttpRequest request,
        string version,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var parsedVersion = UpdateReaders.Version(version, call.Errors);
        var serial = UpdateReaders.SingleQueryValue(request, "serial", call.Errors) is { } rawSerial ? RequestReaders.Serial(rawSerial, call.Errors) : null;
        NodaTime.Instant? expires = null;
        if (UpdateReaders.SingleQueryValue(request, "expires", call.Errors) is { } rawExpires)
        {
            if (LinkSigner.TryParseExpires(rawExpires, out var parsedExpires))
            {
                expires = parsedExpires;
            }
            else
            {
                call.Errors.Add("expires", "Expected the link's expiry as Unix seconds.");
            }
        }

        var signature = UpdateReaders.SingleQueryValue(request, "sig", call.Errors);
        if (call.HasErrors)
        {
            return call.InvalidForCaller();
        }

        var outcome = await passwords.RevealAsync(
            serial!.Value, parsedVersion!.Value, expires!.Value, signature, await clients.HashOfAsync(call), call.Audit, call.Cancellation);
        IActionResult answer;
        switch (outcome)
        {
            case PasswordRelease.Released released:
                LogReleased(logger, released.Version.Value, released.Serial.Value);
                answer = ContentNegotiation.PrefersJson(request)
                    ? new OkObjectResult(new PasswordDocument(released.Serial.Value, released.Version.Value, released.Password))
                    : CustomerResponses.PasswordPage(released.Product, released.Serial, released.Version, released.Password);
                break;
            case PasswordRelease.Expired expired:
                answer = CustomerResponses.LinkExpired(request, expired.Serial, expired.Version, expired.ExpiredAt);
                break;
            case PasswordRelease.NotEntitled notEntitled:
                answer = CustomerResponses.NotEntitled(request, notEntitled.Serial, notEntitled.Version, notEntitled.Status, notEntitled.ExpiresOn);
                break;
            case PasswordRelease.TooManyReveals:
                answer = CustomerResponses.TooManyReveals(request, serial.Value, parsedVersion.Value);
                break;
            case PasswordRelease.NotFound notFound:
                answer = CustomerResponses.ForCaller(request, CustomerResponses.NotFound(notFound.Detail));
                break;
            default:
                LogBadLink(logger);
                answer = CustomerResponses.BadLink(request, serial.Value, parsedVersion.Value);
                break;
        }

        return answer;
    }

    [Function("RequestPasswordLink")]
    public async Task<IActionResult> RequestPasswordLink(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/password-requests")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        PasswordLinkRequest? command;
        if (call.IsForm)
        {
            command = await ReadFormAsync(call);
        }
        else
        {
            using var body = await call.JsonAsync();
            command = body is null ? null : UpdateReaders.PasswordRequest(body, call.Errors);
        }

        if (command is null)
        {
            return call.InvalidForCaller();
        }

        var recorded = requests.Today(CustomerRequestKinds.PasswordLink, command.Serial, command.Version.Value, QuoteScope.License, call.Audit);
        var accepted = await requests.AcceptAsync(recorded, await clients.HashOfAsync(call), await clients.NetworkHashOfAsync(call), call.Cancellation);
        LogLinkRequested(logger, command.Version.Value, command.Serial.Value, accepted);

        // The same answer whatever the outcome: the caller learns nothing about the serial, the update or the plan.
        return CustomerResponses.Accepted(
            request,
            "New password link requested",
            "If the license has a current maintenance plan that includes this update, its registered contacts will receive a new link by email shortly.",
            PasswordRequestAcceptedDocument.Instance);
    }

    /// <summary>The page a customer opens (from an expired link's answer) to ask for a new link with one button.</summary>
    [Function("PasswordRequestPage")]
    public static IActionResult PasswordRequestPage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/password-requests")] HttpRequest request)
    {
        var call = HttpCall.Of(request);
        var serial = RequestReaders.Serial(call.Query("serial"), call.Errors);
        var version = UpdateReaders.Version(call.Query("version"), call.Errors);
        if (serial is not { } s || version is not { } v)
        {
            return call.InvalidForCaller();
        }

        return CustomerPages.Page(
            StatusCodes.Status200OK,
            "New password link",
            [$"Send a new link to the password of update {v.Value} for license {s.Value} to the license's registered contacts."],
            new FormSpec("password-requests", "Email me a new link", [("serial", s.Value), ("version", v.Value)]));
    }

    private static readonly HashSet<string> FormFields = ["serial", "version"];

    private static async Task<PasswordLinkRequest?> ReadFormAsync(HttpCall call)
    {
        var errors = call.Errors;
        if (await call.FormAsync(FormFields) is not { } form)
        {
            return null;
        }

        var serial = RequestReaders.Serial(FormBody.Single(form, "serial"), errors);
        var version = UpdateReaders.Version(FormBody.Single(form, "version"), errors);
        return errors.Any || serial is null || version is null ? null : new PasswordLinkRequest(serial.Value, version.Value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Password of update {Version} released for license {Serial}.")]
    private static partial void LogReleased(ILogger logger, string version, string serial);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A password link with a bad signature was refused.")]
    private static partial void LogBadLink(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Password link for update {Version} requested for serial {Serial}; within the limits: {Accepted}.")]
    private static partial void LogLinkRequested(ILogger logger, string version, string serial, bool accepted);
}
