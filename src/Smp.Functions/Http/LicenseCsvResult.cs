using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Functions.Http;

/// <summary>
/// The export of SPEC section 9, written to the response a page of licenses at a time: memory holds one page whatever
/// the number of licenses. UTF-8 with a byte-order mark, so that Excel reads it as UTF-8. A license that cannot be read
/// is left out and handed to <paramref name="unreadable"/>: the 200 is already sent by then, so the caller logs and
/// counts it. Without a range the file holds every license, by serial (a key that never changes, so a license renewed
/// or replaced during the export is written exactly once). The console's renewals download writes the licenses that
/// expire in [<paramref name="from"/>, <paramref name="to"/>] the same way, in expiry order.
/// </summary>
public sealed class LicenseCsvResult(
    LicenseService licenses,
    LocalDate today,
    Action<LicenseReadFailure> unreadable,
    CancellationToken cancellationToken,
    int pageSize = LicenseCsvResult.PageSize,
    (LocalDate From, LocalDate To)? range = null,
    string fileName = "licenses.csv") : IActionResult
{
    public const int PageSize = 500;
    public const string ContentType = "text/csv; charset=utf-8";

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
        object? after = null;
        do
        {
            var (listed, failures, next) = range is { } r
                ? await ExpiringPageAsync(r.From, r.To, (ExpiryPosition?)after)
                : await AllPageAsync((Serial?)after);
            foreach (var license in listed)
            {
                await writer.WriteAsync(LicenseCsv.Record(license.License, today, license.Note));
            }

            foreach (var failure in failures)
            {
                unreadable(failure);
            }

            await writer.FlushAsync(cancellationToken);
            after = next;
        }
        while (after is not null);
    }

    private async Task<(IReadOnlyList<ListedLicense>, IReadOnlyList<LicenseReadFailure>, object?)> AllPageAsync(Serial? after)
    {
        var page = await licenses.ListAllPageAsync(after, pageSize, cancellationToken);
        return (page.Licenses, page.Unreadable, page.Next);
    }

    private async Task<(IReadOnlyList<ListedLicense>, IReadOnlyList<LicenseReadFailure>, object?)> ExpiringPageAsync(LocalDate from, LocalDate to, ExpiryPosition? after)
    {
        var page = await licenses.ListExpiringListedPageAsync(from, to, after, pageSize, cancellationToken);
        return (page.Licenses, page.Unreadable, page.Next);
    }
}
