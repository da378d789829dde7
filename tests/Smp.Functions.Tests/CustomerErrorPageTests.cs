using Azure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Smp.Core.Links;
using NSubstitute;
using Smp.Functions.Functions;
using Smp.Functions.Hosting;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5: a customer who opens a link in a browser gets the error answers of the customer routes as small
/// HTML pages with the way forward; an API client gets problem documents. "Prefers HTML" follows the q-values of
/// the Accept header (RFC 9110, section 12.5.1). Every customer answer carries Strict-Transport-Security.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CustomerErrorPageTests(AzuriteFixture azurite) : IDisposable
{
    private const string Browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    private const string FormContentType = "application/x-www-form-urlencoded";
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    private async Task<Uri> GivenAGenuineLinkAsync()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api);
        return await UpdateApi.LinkAsync(_api);
    }

    [Fact]
    public async Task Spec5_a_browser_opening_an_expired_link_gets_a_410_page_with_a_form_that_asks_for_a_new_link()
    {
        var link = await GivenAGenuineLinkAsync();
        _api.Clock.AdvanceDays(LinkOptions.DefaultValidityDays);

        var response = await UpdateApi.OpenAsync(_api, link, accept: Browser);

        Assert.Equal(410, response.Status);
        Assert.Equal("text/html", response.MediaType);
        Assert.StartsWith("<!DOCTYPE html>", response.Body, StringComparison.Ordinal);
        Assert.Contains("<form method=\"post\" action=\"/api/password-requests\">", response.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"serial\" value=\"VT-1001\"", response.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"version\" value=\"1.96\"", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(UpdateApi.Password, response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", response.Body, StringComparison.OrdinalIgnoreCase);
        PasswordApiTests.AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task Spec5_a_browser_opening_a_changed_link_gets_a_403_page_with_a_link_to_ask_for_a_new_one_that_is_the_same_whether_the_serial_exists()
    {
        var link = await GivenAGenuineLinkAsync();
        var query = QueryHelpers.ParseQuery(link.Query).ToDictionary(q => q.Key, q => q.Value.ToString());
        query["sig"] = (query["sig"][0] == 'A' ? "B" : "A") + query["sig"][1..];
        var known = await UpdateApi.GetPasswordAsync(_api, "1.96", QueryString(query), accept: Browser);
        query["serial"] = "VT-9999";
        var unknown = await UpdateApi.GetPasswordAsync(_api, "1.96", QueryString(query), accept: Browser);

        Assert.Equal(403, known.Status);
        Assert.Equal("text/html", known.MediaType);
        Assert.Contains("href=\"/api/password-requests?serial=VT-1001&amp;version=1.96\"", known.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(query["sig"], known.Body, StringComparison.Ordinal);
        Assert.Equal(403, unknown.Status);
        Assert.Equal(known.Body.Replace("VT-1001", "VT-9999", StringComparison.Ordinal), unknown.Body);
        PasswordApiTests.AssertCustomerHeaders(known);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*/*")]
    [InlineData("application/json")]
    [InlineData("application/problem+json, text/html;q=0.9")]
    [InlineData("application/json, text/html;q=0.5")]
    [InlineData("text/html;q=0, */*")]
    [InlineData("application/*, text/*;q=0.2")]
    public async Task Spec5_a_client_that_does_not_prefer_html_gets_a_problem_document(string? accept)
    {
        var link = await GivenAGenuineLinkAsync();
        _api.Clock.AdvanceDays(LinkOptions.DefaultValidityDays);

        var response = await UpdateApi.OpenAsync(_api, link, accept: accept);

        Assert.Equal(410, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("urn:smp:problem:link-expired", response.Json().GetProperty("type").GetString());
        PasswordApiTests.AssertCustomerHeaders(response);
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("text/html, application/json;q=0.9")]
    [InlineData("text/*, application/json;q=0.5")]
    public async Task Spec5_a_client_that_prefers_html_by_q_value_gets_the_page(string accept)
    {
        var link = await GivenAGenuineLinkAsync();
        _api.Clock.AdvanceDays(LinkOptions.DefaultValidityDays);

        var response = await UpdateApi.OpenAsync(_api, link, accept: accept);

        Assert.Equal(410, response.Status);
        Assert.Equal("text/html", response.MediaType);
    }

    [Fact]
    public async Task Spec5_a_browser_posting_a_bad_term_form_gets_a_400_page_naming_the_field_and_the_way_back()
    {
        var request = _api.Request("POST", "/api/term-requests", "serial=VT%201001", contentType: FormContentType);
        request.Headers.Accept = Browser;
        var response = await _api.InvokeAsync(request, "RequestTerm", c => _api.Function<CustomerRequestFunctions>().RequestTerm(request, c));

        Assert.Equal(400, response.Status);
        Assert.Equal("text/html", response.MediaType);
        Assert.Contains("serial", response.Body, StringComparison.Ordinal);
        Assert.Contains("reply to any of our emails", response.Body, StringComparison.Ordinal);
        PasswordApiTests.AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task Spec5_a_browser_opening_the_new_link_page_with_a_bad_serial_gets_a_400_page()
    {
        var request = _api.Request("GET", "/api/password-requests", query: "serial=VT%2F1&version=1.96");
        request.Headers.Accept = Browser;
        var response = await _api.InvokeAsync(request, "PasswordRequestPage", () => PasswordFunctions.PasswordRequestPage(request));

        Assert.Equal(400, response.Status);
        Assert.Equal("text/html", response.MediaType);
        Assert.Contains("serial", response.Body, StringComparison.Ordinal);
        PasswordApiTests.AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task Spec5_a_form_post_that_ranks_json_below_html_gets_the_page_not_json()
    {
        await GivenAGenuineLinkAsync();
        var request = _api.Request("POST", "/api/password-requests", "serial=VT-1001&version=1.96", contentType: FormContentType);
        request.Headers.Accept = "text/html, application/json;q=0.1";
        var response = await _api.InvokeAsync(request, "RequestPasswordLink", c => _api.Function<PasswordFunctions>().RequestPasswordLink(request, c));

        Assert.Equal(202, response.Status);
        Assert.Equal("text/html", response.MediaType);
    }

    [Fact]
    public async Task Spec5_customer_answers_carry_strict_transport_security()
    {
        var link = await GivenAGenuineLinkAsync();

        var response = await UpdateApi.OpenAsync(_api, link, accept: Browser);

        Assert.Equal(200, response.Status);
        Assert.StartsWith("max-age=", response.Headers.StrictTransportSecurity.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spec5_a_browser_opening_a_link_past_its_reveals_for_the_day_gets_a_429_page_with_a_link_to_ask_for_a_new_one()
    {
        var link = await GivenAGenuineLinkAsync();
        ApiResponse response;
        var opened = 0;
        do
        {
            response = await UpdateApi.OpenAsync(_api, link, accept: Browser, forwardedFor: $"203.0.113.{opened}");
            opened++;
        }
        while (response.Status == 200 && opened < 100);

        Assert.Equal(429, response.Status);
        Assert.Equal("text/html", response.MediaType);
        Assert.StartsWith("<!DOCTYPE html>", response.Body, StringComparison.Ordinal);
        Assert.Contains("href=\"/api/password-requests?serial=VT-1001&amp;version=1.96\"", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(UpdateApi.Password, response.Body, StringComparison.Ordinal);
        PasswordApiTests.AssertCustomerHeaders(response);

        var api = await UpdateApi.OpenAsync(_api, link, accept: "application/json", forwardedFor: "203.0.113.200");
        Assert.Equal(429, api.Status);
        Assert.Equal("application/problem+json", api.MediaType);
        PasswordApiTests.AssertCustomerHeaders(api);
    }

    public static TheoryData<string, string, string> CustomerRoutes => new()
    {
        { "GetUpdatePassword", "GET", "/api/updates/1.96/password" },
        { "RequestPasswordLink", "POST", "/api/password-requests" },
        { "PasswordRequestPage", "GET", "/api/password-requests" },
        { "TermRequestPage", "GET", "/api/term-requests" },
        { "RequestTerm", "POST", "/api/term-requests" },
        { "QuoteRequestPage", "GET", "/api/quote-requests" },
        { "RequestQuote", "POST", "/api/quote-requests" },
    };

    [Theory]
    [MemberData(nameof(CustomerRoutes))]
    public async Task Spec5_a_browser_gets_the_503_of_a_storage_outage_on_a_customer_route_as_a_page_and_an_api_client_as_a_problem(string function, string method, string path)
    {
        foreach (var (accept, mediaType) in new[] { (Browser, "text/html"), ("application/json", "application/problem+json") })
        {
            var request = _api.Request(method, path);
            request.Headers.Accept = accept;

            var response = await _api.InvokeAsync(request, function, _ => throw new RequestFailedException(503, "Server busy"));

            Assert.Equal(503, response.Status);
            Assert.StartsWith(mediaType, response.ContentType, StringComparison.Ordinal);
            var body = response.Body;
            if (mediaType == "text/html")
            {
                Assert.StartsWith("<!DOCTYPE html>", body, StringComparison.Ordinal);
                Assert.Contains("Retry", body, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("urn:smp:problem:unavailable", body, StringComparison.Ordinal);
            }

            PasswordApiTests.AssertCustomerHeaders(response);
        }
    }

    [Fact]
    public void Spec5_every_anonymous_route_but_health_and_the_api_document_is_a_customer_route_with_pages_for_browsers()
    {
        var anonymous = typeof(PasswordFunctions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetParameters().Any(p => p.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.HttpTriggerAttribute), false)
                .Cast<Microsoft.Azure.Functions.Worker.HttpTriggerAttribute>().Any(a => a.AuthLevel == Microsoft.Azure.Functions.Worker.AuthorizationLevel.Anonymous)))
            .Select(m => ((Microsoft.Azure.Functions.Worker.FunctionAttribute)m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Single()).Name)
            .Where(name => name is not "Health" and not "GetOpenApiDocument")
            // The staff console is anonymous to the host only: the app signs its people in (SPEC section 7); ConsoleTests cover it.
            .Where(name => !name.StartsWith(ConsoleFunctions.NamePrefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.Equal(anonymous, Smp.Functions.Http.CustomerResponses.CustomerFunctions.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Spec5_a_staff_route_keeps_its_problem_document_for_a_browser_too()
    {
        var request = _api.Request("GET", "/api/licenses/VT-1001");
        request.Headers.Accept = Browser;
        var context = ApiHarness.Context("GetLicense");
        context.Items.Returns(new Dictionary<object, object> { ["HttpRequestContext"] = request.HttpContext });

        await new HttpFaultMiddleware(NullLogger<HttpFaultMiddleware>.Instance).Invoke(context, _ => throw new RequestFailedException(503, "Server busy"));

        Assert.Equal(503, request.HttpContext.Response.StatusCode);
        Assert.StartsWith("application/problem+json", request.HttpContext.Response.ContentType, StringComparison.Ordinal);
    }

    private static string QueryString(Dictionary<string, string> query) =>
        string.Join('&', query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
}
