using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Smp.Core.Imports;
using Smp.Core.Licenses;

namespace Smp.Functions.Http;

/// <summary>
/// The export of SPEC section 9, written to the response a page of licenses at a time (in expiry order, through the
/// expiry index): memory holds one page whatever the number of licenses. UTF-8 with a byte-order mark, so that Excel
/// reads it as UTF-8. A license that cannot be read is left out and handed to <paramref name="unreadable"/>: the 200 is
/// already sent by then, so the caller logs and counts it. The console's renewals download writes the licenses that
/// expire in [<paramref name="from"/>, <paramref name="to"/>] the same way (every license when no range is given).
/// </summary>
public sealed class LicenseCsvResult(
    LicenseService licenses,
    LocalDate today,
    Action<LicenseReadFailure> unreadable,
    CancellationToken cancellationToken,
    LocalDate? from = null,
    LocalDate? to = null,
    string fileName = "licenses.csv") : IActionResult
{
    public const int PageSize = 500;
    public const string ContentType = "text/csv; charset=utf-8";

    private static readonly LocalDate First = new(1, 1, 1);
    private static readonly LocalDate Last = new(9999, 12, 31);

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.ContentDisposition = "attachment; filename=\"" + fileName + "\"";
        response.Headers.CacheControl = "no-store";
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        await writer.WriteAsync('\uFEFF');
        await writer.WriteAsync(LicenseCsv.Header());
        ExpiryPosition? after = null;
        do
        {
            var page = await licenses.ListExpiringPageAsync(from ?? First, to ?? Last, after, PageSize, cancellationToken);
            foreach (var stored in page.Licenses)
            {
                await writer.WriteAsync(LicenseCsv.Record(stored.License, today));
            }

            foreach (var failure in page.Unreadable ?? [])
            {
                unreadable(failure);
            }

            await writer.FlushAsync(cancellationToken);
            after = page.Next;
        }
        while (after is not null);
    }
}
