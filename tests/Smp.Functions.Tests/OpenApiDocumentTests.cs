using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using NodaTime;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// The OpenAPI 3.1 document (issue 11, item 6): it is valid OpenAPI, it documents exactly the HTTP functions the build
/// declares to the Functions host (route, method, function key or anonymous), it is served at
/// <c>GET /api/openapi.json</c>, and the contract check every API test runs through (<see cref="OpenApiContract"/>)
/// refuses what the document does not describe.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OpenApiDocumentTests(AzuriteFixture azurite) : IDisposable
{
    private readonly ApiHarness _api = new(azurite.ConnectionString, Instant.FromUtc(2026, 3, 20, 16, 0));

    public void Dispose() => _api.Dispose();

    [Fact]
    public void The_document_is_valid_OpenAPI_3_1()
    {
        var read = OpenApiDocument.Parse(OpenApiFunction.Text, "json");

        Assert.Empty(read.Diagnostic?.Errors ?? []);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, read.Diagnostic?.SpecificationVersion);
        Assert.NotNull(read.Document);
        Assert.Empty(read.Document!.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", OpenApiContract.Document["jsonSchemaDialect"]!.GetValue<string>());
    }

    [Fact]
    public void Every_http_function_is_documented_with_its_route_method_and_security()
    {
        var missing = new List<string>();
        foreach (var (name, route, methods, authLevel) in HttpFunctions())
        {
            foreach (var method in methods)
            {
                var operation = OpenApiContract.Document["paths"]?["/" + route]?[method]?.AsObject();
                if (operation is null)
                {
                    missing.Add($"{name}: {method.ToUpperInvariant()} /api/{route} is not in the OpenAPI document.");
                    continue;
                }

                if (operation["operationId"]?.GetValue<string>() != name)
                {
                    missing.Add($"{name}: {method.ToUpperInvariant()} /api/{route} is documented as operation '{operation["operationId"]}'.");
                }

                var expected = authLevel == "Anonymous" ? "[]" : """[{"functionKey":[]}]""";
                if (operation["security"]?.ToJsonString() != expected)
                {
                    missing.Add($"{name}: auth level {authLevel}, but the document's security is {operation["security"]?.ToJsonString() ?? "(inherited)"}.");
                }
            }
        }

        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Fact]
    public void Every_documented_operation_is_served_by_a_function()
    {
        var served = HttpFunctions().SelectMany(f => f.Methods.Select(m => (Path: "/" + f.Route, Method: m, f.Name))).ToHashSet();

        var unserved = OpenApiContract.Operations()
            .Where(o => !served.Contains((o.Path, o.Method, o.Operation["operationId"]?.GetValue<string>() ?? string.Empty)))
            .Select(o => $"{o.Method.ToUpperInvariant()} /api{o.Path} ({o.Operation["operationId"]})")
            .ToList();

        Assert.True(unserved.Count == 0, "Documented, but no function serves it: " + string.Join(", ", unserved));
    }

    [Fact]
    public void Every_operation_documents_its_failures_as_problem_documents()
    {
        foreach (var (path, method, operation) in OpenApiContract.Operations())
        {
            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                if (status[0] is '4' or '5' && status != "401")
                {
                    Assert.True(response?["content"]?["application/problem+json"]?["schema"] is not null, $"{method} {path} {status} has no problem document.");
                }
            }
        }
    }

    [Fact]
    public async Task The_document_is_served_anonymously_as_cacheable_JSON()
    {
        var request = _api.Request("GET", "/api/openapi.json");

        var response = await ApiHarness.ExecuteAsync(request, OpenApiFunction.GetOpenApiDocument(request));

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json", response.MediaType);
        Assert.Equal("public, max-age=3600", response.Headers.CacheControl.ToString());
        Assert.Equal("3.1.0", response.Json().GetProperty("openapi").GetString());
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Smp.Functions", "openapi.json")), response.Body);
    }

    [Fact]
    public void The_contract_refuses_a_body_whose_field_is_renamed()
    {
        var healthy = """{"status":"healthy"}""";
        OpenApiContract.Check("GET", "/api/health", new ApiResponse(200, "application/json; charset=utf-8", new Microsoft.AspNetCore.Http.HeaderDictionary(), healthy));

        var renamed = Assert.Throws<OpenApiContractException>(() => OpenApiContract.Check(
            "GET", "/api/health", new ApiResponse(200, "application/json; charset=utf-8", new Microsoft.AspNetCore.Http.HeaderDictionary(), """{"state":"healthy"}""")));
        Assert.Contains("does not validate", renamed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_contract_refuses_a_status_route_or_media_type_it_does_not_document()
    {
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary();
        var problem = """{"type":"urn:smp:problem:not-found","title":"Not found.","status":404,"detail":"No license has this serial."}""";

        OpenApiContract.Check("GET", "/api/licenses/VT-1", new ApiResponse(404, "application/problem+json", headers, problem));
        Assert.Throws<OpenApiContractException>(() => OpenApiContract.Check("GET", "/api/health", new ApiResponse(404, "application/problem+json", headers, problem)));
        Assert.Throws<OpenApiContractException>(() => OpenApiContract.Check("GET", "/api/nothing-here", new ApiResponse(404, "application/problem+json", headers, problem)));
        Assert.Throws<OpenApiContractException>(() => OpenApiContract.Check("DELETE", "/api/licenses/VT-1", new ApiResponse(404, "application/problem+json", headers, problem)));
        Assert.Throws<OpenApiContractException>(() => OpenApiContract.Check("GET", "/api/licenses/VT-1", new ApiResponse(404, "text/html", headers, "<p>Not found</p>")));
        Assert.Throws<OpenApiContractException>(() => OpenApiContract.Check("POST", "/api/mail/3f2b8c1e-6a4d-4c1b-9a51-0c6f1f0f7a11/retry", new ApiResponse(202, "application/json", headers, "{}")));
    }

    [Theory]
    [InlineData("""{"type":"urn:smp:problem:validation","title":"The request is not valid.","status":400,"detail":"1 field is not valid: 'serial'."}""")]
    [InlineData("""{"type":"urn:smp:problem:validation","title":"The request is not valid.","status":400,"detail":"x","errors":{"serial":["bad"]},"traceId":"1"}""")]
    public void A_validation_problem_has_exactly_its_fields(string body)
    {
        Assert.False(OpenApiContract.ValidateComponent("ValidationProblem", body).IsValid);
    }

    [Theory]
    [InlineData("Email", "\"no-at-sign.example.com\"")]
    [InlineData("Health", "{\"status\":\"sick\"}")]
    [InlineData("Update", "{\"version\":\"1.96\",\"releasedOn\":\"2026-02-30\",\"hasPassword\":true,\"publishedAt\":\"2026-03-20T16:00:00Z\"}")]
    [InlineData("Update", "{\"version\":\"1.96\",\"releasedOn\":\"2026-03-16\",\"hasPassword\":true,\"publishedAt\":\"2026-03-20\"}")]
    [InlineData("Mail", "{\"id\":\"not-a-guid\",\"kind\":\"reminder\",\"status\":\"failed\",\"subject\":\"s\",\"to\":[\"a@example.com\"],\"attempts\":8,\"createdAt\":\"2028-01-02T14:00:00Z\"}")]
    [InlineData("Mail", "{\"id\":\"93878a3d-49ad-3c3e-6662-bb699c450f11\",\"kind\":\"fax\",\"status\":\"failed\",\"subject\":\"s\",\"to\":[\"a@example.com\"],\"attempts\":8,\"createdAt\":\"2028-01-02T14:00:00Z\"}")]
    public void Formats_and_enumerations_are_checked(string component, string json)
    {
        Assert.False(OpenApiContract.ValidateComponent(component, json).IsValid, $"{component} accepted {json}");
    }

    [Fact]
    public void A_literal_route_segment_wins_over_a_parameter()
    {
        Assert.Equal("/updates/{version}/password", OpenApiContract.TemplateOf("/api/updates/1.96/password", "GET"));
        Assert.Equal("/updates/{version}", OpenApiContract.TemplateOf("/api/updates/1.96", "PUT"));
        Assert.Equal("/licenses/{serial}/training", OpenApiContract.TemplateOf("/api/licenses/VT-1/training", "POST"));
        Assert.Equal("/openapi.json", OpenApiContract.TemplateOf("/api/openapi.json", "GET"));
        Assert.Null(OpenApiContract.TemplateOf("/api/nothing-here", "GET"));
        Assert.Null(OpenApiContract.TemplateOf("/health", "GET"));
    }

    private static IEnumerable<(string Name, string Route, string[] Methods, string AuthLevel)> HttpFunctions() =>
        from function in FunctionMetadataTests.Functions()
        from binding in function.GetProperty("bindings").EnumerateArray()
        where binding.GetProperty("type").GetString() == "httpTrigger"
        // The document describes /api (its server URL); the console's HTML pages live beside it at /console.
        let route = binding.GetProperty("route").GetString()!
        where route.StartsWith("api/", StringComparison.Ordinal)
        select (
            function.GetProperty("name").GetString()!,
            route["api/".Length..],
            binding.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant()).ToArray(),
            binding.GetProperty("authLevel").GetString()!);

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SmpFunctions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (SmpFunctions.sln) was not found above the test output.");
    }
}
