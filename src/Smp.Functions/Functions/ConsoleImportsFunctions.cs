using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Imports;
using Smp.Functions.Http;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Functions;

/// <summary>
/// The console's imports (SPEC sections 8 and 9), for <c>Smp.Admin</c>: upload a CSV file (always a dry run first,
/// through the same use case as <c>POST /api/imports</c>), watch its progress, read the rows that need fixing, and
/// import the same file for real. Readers see the pages.
/// </summary>
public sealed class ConsoleImportsFunctions(ConsoleGate gate, ImportService imports)
{
    private static readonly string[] UploadFields = [ConsoleImportsPage.FileField];
    private static readonly string[] NoFields = [];

    private static readonly string Script = ReadScript();

    [Function("ConsoleScript")]
    public static IActionResult ConsoleScript(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/console.js")] HttpRequest request)
    {
        _ = HttpCall.Of(request);
        return new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = "text/javascript; charset=utf-8", Content = Script };
    }

    [Function("ConsoleImports")]
    public async Task<IActionResult> Imports(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/imports")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        return UploadPage(session, StatusCodes.Status200OK, null);
    }

    [Function("ConsoleUploadImport")]
    public async Task<IActionResult> Upload(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/imports")] HttpRequest request,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        if (request.ContentLength > ConsoleImportsPage.MaxUploadBytes)
        {
            return TooLarge(null);
        }

        return await gate.FormAsync(call, StaffRoles.Admin, "import", UploadFields, async post =>
        {
            var file = post.Session.Form!.Files.GetFile(ConsoleImportsPage.FileField);
            if (file is null || file.Length == 0)
            {
                return post.Invalid(ConsoleImportsPage.FileField, "Choose a CSV file that is not empty.");
            }

            if (file.Length > ImportFile.MaxBytes)
            {
                return post.Answer(TooLarge(post.Person));
            }

            var bytes = new byte[file.Length];
            await using (var stream = file.OpenReadStream())
            {
                await stream.ReadExactlyAsync(bytes, call.Cancellation);
            }

            var start = await imports.StartAsync(bytes, dryRun: true, post.Audit, call.Cancellation);
            if (start.Job is not { } job)
            {
                foreach (var error in start.Errors)
                {
                    post.Errors.Add(error.Column ?? ConsoleImportsPage.FileField, error.Message);
                }

                return post.Invalid();
            }

            return post.Done(ConsoleImportsPage.JobPath(job.Id), "dry-run");
        }, (post, status) => Task.FromResult<IActionResult>(UploadPage(post.Session, status, post.Errors)), ConsoleImportsPage.MaxUploadBytes);
    }

    [Function("ConsoleImport")]
    public async Task<IActionResult> Import(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/imports/{id}")] HttpRequest request,
        string id,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        var session = await gate.PageAsync(call, StaffRoles.Reader);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        if (!IsId(id) || await imports.GetAsync(id, call.Cancellation) is not { } job)
        {
            return NotFound(session.Person);
        }

        var token = session.Person!.Has(StaffRoles.Admin) ? session.FormToken : null;
        var title = (job.DryRun ? "Dry run " : "Import ") + (job.Status == ImportStatus.Done ? "result" : "in progress");
        return Page(session.Person, StatusCodes.Status200OK, title, ConsoleImportsPage.Job(job, token), ConsoleImportsPage.Confirmation(call.Query("done")));
    }

    [Function("ConsoleRunImport")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "console/imports/{id}/run")] HttpRequest request,
        string id,
        FunctionContext context)
    {
        var call = HttpCall.Of(request, context);
        return await gate.FormAsync(call, StaffRoles.Admin, "run", NoFields, async post =>
        {
            if (!IsId(id) || await imports.StartRealRunAsync(id, post.Audit, call.Cancellation) is not { } start)
            {
                return post.Answer(NotFound(post.Person));
            }

            // The dry run read this very file, so it opens again; a job is there unless the stored file was lost.
            return start.Job is { } job
                ? post.Done(ConsoleImportsPage.JobPath(job.Id), "started")
                : post.Answer(Message(post.Person, StatusCodes.Status409Conflict, "Not started", "The dry run's file can no longer be read; upload it again.", Back));
        }, (post, status) => Task.FromResult<IActionResult>(NotFound(post.Person)));
    }

    private static readonly PageLink Back = new(ConsoleImportsPage.Path, "Back to the imports");

    /// <summary>An import id as <c>GET /api/imports/{id}</c> accepts it: 32 lower-case hex digits.</summary>
    private static bool IsId(string id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    private static ContentResult UploadPage(ConsoleSession session, int status, ValidationErrors? errors)
    {
        var token = session.Person!.Has(StaffRoles.Admin) ? session.FormToken : null;
        return Page(session.Person, status, "Imports", ConsoleImportsPage.Upload(token, errors is { Any: true } ? errors : null));
    }

    private static ContentResult TooLarge(StaffPerson? person) =>
        Message(person, StatusCodes.Status413PayloadTooLarge, "File too large", $"An import file is at most {ImportFile.MaxBytes / (1024 * 1024)} MiB; split it into several files.", Back);

    private static ContentResult NotFound(StaffPerson? person) =>
        Message(person, StatusCodes.Status404NotFound, "Import not found", "There is no such import.", Back);

    private static string ReadScript()
    {
        using var stream = typeof(ConsoleImportsFunctions).Assembly.GetManifestResourceStream("Smp.Functions.console.js")
            ?? throw new InvalidOperationException("The console script is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
