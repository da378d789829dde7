using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>Staff routes on one license: training, renewals, contacts, and the license document.</summary>
public sealed class LicenseFunctions(LicenseService licenses, BusinessCalendar calendar, LicenseResults results)
{
    [Function("RecordTraining")]
    public async Task<IActionResult> RecordTraining(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "licenses/{serial}/training")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        if (RequestReaders.Serial(serial, errors) is not { } parsed)
        {
            return Problems.Validation(errors);
        }

        var result = await licenses.RecordTrainingAsync(parsed, RequestAudit.For(request, context), context.CancellationToken);
        return results.For(result, StatusCodes.Status200OK);
    }

    [Function("RecordRenewal")]
    public async Task<IActionResult> RecordRenewal(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "licenses/{serial}/renewals")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        var parsed = RequestReaders.Serial(serial, errors);
        using var body = await JsonBody.ReadObjectAsync(request, errors, context.CancellationToken);
        var command = body is null ? null : RequestReaders.Renewal(body, errors, calendar.Now);
        if (parsed is null || command is null)
        {
            return Problems.Validation(errors);
        }

        var result = await licenses.RenewAsync(parsed.Value, command, RequestAudit.For(request, context), context.CancellationToken);
        return results.For(result);
    }

    [Function("ReplaceContacts")]
    public async Task<IActionResult> ReplaceContacts(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "licenses/{serial}/contacts")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        var parsed = RequestReaders.Serial(serial, errors);
        using var body = await JsonBody.ReadObjectAsync(request, errors, context.CancellationToken);
        var contacts = body is null ? null : RequestReaders.ContactsBody(body, errors);
        if (parsed is null || contacts is null)
        {
            return Problems.Validation(errors);
        }

        var result = await licenses.ReplaceContactsAsync(parsed.Value, contacts.Value, RequestAudit.For(request, context), context.CancellationToken);
        return results.For(result, StatusCodes.Status200OK);
    }

    [Function("GetLicense")]
    public async Task<IActionResult> GetLicense(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "licenses/{serial}")] HttpRequest request,
        string serial,
        FunctionContext context)
    {
        var errors = new ValidationErrors();
        if (RequestReaders.Serial(serial, errors) is not { } parsed)
        {
            return Problems.Validation(errors);
        }

        var stored = await licenses.GetAsync(parsed, context.CancellationToken);
        if (stored is null)
        {
            return LicenseResults.NotFound();
        }

        var events = await licenses.GetEventsAsync(parsed, context.CancellationToken);
        return new OkObjectResult(results.Document(stored, events));
    }
}
