using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Staff routes on one license: training, renewals, contacts, and the license document.</summary>
public sealed class LicenseFunctions(LicenseService licenses, BusinessCalendar calendar, LicenseResults results, UpdateService updates)
{
    [Function("RecordTraining")]
    public async Task<IActionResult> RecordTraining(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/licenses/{serial}/training")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (RequestReaders.Serial(serial, call.Errors) is not { } parsed)
        {
            return call.Invalid();
        }

        var result = await licenses.RecordTrainingAsync(parsed, call.Audit, call.Cancellation);
        return results.For(result, StatusCodes.Status200OK);
    }

    [Function("RecordRenewal")]
    public async Task<IActionResult> RecordRenewal(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/licenses/{serial}/renewals")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var parsed = RequestReaders.Serial(serial, call.Errors);
        using var body = await call.JsonAsync();
        var command = body is null ? null : RequestReaders.Renewal(body, call.Errors, calendar.Now);
        if (parsed is null || command is null)
        {
            return call.Invalid();
        }

        var result = await licenses.RenewAsync(parsed.Value, command, call.Audit, call.Cancellation);
        return results.For(result);
    }

    [Function("ReplaceContacts")]
    public async Task<IActionResult> ReplaceContacts(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "api/licenses/{serial}/contacts")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var parsed = RequestReaders.Serial(serial, call.Errors);
        using var body = await call.JsonAsync();
        var contacts = body is null ? null : RequestReaders.ContactsBody(body, call.Errors);
        if (parsed is null || contacts is null)
        {
            return call.Invalid();
        }

        var result = await licenses.ReplaceContactsAsync(parsed.Value, contacts.Value, call.Audit, call.Cancellation);
        return results.For(result, StatusCodes.Status200OK);
    }

    [Function("GetLicense")]
    public async Task<IActionResult> GetLicense(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/licenses/{serial}")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (RequestReaders.Serial(serial, call.Errors) is not { } parsed)
        {
            return call.Invalid();
        }

        var stored = await licenses.GetAsync(parsed, call.Cancellation);
        if (stored is null)
        {
            return LicenseResults.NotFound();
        }

        var events = await licenses.GetEventsAsync(parsed, call.Cancellation);
        var entitlements = await updates.EntitlementsAsync(stored.License, call.Cancellation);
        return new OkObjectResult(results.Document(stored, events) with { Updates = [.. entitlements.Select(UpdateEntitlementDocument.From)] });
    }
}
