using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Functions.Http;

/// <summary>
/// The export of SPEC section 9, written to the response a page of licenses at a time, by serial (a key that never
/// changes, so a license renewed or replaced during the export is written exactly once): memory holds one page whatever
/// the number of licenses. UTF-8 with a byte-order mark, so that Excel reads it as UTF-8. A license that cannot be read
/// is left out and handed to <paramref name="unreadable"/>: the 200 is already sent by then, so the caller logs and
/// counts it.
/// </summary>
public sealed class LicenseCsvResult(LicenseService licenses, LocalDate today, Action<LicenseReadFailure> unreadable, CancellationToken cancellationToken, int pageSize = LicenseCsvResult.PageSize) : IActionResult
{
    public const int PageSize = 500;
    public const string ContentType = "text/csv; charset=utf-8";

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.ContentDisposition = "attachment; filename=\"licenses.csv\"";
        response.Headers.CacheControl = "no-store";
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        await writer.WriteAsync('\uFEFF');
        await writer.WriteAsync(LicenseCsv.Header());
        Serial? after = null;
        do
        {
            var page = await licenses.ListAllPageAsync(after, pageSize, cancellationToken);
            foreach (var listed in page.Licenses)
            {
                await writer.WriteAsync(LicenseCsv.Record(listed.License, today, listed.Note));
            }

            foreach (var failure in page.Unreadable)
            {
                unreadable(failure);
            }

            await writer.FlushAsync(cancellationToken);
            after = page.Next;
        }
        while (after is not null);
    }
}
