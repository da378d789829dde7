using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Smp.Functions.Http;

namespace Smp.Functions.Functions;

/// <summary>
/// Serves the OpenAPI 3.1 document of every route (<c>openapi.json</c>, kept in the repository and embedded in the
/// assembly). Anonymous and cacheable: it holds routes and schemas only, never a key or a setting.
/// </summary>
public sealed class OpenApiFunction
{
    /// <summary>The name under which the build embeds the document.</summary>
    public const string ResourceName = "Smp.Functions.openapi.json";

    /// <summary>How long a client or proxy may keep the document: it changes only with a deployment.</summary>
    public const string CacheControl = "public, max-age=3600";

    private static readonly Lazy<string> Document = new(Read);

    /// <summary>The document's text, as the app serves it.</summary>
    public static string Text => Document.Value;

    [Function("GetOpenApiDocument")]
    public static IActionResult GetOpenApiDocument(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/openapi.json")] HttpRequest request)
    {
        var call = HttpCall.Of(request);
        return call.PublicDocument(Document.Value, "application/json; charset=utf-8", CacheControl);
    }

    private static string Read()
    {
        using var stream = typeof(OpenApiFunction).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The build did not embed {ResourceName}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
