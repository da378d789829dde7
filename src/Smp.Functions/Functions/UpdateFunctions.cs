using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Secrets;
using Smp.Core.Updates;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Staff routes for updates: publish (release date and password) and announce (R13, R14).</summary>
public sealed partial class UpdateFunctions(UpdateService updates, UpdateAnnouncer announcer, ILogger<UpdateFunctions> logger)
{
    [Function("PublishUpdate")]
    public async Task<IActionResult> PublishUpdate(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "api/updates/{version}")] HttpRequest request,
        string version,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var parsed = UpdateReaders.Version(version, call.Errors);
        using var body = await call.JsonAsync();
        var command = body is null ? null : UpdateReaders.Publish(body, call.Errors);
        if (parsed is null || command is null)
        {
            return call.Invalid();
        }

        PublishResult result;
        try
        {
            result = await updates.PublishAsync(parsed.Value, command.ReleasedOn, command.Password, call.Cancellation);
        }
        catch (SecretStoreException)
        {
            // The password was not stored, so nothing says it was: the metadata is written only after the secret.
            return Problems.Unavailable("The secret store did not accept the password; nothing was recorded. Retry the request.");
        }

        LogPublished(logger, result.Release.Version.Value, result.Outcome, result.Release.HasPassword, command.Password is not null);
        var document = UpdateDocument.From(result.Release);
        return result.Outcome == PublishOutcome.Created
            ? new CreatedResult(UpdateDocument.Location(result.Release), document)
            : new OkObjectResult(document);
    }

    [Function("AnnounceUpdate")]
    public async Task<IActionResult> AnnounceUpdate(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/updates/{version}/announcements")] HttpRequest request,
        string version,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (UpdateReaders.Version(version, call.Errors) is not { } parsed)
        {
            return call.Invalid();
        }

        var result = await announcer.AnnounceAsync(parsed, call.Audit, call.Cancellation);
        switch (result)
        {
            case AnnouncementResult.Announced announced:
                LogAnnounced(logger, parsed.Value, announced.Mails, announced.Licenses);
                foreach (var failure in announced.Failures ?? [])
                {
                    LogAnnouncementFailure(logger, failure.Error, parsed.Value, string.Join(' ', failure.Serials));
                }

                return new ObjectResult(new AnnouncementDocument(announced.Recipients, announced.Licenses, announced.Mails, announced.Failed)) { StatusCode = StatusCodes.Status202Accepted };
            case AnnouncementResult.NotReleased notReleased:
                return Problems.Conflict($"Update {parsed.Value} is released on {notReleased.ReleasedOn:yyyy-MM-dd}; it cannot be announced before that day.");
            case AnnouncementResult.NoPassword:
                return Problems.Conflict($"No password is stored for update {parsed.Value}, so no link could show one. Store it first: PUT /api/updates/{parsed.Value} with releasedOn and password.");
            default:
                return Problems.NotFound("No update has this version.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Update {Version} published ({Outcome}); password stored: {HasPassword}, given now: {PasswordGiven}.")]
    private static partial void LogPublished(ILogger logger, string version, PublishOutcome outcome, bool hasPassword, bool passwordGiven);

    [LoggerMessage(Level = LogLevel.Information, Message = "Update {Version} announced: {Mails} new mails about {Licenses} licenses.")]
    private static partial void LogAnnounced(ILogger logger, string version, int mails, int licenses);

    [LoggerMessage(Level = LogLevel.Error, Message = "Update {Version} could not be announced to serials {Serials}; announcing again retries them.")]
    private static partial void LogAnnouncementFailure(ILogger logger, Exception error, string version, string serials);
}
