using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Smp.Functions.Http;

namespace Smp.Functions.Hosting;

/// <summary>
/// The one place the customer routes' headers are set (SPEC section 5): before a customer function runs, so every
/// answer it gives (a page, JSON, a problem, and the fault answer <see cref="HttpFaultMiddleware"/> writes) carries
/// them. A password page and the links that lead to it are credentials, so nothing is stored, sniffed, framed,
/// referred or indexed; the pages' one-button forms post to this app only (<c>form-action 'self'</c>), and browsers
/// reach the host over HTTPS only. Staff API routes get none of these: their callers are systems, not browsers. The console's pages get their own
/// (<see cref="ConsoleContentSecurityPolicy"/>, <c>Referrer-Policy: same-origin</c>), set here too.
/// </summary>
public sealed class CustomerHeadersMiddleware : IFunctionsWorkerMiddleware
{
    /// <summary>A year of HTTPS only for this host (RFC 6797); browsers ignore it on plain http, as in local runs.</summary>
    public const string StrictTransportSecurity = "max-age=31536000; includeSubDomains";

    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (CustomerResponses.CustomerFunctions.Contains(context.FunctionDefinition.Name) && context.GetHttpContext() is { } http)
        {
            Apply(http.Response.Headers);
        }
        else if (context.FunctionDefinition.Name.StartsWith(Functions.ConsoleFunctions.NamePrefix, StringComparison.Ordinal) && context.GetHttpContext() is { } console)
        {
            ApplyConsole(console.Response.Headers);
        }

        return next(context);
    }

    /// <summary>
    /// The staff console's pages (SPEC section 8): styles and the one script from the app's own files only, no inline
    /// anything; forms post to the app; never framed, sniffed or cached (they show customer data).
    /// </summary>
    public const string ConsoleContentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static void ApplyConsole(IHeaderDictionary headers) => Apply(headers, ConsoleContentSecurityPolicy, "same-origin");

    private static void Apply(IHeaderDictionary headers) => Apply(headers, ContentSecurityPolicy, "no-referrer");

    /// <summary>The headers customer answers and console pages share; they differ only in their policy and referrer.</summary>
    private static void Apply(IHeaderDictionary headers, string contentSecurityPolicy, string referrerPolicy)
    {
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = contentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = referrerPolicy;
        headers["X-Robots-Tag"] = "noindex, nofollow";
        headers.StrictTransportSecurity = StrictTransportSecurity;
    }
}
