using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;
using Smp.Functions.Http;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Functions;

/// <summary>
/// The console's updates page (SPEC section 8): the updates listed for readers; publishing and announcing for
/// <c>Smp.Admin</c>, through the same use cases as <c>PUT /api/updates/{version}</c> and its announcements route.
/// </summary>
public sealed partial class ConsoleUpdatesFunctions(ConsoleGate gate, UpdateService updates, UpdateAnnouncer announcer, BusinessCalendar calendar, ILogger<ConsoleUpdatesFunctions> logger)
{
    private static readonly string[] PublishFields = ["version", "releasedOn", "password"];
    private static readonly string[] NoFields = [];

    [Function("ConsoleUpdates")]
    public async Task<IActionResult> Updates(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/updates")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        var confirmation = ConsoleUpdatesPage.Confirmation(call.Query("done"), call.Query("recipients"), call.Query("licenses"), call.Query("failed"));
        return await ListPageAsync(call, session, StatusCodes.Status200OK, null, confirmation);
    }

    [Function("ConsolePublishUpdate")]
    public async Task<IActionResult> Publish(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/updates")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Admin, "publish", PublishFields, async post =>
        {
            // The password is read exactly as typed (a secret is stored as given or refused) and never given back.
            var password = FormBody.Single(post.Session.Form!, "password") ?? string.Empty;
            var body = new JsonObject { ["releasedOn"] = post["releasedOn"] };
            if (password.Length > 0)
            {
                body["password"] = password;
            }

            using var json = JsonDocument.Parse(body.ToJsonString());
            var version = UpdateReaders.Version(post["version"], post.Errors);
            var command = UpdateReaders.Publish(json, post.Errors);
            if (version is null || command is null)
            {
                return post.Invalid();
            }

            try
            {
                await updates.PublishAsync(version.Value, command.ReleasedOn, command.Password, call.Cancellation);
            }
            catch (SecretStoreException)
            {
                // The password was not stored, so nothing says it was: the metadata is written only after the secret.
                return post.Answer(Message(post.Person, StatusCodes.Status503ServiceUnavailable, "Not published", "The secret store did not accept the password; nothing was recorded. Try again.", Back));
            }

            return post.Done(ConsoleUpdatesPage.Path, "published");
        }, (post, status) => ListPageAsync(call, post.Session, status, post.Values, null));
    }

    [Function("ConsoleConfirmAnnouncement")]
    public async Task<IActionResult> ConfirmAnnouncement(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/updates/{version}/announcements")] HttpRequest request,
        string version,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Admin);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        if (!UpdateVersion.TryParse(version, out var parsed) || await updates.GetAsync(parsed, call.Cancellation) is not { } release)
        {
            return NotFound(session.Person);
        }

        return Page(session.Person, StatusCodes.Status200OK, "Announce update " + release.Version.Value, ConsoleUpdatesPage.Confirm(release, calendar.Zone, session.FormToken!));
    }

    [Function("ConsoleAnnounceUpdate")]
    public async Task<IActionResult> Announce(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/updates/{version}/announcements")] HttpRequest request,
        string version,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Admin, "announce", NoFields, async post =>
        {
            if (!UpdateVersion.TryParse(version, out var parsed))
            {
                return post.Answer(NotFound(post.Person));
            }

            return await announcer.AnnounceAsync(parsed, post.Audit, call.Cancellation) switch
            {
                AnnouncementResult.Announced a => Announced(parsed, a, post),
                AnnouncementResult.NotReleased n => post.Answer(Message(post.Person, StatusCodes.Status409Conflict, "Not announced", $"Update {parsed.Value} is released on {Date(n.ReleasedOn)}; it cannot be announced before that day.", Back)),
                AnnouncementResult.NoPassword => post.Answer(Message(post.Person, StatusCodes.Status409Conflict, "Not announced", $"No password is stored for update {parsed.Value}, so no link could show one. Publish it again with its password first.", Back)),
                _ => post.Answer(NotFound(post.Person)),
            };
        }, (post, status) => Task.FromResult<IActionResult>(NotFound(post.Person)));
    }

    /// <summary>The announcement's counts go to the page; licenses it could not reach are logged, as the API route logs them.</summary>
    private ConsoleOutcome Announced(UpdateVersion version, AnnouncementResult.Announced announced, ConsolePost post)
    {
        foreach (var failure in announced.Failures ?? [])
        {
            LogAnnouncementFailure(logger, failure.Error, version.Value, string.Join(' ', failure.Serials));
        }

        var failed = announced.Failed > 0 ? "&failed=" + Number(announced.Failed) : string.Empty;
        return post.Done($"{ConsoleUpdatesPage.Path}?recipients={Number(announced.Recipients)}&licenses={Number(announced.Licenses)}{failed}", "announced");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Update {Version} could not be announced to serials {Serials}; announcing again retries them.")]
    private static partial void LogAnnouncementFailure(ILogger logger, Exception error, string version, string serials);

    private static readonly PageLink Back = new(ConsoleUpdatesPage.Path, "Back to the updates");

    private static ContentResult NotFound(StaffPerson? person) =>
        Message(person, StatusCodes.Status404NotFound, "Update not found", "No update has this version.", Back);

    private async Task<IActionResult> ListPageAsync(HttpCall call, ConsoleSession session, int status, IReadOnlyDictionary<string, string>? values, string? confirmation)
    {
        var releases = await updates.ListAsync(call.Cancellation);
        var token = session.Person!.Has(StaffRoles.Admin) ? session.FormToken : null;
        var body = ConsoleUpdatesPage.Body(releases, calendar.Today, calendar.Zone, token, values, call.HasErrors ? call.Errors : null);
        return Page(session.Person, status, "Updates", body, confirmation);
    }
}
