using Azure;
using Microsoft.AspNetCore.Http;
using NodaTime;
using Smp.Functions.Functions;
using Smp.Functions.Hosting;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// The headers of each class of route, pinned through the app's own worker middleware (SPEC section 5): customer
/// pages and customer API answers (success, error and fault alike) carry exactly the customer headers; staff routes
/// carry none of them.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RouteHeadersTests(AzuriteFixture azurite) : IDisposable
{
    private const string Browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    private static readonly Dictionary<string, string> CustomerHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Cache-Control"] = "no-store",
        ["Pragma"] = "no-cache",
        ["X-Content-Type-Options"] = "nosniff",
        ["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ["X-Frame-Options"] = "DENY",
        ["Referrer-Policy"] = "no-referrer",
        ["X-Robots-Tag"] = "noindex, nofollow",
        ["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains",
    };

    private readonly ApiHarness _api = new(azurite.ConnectionString, Instant.FromUtc(2026, 6, 1, 18, 0));

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Spec5_a_customer_page_carries_exactly_the_customer_headers()
    {
        var request = _api.Request("GET", "/api/term-requests", query: "serial=VT-1001");
        request.Headers.Accept = Browser;

        var response = await _api.InvokeAsync(request, "TermRequestPage", () => CustomerRequestFunctions.TermRequestPage(request));

        Assert.Equal(200, response.Status);
        Assert.Equal("text/html", response.MediaType);
        Assert.Equal(CustomerHeaders, Headers(response));
    }

    [Fact]
    public async Task Spec5_a_customer_api_answer_carries_exactly_the_customer_headers()
    {
        var accepted = _api.Request("POST", "/api/password-requests", """{"serial":"VT-1001","version":"1.96"}""");
        var invalid = _api.Request("POST", "/api/password-requests", """{"serial":"<b>"}""");
        var fault = _api.Request("POST", "/api/quote-requests", """{"serial":"VT-1001"}""");

        var acceptedAnswer = await _api.InvokeAsync(accepted, "RequestPasswordLink", c => _api.Function<PasswordFunctions>().RequestPasswordLink(accepted, c));
        var invalidAnswer = await _api.InvokeAsync(invalid, "RequestPasswordLink", c => _api.Function<PasswordFunctions>().RequestPasswordLink(invalid, c));
        var faultAnswer = await _api.InvokeAsync(fault, "RequestQuote", _ => throw new RequestFailedException(503, "Server busy"));

        Assert.Equal((202, "application/json"), (acceptedAnswer.Status, acceptedAnswer.MediaType));
        Assert.Equal((400, "application/problem+json"), (invalidAnswer.Status, invalidAnswer.MediaType));
        Assert.Equal((503, "application/problem+json"), (faultAnswer.Status, faultAnswer.MediaType));
        Assert.All(new[] { acceptedAnswer, invalidAnswer, faultAnswer }, a => Assert.Equal(CustomerHeaders, Headers(a)));
    }

    [Fact]
    public async Task A_staff_api_answer_carries_none_of_the_customer_headers()
    {
        var listed = _api.Request("GET", "/api/mail", query: "status=failed");
        listed.Headers.Accept = Browser;
        var missing = _api.Request("GET", "/api/licenses/VT-1001");
        var fault = _api.Request("POST", "/api/activations", "{}");

        var listedAnswer = await _api.InvokeAsync(listed, "ListMail", c => _api.Function<MailFunctions>().ListMail(listed, c));
        var missingAnswer = await _api.InvokeAsync(missing, "GetLicense", c => _api.Function<LicenseFunctions>().GetLicense(missing, "VT-1001", c));
        var faultAnswer = await _api.InvokeAsync(fault, "RecordActivation", _ => throw new TimeoutException("storage"));

        Assert.Equal((200, "application/json"), (listedAnswer.Status, listedAnswer.MediaType));
        Assert.Equal((404, "application/problem+json"), (missingAnswer.Status, missingAnswer.MediaType));
        Assert.Equal((503, "application/problem+json"), (faultAnswer.Status, faultAnswer.MediaType));
        Assert.All(new[] { listedAnswer, missingAnswer, faultAnswer }, a => Assert.Empty(Headers(a)));
    }

    [Fact]
    public void The_app_registers_the_customer_headers_outside_the_fault_answers()
    {
        var recorder = new MiddlewareRecorder();
        recorder.UseSmpMiddleware();

        Assert.Equal(2, recorder.Middleware.Count);
        Assert.Contains(recorder.Services, s => s.ServiceType == typeof(CustomerHeadersMiddleware));
        Assert.Contains(recorder.Services, s => s.ServiceType == typeof(HttpFaultMiddleware));
        Assert.Equal(typeof(CustomerHeadersMiddleware), recorder.Services[0].ServiceType);
    }

    /// <summary>The response headers but those that describe the body.</summary>
    private static Dictionary<string, string> Headers(ApiResponse response) =>
        response.Headers
            .Where(h => h.Key is not (HeaderNames.ContentType or HeaderNames.ContentLength))
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

    private static class HeaderNames
    {
        public const string ContentType = "Content-Type";
        public const string ContentLength = "Content-Length";
    }
}
