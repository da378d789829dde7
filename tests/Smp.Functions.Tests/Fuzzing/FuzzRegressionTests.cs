using NodaTime;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// The smallest inputs behind each fault the route fuzzing found, kept as plain tests: every one of them
/// once escaped as an exception (a 500) or left rows behind.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FuzzRegressionTests(AzuriteFixture azurite) : IDisposable
{
    private readonly ApiHarness _api = new(azurite.ConnectionString, Instant.FromUtc(2026, 3, 20, 16, 0));

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Invalid_UTF8_inside_a_string_is_a_400_not_a_500()
    {
        var response = await ActivateAsync([.. "{\"serial\":\"A"u8, 0xFF, .. "\"}"u8]);

        AssertBadRequest(response, "body");
    }

    [Fact]
    public async Task An_escaped_lone_surrogate_in_a_value_is_a_400_naming_the_field()
    {
        var response = await ActivateAsync("{\"serial\":\"\\ud800\"}"u8.ToArray());

        AssertBadRequest(response, "serial");
    }

    [Fact]
    public async Task An_escaped_lone_surrogate_in_a_member_name_is_a_400()
    {
        var response = await ActivateAsync("{\"\\ud800\":1}"u8.ToArray());

        AssertBadRequest(response, "body");
    }

    [Fact]
    public async Task A_NUL_after_an_instant_is_a_400()
    {
        var response = await LicenseApiTests.RenewAsync(_api, "FZ-1", """{"orderReference":"SO-9","paidAt":"2026-03-14T10:00:00Z\u0000"}""");

        AssertBadRequest(response, "paidAt");
    }

    [Fact]
    public async Task A_NUL_after_a_report_date_is_a_400()
    {
        var request = _api.Request("GET", "/api/reports/expiring", query: "from=2026-05-01%00&to=2026-05-01");
        var result = await _api.Function<ReportFunctions>().ExpiringReport(request, ApiHarness.Context("ExpiringReport"));

        AssertBadRequest(await ApiHarness.ExecuteAsync(request, result), "from");
    }

    [Theory]
    [InlineData("-9998-01-01T00:00:00Z")]          // the business zone's date of it is before the calendar's first day
    [InlineData("-9998-01-01T00:00:00+18:00")]     // before the first instant
    [InlineData("9999-12-31T23:59:59.999999999-18:00")] // after the last instant
    public async Task An_instant_at_the_edge_of_the_calendar_is_a_400(string instant)
    {
        var activation = await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "FZ-7", sentAt: instant));
        var renewal = await LicenseApiTests.RenewAsync(_api, "FZ-7", $$"""{"orderReference":"SO-9","paidAt":"{{instant}}"}""");

        AssertBadRequest(activation, "activationEmailSentAt");
        AssertBadRequest(renewal, "paidAt");
    }

    [Fact]
    public async Task A_license_too_large_to_store_is_a_422_and_stores_nothing()
    {
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "FZ-1"))).Status);
        var tables = azurite.CreateServiceClient();
        var before = await TableSnapshot.TakeAsync(tables, _api.TablePrefix);

        var response = await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "FZ-8", contacts: LongContacts('\u00f6')));

        AssertTooLarge(response);
        Assert.Equal("", (await TableSnapshot.TakeAsync(tables, _api.TablePrefix)).DifferenceFrom(before));
    }

    [Fact]
    public async Task Contacts_whose_change_event_is_too_large_to_store_are_a_422_and_change_nothing()
    {
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "FZ-1"))).Status);
        Assert.Equal(200, (await LicenseApiTests.ContactsAsync(_api, "FZ-1", $"{{\"contacts\":{LongContacts('\u00f6')}}}")).Status);
        var tables = azurite.CreateServiceClient();
        var before = await TableSnapshot.TakeAsync(tables, _api.TablePrefix);

        // The event lists the new contacts and the previous ones: together more than one property holds.
        var response = await LicenseApiTests.ContactsAsync(_api, "FZ-1", $"{{\"contacts\":{LongContacts('\u6f22')}}}");

        AssertTooLarge(response);
        Assert.Equal("", (await TableSnapshot.TakeAsync(tables, _api.TablePrefix)).DifferenceFrom(before));
    }

    [Theory]
    [InlineData("serial=FZ-1%00")]                                           // a NUL the form reader refuses
    [InlineData("serial=FZ-1&f0=1&f1=1&f2=1&f3=1&f4=1&f5=1&f6=1&f7=1&f8=1&f9=1&f10=1&f11=1&f12=1&f13=1&f14=1&f15=1")] // past the field-count limit
    [InlineData("serial=FZ-1&kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk=1")] // a 65-character key
    public async Task A_form_the_reader_refuses_is_a_400_and_stores_nothing(string form)
    {
        var tables = azurite.CreateServiceClient();
        var before = await TableSnapshot.TakeAsync(tables, _api.TablePrefix);

        var term = _api.Request("POST", "/api/term-requests", form, contentType: "application/x-www-form-urlencoded");
        var termAnswer = await ApiHarness.ExecuteAsync(term, await _api.Function<CustomerRequestFunctions>().RequestTerm(term, ApiHarness.Context("RequestTerm")));
        var link = _api.Request("POST", "/api/password-requests", form + "&version=1.96", contentType: "application/x-www-form-urlencoded");
        var linkAnswer = await ApiHarness.ExecuteAsync(link, await _api.Function<PasswordFunctions>().RequestPasswordLink(link, ApiHarness.Context("RequestPasswordLink")));

        AssertBadRequest(termAnswer, "body");
        AssertBadRequest(linkAnswer, "body");
        Assert.Equal("", (await TableSnapshot.TakeAsync(tables, _api.TablePrefix)).DifferenceFrom(before));
    }

    [Fact]
    public async Task A_multipart_body_without_its_boundary_is_a_400()
    {
        var request = _api.Request("POST", "/api/term-requests", "{\"serial\":\"FZ-1\"}", contentType: "multipart/form-data; boundary=x");
        var response = await ApiHarness.ExecuteAsync(request, await _api.Function<CustomerRequestFunctions>().RequestTerm(request, ApiHarness.Context("RequestTerm")));

        AssertBadRequest(response, "body");
    }

    /// <summary>Twenty valid 242-character addresses with a non-ASCII local part (stored escaped, six characters each).</summary>
    private static string LongContacts(char letter) =>
        "[" + string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"{i:D2}{new string(letter, 228)}@example.com\"")) + "]";

    private static void AssertTooLarge(ApiResponse response)
    {
        Assert.True(response.Status == 422, response.ToString());
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("urn:smp:problem:too-large", response.Json().GetProperty("type").GetString());
    }

    private async Task<ApiResponse> ActivateAsync(byte[] body)
    {
        var request = _api.Request("POST", "/api/activations");
        request.Body = new MemoryStream(body);
        request.ContentLength = body.Length;
        request.ContentType = "application/json";
        var result = await _api.Function<ActivationFunctions>().RecordActivation(request, ApiHarness.Context("RecordActivation"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    private static void AssertBadRequest(ApiResponse response, string field)
    {
        Assert.True(response.Status == 400, response.ToString());
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), $"No error for '{field}' in {response.Body}");
    }
}
