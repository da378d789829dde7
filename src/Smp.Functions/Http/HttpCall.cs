using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Functions.Http;

/// <summary>
/// The one request prologue of every HTTP trigger: the request, the validation errors found while reading it, the
/// invocation's cancellation and who made the request (R15). Bodies are read through it with the size and UTF-8
/// guards of <see cref="JsonBody"/> and <see cref="FormBody"/>, and bad input becomes the RFC 9457 problem naming the
/// fields, so a trigger holds only what is its own: which values to read and which use case to call.
/// </summary>
public sealed class HttpCall
{
    private readonly FunctionContext? _function;

    private HttpCall(HttpRequest request, FunctionContext? function)
    {
        ArgumentNullException.ThrowIfNull(request);
        Request = request;
        _function = function;
    }

    public HttpRequest Request { get; }

    /// <summary>Every bad field found so far, by its path.</summary>
    public ValidationErrors Errors { get; } = new();

    /// <summary>True when a field was refused: the trigger answers <see cref="Invalid"/> or <see cref="InvalidForCaller"/>.</summary>
    public bool HasErrors => Errors.Any;

    /// <summary>The invocation's cancellation (the request's, for a page function that takes no function context).</summary>
    public CancellationToken Cancellation => _function?.CancellationToken ?? Request.HttpContext.RequestAborted;

    /// <summary>Who made the request and its correlation id, for the audit trail (R15).</summary>
    public CommandContext Audit => RequestAudit.For(Request, _function ?? throw new InvalidOperationException("A call without its function context has no audit actor."));

    /// <summary>The correlation id of this request, for an audit context built elsewhere (a signed-in person's).</summary>
    public string CorrelationId => RequestAudit.CorrelationId(Request, _function ?? throw new InvalidOperationException("A call without its function context has no correlation id."));

    /// <summary>The prologue of a trigger that takes its <see cref="FunctionContext"/>.</summary>
    public static HttpCall Of(HttpRequest request, FunctionContext function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new HttpCall(request, function);
    }

    /// <summary>The prologue of a page that only reads its query (no use case, nothing audited).</summary>
    public static HttpCall Of(HttpRequest request) => new(request, null);

    /// <summary>
    /// A public document that changes only with a deployment (no customer data, no key, no setting): answered as
    /// <paramref name="contentType"/> with <paramref name="cacheControl"/>, never sniffed as another type.
    /// </summary>
    public IActionResult PublicDocument(string content, string contentType, string cacheControl)
    {
        Request.HttpContext.Response.Headers.CacheControl = cacheControl;
        Request.HttpContext.Response.Headers.XContentTypeOptions = "nosniff";
        return new ContentResult { StatusCode = StatusCodes.Status200OK, ContentType = contentType, Content = content };
    }

    /// <summary>The single value of a query parameter, as the request gave it (empty when absent).</summary>
    public string Query(string name) => Request.Query[name].ToString();

    /// <summary>True when the caller posted an HTML form rather than JSON.</summary>
    public bool IsForm => CustomerPages.IsForm(Request);

    /// <summary>The body as one JSON object, or null with the reason recorded (see <see cref="JsonBody"/>).</summary>
    public Task<JsonDocument?> JsonAsync() => JsonBody.ReadObjectAsync(Request, Errors, Cancellation);

    /// <summary>The posted form's fields, or null with the reasons recorded (see <see cref="FormBody"/>).</summary>
    public Task<IFormCollection?> FormAsync(IReadOnlySet<string> known, long maxBytes = JsonBody.MaxBytes) => FormBody.ReadAsync(Request, known, Errors, Cancellation, maxBytes);

    /// <summary>
    /// The raw body, or null when it is larger than <paramref name="maxBytes"/>: reading stops at the limit (the declared
    /// <c>Content-Length</c> is checked first), so an oversize body never fills memory.
    /// </summary>
    public async Task<byte[]?> BytesAsync(int maxBytes)
    {
        if (Request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await Request.Body.ReadAsync(chunk, Cancellation)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The 400 problem naming every refused field.</summary>
    public ObjectResult Invalid() => Problems.Validation(Errors);

    /// <summary>The 400 of a customer route: the problem, or a page for a caller that prefers HTML (SPEC section 5).</summary>
    public IActionResult InvalidForCaller() => CustomerResponses.ForCaller(Request, Invalid());
}
