using System.Text.Json;
using NodaTime;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ActivationApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    internal static string ActivationBody(string serial = "VT-1001", bool training = false, string sentAt = "2026-03-14T10:00:00-06:00", string customerId = "C-42", string contacts = "[\"buyer@example.com\",\"cad@example.com\"]") =>
        $$"""
        {"serial":"{{serial}}","product":"VTube-LASER","customer":{"id":"{{customerId}}","name":"Acme Tube Works"},
         "contacts":{{contacts}},"onSiteTraining":{{(training ? "true" : "false")}},"activationEmailSentAt":"{{sentAt}}"}
        """;

    internal static async Task<ApiResponse> ActivateAsync(ApiHarness api, string body)
    {
        var request = api.Request("POST", "/api/activations", body);
        var result = await api.Function<ActivationFunctions>().RecordActivation(request, ApiHarness.Context("RecordActivation"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    [Fact]
    public async Task A_new_activation_is_201_with_the_license_document_and_its_location()
    {
        var response = await ActivateAsync(_api, ActivationBody(serial: " vt-1001 "));

        Assert.Equal(201, response.Status);
        Assert.StartsWith("application/json", response.ContentType);
        Assert.Equal("/api/licenses/VT-1001", response.Headers.Location.ToString());
        var license = response.Json();
        Assert.Equal("VT-1001", license.GetProperty("serial").GetString());
        Assert.Equal("VTube-LASER", license.GetProperty("product").GetString());
        Assert.Equal("C-42", license.GetProperty("customer").GetProperty("id").GetString());
        Assert.Equal(["buyer@example.com", "cad@example.com"], license.GetProperty("contacts").EnumerateArray().Select(c => c.GetString()));
        Assert.False(license.GetProperty("onSiteTraining").GetBoolean());
        Assert.Equal("current", license.GetProperty("status").GetString());
        Assert.Equal("2026-05-01", license.GetProperty("expiresOn").GetString());
        var term = Assert.Single(license.GetProperty("terms").EnumerateArray());
        Assert.Equal("initial", term.GetProperty("kind").GetString());
        Assert.Equal("2026-04-01", term.GetProperty("start").GetString());
        Assert.Equal("2026-05-01", term.GetProperty("end").GetString());
        Assert.Equal(30, term.GetProperty("days").GetInt32());
        Assert.False(term.TryGetProperty("months", out _));
        Assert.Equal("activation", term.GetProperty("source").GetString());
    }

    [Fact]
    public async Task An_identical_repeat_is_200_with_the_same_license_and_no_second_event()
    {
        var first = await ActivateAsync(_api, ActivationBody());
        var repeat = await ActivateAsync(_api, ActivationBody(contacts: "[\"cad@example.com\",\"BUYER@example.com\"]"));

        Assert.Equal(201, first.Status);
        Assert.Equal(200, repeat.Status);
        Assert.Equal(first.Json().GetProperty("expiresOn").GetString(), repeat.Json().GetProperty("expiresOn").GetString());
        var events = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json().GetProperty("events");
        Assert.Equal("activated", Assert.Single(events.EnumerateArray()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_same_serial_with_different_data_is_a_409_problem_and_changes_nothing()
    {
        await ActivateAsync(_api, ActivationBody());
        var conflict = await ActivateAsync(_api, ActivationBody(training: true));

        Assert.Equal(409, conflict.Status);
        Assert.Equal("application/problem+json", conflict.MediaType);
        Assert.Equal(409, conflict.Json().GetProperty("status").GetInt32());
        var license = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json();
        Assert.False(license.GetProperty("onSiteTraining").GetBoolean());
        Assert.Single(license.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task R2_the_business_zone_decides_the_start_not_utc()
    {
        // 2026-03-31T23:30-06:00 is already 1 April in UTC; in Denver it is still 31 March.
        _api.Clock.Reset(Instant.FromUtc(2026, 4, 2, 12, 0));
        var response = await ActivateAsync(_api, ActivationBody(training: true, sentAt: "2026-03-31T23:30-06:00"));

        var term = response.Json().GetProperty("terms")[0];
        Assert.Equal("2026-04-01", term.GetProperty("start").GetString());
        Assert.Equal("2027-04-01", term.GetProperty("end").GetString());
        Assert.Equal(12, term.GetProperty("months").GetInt32());
    }

    [Fact]
    public async Task Twenty_concurrent_identical_activations_store_one_license_and_one_event()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => ActivateAsync(_api, ActivationBody(serial: "VT-RACE")))));

        Assert.Equal(1, responses.Count(r => r.Status == 201));
        Assert.Equal(19, responses.Count(r => r.Status == 200));
        var license = (await LicenseApiTests.GetAsync(_api, "VT-RACE")).Json();
        Assert.Single(license.GetProperty("events").EnumerateArray());
        Assert.Equal(1, license.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task The_activation_event_records_actor_instant_and_correlation_id()
    {
        var request = _api.Request("POST", "/api/activations", ActivationBody());
        request.Headers["x-correlation-id"] = "mailflow-7781";
        var result = await _api.Function<ActivationFunctions>().RecordActivation(request, ApiHarness.Context("RecordActivation"));
        await ApiHarness.ExecuteAsync(request, result);

        var activated = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json().GetProperty("events")[0];
        Assert.Equal("activated", activated.GetProperty("type").GetString());
        Assert.Equal("RecordActivation", activated.GetProperty("actor").GetString());
        Assert.Equal("mailflow-7781", activated.GetProperty("correlationId").GetString());
        Assert.Equal("2026-03-20T16:00:00Z", activated.GetProperty("at").GetString());
        Assert.Equal("2026-05-01", activated.GetProperty("expiresOn").GetString());
        Assert.False(activated.TryGetProperty("data", out _)); // the facts sit beside type, at, actor and correlationId
    }

    internal static JsonElement Errors(ApiResponse response) => response.Json().GetProperty("errors");
}
