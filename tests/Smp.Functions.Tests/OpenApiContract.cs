using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Smp.Functions.Functions;

namespace Smp.Functions.Tests;

/// <summary>
/// The API's OpenAPI document (the one <c>GET /api/openapi.json</c> serves) as a contract the tests hold every answer
/// to: <see cref="Check"/> finds the documented operation of a request's method and path, the response of its status
/// and media type, and validates a JSON body against that response's schema (JSON Schema 2020-12, formats
/// included). An answer the document does not describe fails as loudly as one that breaks its schema.
/// </summary>
public static class OpenApiContract
{
    private const string ApiPrefix = "/api";
    private const string ComponentsPrefix = "#/components/schemas/";

    private static readonly Lazy<JsonObject> LazyDocument = new(() => JsonNode.Parse(OpenApiFunction.Text)!.AsObject());
    private static readonly Lazy<IReadOnlyList<(Regex Pattern, string Template)>> Templates = new(() =>
        [.. Document["paths"]!.AsObject().Select(p => (TemplatePattern(p.Key), p.Key))]);
    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new(StringComparer.Ordinal);
    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };
    private static int s_schemaCount;

    /// <summary>The parsed document.</summary>
    public static JsonObject Document => LazyDocument.Value;

    /// <summary>Every operation of the document: its path template (relative to <c>/api</c>), method and operation.</summary>
    public static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        from path in Document["paths"]!.AsObject()
        from operation in path.Value!.AsObject()
        select (path.Key, operation.Key, operation.Value!.AsObject());

    /// <summary>
    /// The documented path template of a request (such as <c>/licenses/{serial}</c>), or null. Tests hand route values
    /// to functions directly, so a value may hold what the host's routing never passes (a '/', nothing at all); a
    /// parameter therefore matches any text, and of the templates that match and have the method, the one with the
    /// most literal text wins, as a literal segment wins over a parameter in the host's routing.
    /// </summary>
    public static string? TemplateOf(string requestPath, string? method = null)
    {
        if (!requestPath.StartsWith(ApiPrefix + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var relative = requestPath[ApiPrefix.Length..];
        return Templates.Value
            .Where(t => t.Pattern.IsMatch(relative))
            .Where(t => method is null || Document["paths"]![t.Template]![method.ToLowerInvariant()] is not null)
            .OrderByDescending(t => Regex.Replace(t.Template, "{[^}]*}", string.Empty).Length)
            .Select(t => t.Template)
            .FirstOrDefault();
    }

    /// <summary>Fails unless the document describes <paramref name="response"/> to <paramref name="method"/> <paramref name="requestPath"/> and its body validates.</summary>
    public static void Check(string method, string requestPath, ApiResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var template = TemplateOf(requestPath, method)
            ?? throw new OpenApiContractException($"{method} {requestPath}: no operation of the OpenAPI document matches this request.");
        var operation = Document["paths"]![template]![method.ToLowerInvariant()]?.AsObject()
            ?? throw new OpenApiContractException($"{method} {requestPath}: the OpenAPI document has no {method} operation on {template}.");
        var status = response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var documented = operation["responses"]![status]?.AsObject()
            ?? throw new OpenApiContractException($"{method} {template}: the OpenAPI document has no {status} response; the app answered {response}.");
        var content = documented["content"]?.AsObject();
        if (response.Body.Length == 0)
        {
            if (content is not null && content.Count > 0)
            {
                throw new OpenApiContractException($"{method} {template} {status}: the document promises a body ({string.Join(", ", content.Select(c => c.Key))}); the app sent none.");
            }

            return;
        }

        var mediaType = response.MediaType
            ?? throw new OpenApiContractException($"{method} {template} {status}: a body without a content type.");
        var schema = content?[mediaType]?["schema"]
            ?? throw new OpenApiContractException($"{method} {template} {status}: the OpenAPI document has no schema for {mediaType}; the app answered {response}.");
        if (!IsJson(mediaType))
        {
            return;
        }

        var key = $"{template} {method.ToLowerInvariant()} {status} {mediaType}";
        var results = Validate(key, schema, response.Body);
        if (!results.IsValid)
        {
            var errors = (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"));
            throw new OpenApiContractException($"{method} {template} {status} {mediaType}: the body does not validate against the OpenAPI document:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}{Environment.NewLine}Body: {response.Body}");
        }
    }

    /// <summary>Validates <paramref name="json"/> against the schema of a named component.</summary>
    public static EvaluationResults ValidateComponent(string component, string json) =>
        Validate("component " + component, new JsonObject { ["$ref"] = ComponentsPrefix + component }, json);

    private static EvaluationResults Validate(string key, JsonNode schema, string json)
    {
        var built = Schemas.GetOrAdd(key, _ => Build(schema));
        using var body = JsonDocument.Parse(json);
        return built.Evaluate(body.RootElement, Evaluation);
    }

    /// <summary>
    /// A standalone schema: the response's schema with every component beside it in <c>$defs</c>, its references
    /// pointed there, under an id of its own so that schemas never collide in the registry.
    /// </summary>
    private static JsonSchema Build(JsonNode schema)
    {
        var root = new JsonObject
        {
            ["$schema"] = Document["jsonSchemaDialect"]!.GetValue<string>(),
            ["$id"] = $"urn:smp:openapi-contract:{Interlocked.Increment(ref s_schemaCount)}",
            ["$defs"] = Document["components"]!["schemas"]!.DeepClone(),
            ["allOf"] = new JsonArray(schema.DeepClone()),
        };
        var text = root.ToJsonString().Replace("\"" + ComponentsPrefix, "\"#/$defs/", StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(text);
        return JsonSchema.Build(parsed.RootElement.Clone(), BuildOptions.Default);
    }

    private static bool IsJson(string mediaType) =>
        mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    private static Regex TemplatePattern(string template) =>
        new("^" + Regex.Replace(Regex.Escape(template), @"\\\{[^/]+?}", ".*") + "$", RegexOptions.CultureInvariant);
}

/// <summary>An answer of the app that the OpenAPI document does not describe.</summary>
public sealed class OpenApiContractException(string message) : Exception(message);
