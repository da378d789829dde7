using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>Calls one function the way the worker would, with the generated route values in <paramref name="input"/>.</summary>
public delegate Task<IActionResult> RouteCall(ApiHarness api, HttpRequest request, FunctionContext context, FuzzCase input);

/// <summary>
/// One HTTP route under fuzzing: its function name, method and route template (as declared on the function),
/// how to call it, and generators for what it reads. Placeholders in the template get the generator of
/// <see cref="RouteValues"/> for their name, else <see cref="FuzzRoute.DefaultRouteValue"/>; a route reads no body
/// or query unless <see cref="Body"/> or <see cref="Query"/> says how to generate one (junk is sent anyway).
/// </summary>
public sealed partial class FuzzRoute(string name, string method, string template, RouteCall call)
{
    public string Name { get; } = name;

    public string Method { get; } = method;

    public string Template { get; } = template;

    public RouteCall Call { get; } = call;

    public IReadOnlyDictionary<string, Gen<Fuzzed<string>>> RouteValues { get; init; } = new Dictionary<string, Gen<Fuzzed<string>>>();

    public Gen<Fuzzed<byte[]?>> Body { get; init; } = FuzzBodies.Ignored;

    public Gen<Fuzzed<string?>> Query { get; init; } = FuzzValues.IgnoredQuery;

    /// <summary>
    /// Form bodies, for routes that also read an HTML form (<c>application/x-www-form-urlencoded</c>) instead of JSON.
    /// When set, a JSON body sent with a form content type is read as a form, so no claim is made about its answer.
    /// </summary>
    public Gen<Fuzzed<byte[]?>>? Form { get; init; }

    /// <summary>
    /// Bodies together with their content type, for routes that read something other than JSON (the CSV import): the
    /// body's verdict already covers its content type. When set, it replaces <see cref="Body"/> and the JSON content types.
    /// </summary>
    public Gen<(Fuzzed<byte[]?> Body, string? ContentType)>? Payloads { get; init; }

    /// <summary>What a 2xx of this route may carry: JSON unless the route serves pages or answers without a body.</summary>
    public SuccessBodies Success { get; init; } = SuccessBodies.Json;

    /// <summary>Whether sending an accepted request again must answer 200 with the same body and store nothing (true for idempotent routes).</summary>
    public bool RepeatIsNoOp { get; init; } = true;

    /// <summary>Whether some generated requests must be refused (false for routes without inputs, such as health).</summary>
    public bool HasInputs => Placeholders.Count > 0 || Body != FuzzBodies.Ignored || Query != FuzzValues.IgnoredQuery || Form is not null || Payloads is not null;

    public IReadOnlyList<string> Placeholders => [.. Placeholder().Matches(Template).Select(m => m.Groups[1].Value)];

    /// <summary>Generators by placeholder name, used when a route does not name its own.</summary>
    public static IReadOnlyDictionary<string, Gen<Fuzzed<string>>> DefaultRouteValues { get; } = new Dictionary<string, Gen<Fuzzed<string>>>
    {
        ["serial"] = FuzzValues.Serial,
        ["customerId"] = FuzzValues.CustomerId,
    };

    public static Gen<Fuzzed<string>> DefaultRouteValue => FuzzValues.AnyRouteValue;

    public Gen<FuzzCase> Cases() =>
        from values in Gen.CollectToArray(Placeholders, p => RouteValueGenerator(p).Select(v => (Name: p, Value: v)))
        from query in Query
        from payload in Payload()
        let body = payload.Body
        let contentType = payload.ContentType
        from withoutLength in Gen.Elements(false, false, false, true)
        from correlationId in FuzzValues.CorrelationId
        let parts = values.Select(v => (v.Value.Verdict, Label: $"{v.Name}: {v.Value.Label}"))
            .Append((query.Verdict, Label: query.Label))
            .Append((body.Verdict, Label: body.Label))
            .ToList()
        select new FuzzCase(
            [.. values.Select(v => KeyValuePair.Create(v.Name, v.Value.Value))],
            query.Value,
            body.Value,
            withoutLength,
            contentType,
            correlationId,
            Fuzzed.Combine(parts.Select(p => p.Verdict)),
            string.Join(", ", parts.Select(p => $"{p.Label}: {p.Verdict}")));

    /// <summary>The decoded request path the host would have matched: the template with the generated route values.</summary>
    public string PathFor(FuzzCase input) =>
        "/api/" + Placeholder().Replace(Template, m => input[m.Groups[1].Value]);

    public override string ToString() => Name;

    private Gen<(Fuzzed<byte[]?> Body, string? ContentType)> Payload()
    {
        if (Payloads is { } payloads)
        {
            return payloads;
        }

        var json = from body in Body
                   from contentType in FuzzValues.ContentType
                   select (Form is not null && FuzzValues.IsFormContentType(contentType) && body.Verdict != Verdict.Unknown
                       ? Fuzzed.Unknown(body.Value, body.Label + " (sent as a form)")
                       : body, contentType);
        return Form is null
            ? json
            : Gen.Frequency(
                (2, json),
                (1, from body in Form
                    from contentType in FuzzValues.FormContentType
                    select (body, (string?)contentType)));
    }

    private Gen<Fuzzed<string>> RouteValueGenerator(string placeholder) =>
        RouteValues.TryGetValue(placeholder, out var own) ? own
        : DefaultRouteValues.TryGetValue(placeholder, out var shared) ? shared
        : DefaultRouteValue;

    [GeneratedRegex("\\{(\\w+)\\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}

/// <summary>What the 2xx answers of a route may be besides JSON.</summary>
[Flags]
public enum SuccessBodies
{
    /// <summary>A JSON object or array (every staff route).</summary>
    Json = 1,

    /// <summary>An HTML page (customer routes answering a browser).</summary>
    Html = 2,

    /// <summary>No body at all (a 202 that only says the work was queued).</summary>
    Empty = 4,

    /// <summary>A CSV file (the export).</summary>
    Csv = 8,
}
