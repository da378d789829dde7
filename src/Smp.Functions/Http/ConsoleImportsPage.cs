using System.Text;
using Smp.Core.Imports;
using Smp.Functions.Staff;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>
/// The console's imports pages (SPEC sections 8 and 9): the upload form (every upload is a dry run first), and an
/// import's progress and result, with the button that imports the dry run's file for real and the rows that need fixing.
/// </summary>
public static class ConsoleImportsPage
{
    public const string Path = "/console/imports";
    public const string ScriptPath = "/console/console.js";
    public const string FileField = "file";

    /// <summary>An upload's body: the file's 10 MiB and room for the form around it.</summary>
    public const long MaxUploadBytes = ImportFile.MaxBytes + JsonBody.MaxBytes;

    public static string JobPath(string id) => Path + "/" + id;

    /// <summary>The confirmations a redirect to an import's page may show, by key.</summary>
    public static string? Confirmation(string done) => done switch
    {
        "dry-run" => "The file was accepted for a dry run: nothing is imported until you start the real run.",
        "started" => "The import was started.",
        _ => null,
    };

    public static string Upload(string? token, ValidationErrors? refused)
    {
        var html = new StringBuilder("<p>Prepare the plans as a CSV file (UTF-8, comma-separated, a header row with the columns <code>serial</code>, <code>customerId</code>, ")
            .Append("<code>customerName</code>, <code>contacts</code>, <code>expiresOn</code> and optionally <code>product</code>, <code>activationEmailSentOn</code>, <code>planStart</code>, ")
            .Append("<code>onSiteTraining</code>, <code>note</code>; dates as yyyy-MM-dd). Every file is checked by a dry run first: it reports what the import would do and writes no license.</p>");
        html.Append(ErrorSummary(refused));
        if (token is null)
        {
            return html.Append("<p>Importing plans needs the role ").Append(H(StaffRoles.Admin)).Append(".</p>").ToString();
        }

        return html.Append("<form method=\"post\" action=\"").Append(Path).Append("\" enctype=\"multipart/form-data\" aria-label=\"Upload a CSV file\">")
            .Append("<input type=\"hidden\" name=\"").Append(FormTokens.FieldName).Append("\" value=\"").Append(H(token)).Append("\">")
            .Append("<p class=\"field\"><label for=\"import-file\">CSV file (at most ").Append(Number(ImportFile.MaxBytes / (1024 * 1024))).Append(" MiB)</label>")
            .Append("<input id=\"import-file\" name=\"").Append(FileField).Append("\" type=\"file\" accept=\".csv,text/csv\" required")
            .Append(refused is { Any: true } ? " aria-invalid=\"true\"" : string.Empty).Append("></p>")
            .Append("<button type=\"submit\">Upload and check (dry run)</button></form>").ToString();
    }

    public static string Job(ImportJob job, string? token)
    {
        var html = new StringBuilder();
        var done = job.Status == ImportStatus.Done;
        html.Append("<p id=\"import-kind\">").Append(job.DryRun ? "Dry run: nothing is written." : "Import: licenses are written.").Append("</p>");
        html.Append("<p><label for=\"import-progress\">Progress: ").Append(Number(job.Processed)).Append(" of ").Append(Number(job.Total)).Append(" rows</label> ")
            .Append("<progress id=\"import-progress\" max=\"").Append(Number(Math.Max(job.Total, 1))).Append("\" value=\"").Append(Number(done ? Math.Max(job.Total, 1) : job.Processed)).Append("\"></progress></p>");
        html.Append("<dl class=\"facts\"><dt>Status</dt><dd id=\"import-status\">").Append(H(job.Status.ToString().ToLowerInvariant())).Append("</dd>")
            .Append("<dt>").Append(job.DryRun ? "Would be created" : "Created").Append("</dt><dd id=\"import-created\">").Append(Number(job.Created)).Append("</dd>")
            .Append("<dt>Unchanged</dt><dd id=\"import-unchanged\">").Append(Number(job.Unchanged)).Append("</dd>")
            .Append("<dt>Conflicts</dt><dd id=\"import-conflicts\">").Append(Number(job.Conflicts)).Append("</dd>")
            .Append("<dt>Invalid</dt><dd id=\"import-invalid\">").Append(Number(job.Invalid)).Append("</dd></dl>");
        if (!done)
        {
            // The script reloads the page while the import runs; without it the link does the same.
            html.Append("<p data-refresh=\"2\"><a id=\"refresh\" href=\"").Append(H(JobPath(job.Id))).Append("\">Refresh</a> to see the progress.</p>")
                .Append("<script src=\"").Append(ScriptPath).Append("\" defer></script>");
        }

        if (job.Errors.Length > 0)
        {
            html.Append("<table class=\"import-errors\"><caption>Rows that need fixing").Append(job.Errors.Length < job.Conflicts + job.Invalid ? " (the first " + Number(job.Errors.Length) + ")" : string.Empty)
                .Append("</caption><thead><tr><th scope=\"col\">Row</th><th scope=\"col\">Column</th><th scope=\"col\">Message</th></tr></thead><tbody>");
            foreach (var error in job.Errors)
            {
                html.Append("<tr><td>").Append(Number(error.Row)).Append("</td><td>").Append(H(error.Column ?? string.Empty)).Append("</td><td>").Append(H(error.Message)).Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }
        else if (done)
        {
            html.Append("<p id=\"no-import-errors\">No row needs fixing.</p>");
        }

        if (done && job.DryRun && token is not null)
        {
            html.Append("<section class=\"run\"><h2>Import for real</h2><p>The real run imports this same file: rows reported as created become licenses; the others are left as reported.</p>")
                .Append(Form(JobPath(job.Id) + "/run", token, string.Empty, "Import these rows", "Import these rows")).Append("</section>");
        }

        return html.Append("<p><a href=\"").Append(Path).Append("\">Upload another file</a></p>").ToString();
    }
}
