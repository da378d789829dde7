using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>Every bad input of SPEC section 3 is a 400 problem naming the field, and nothing is stored.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ValidationApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    private const string Valid = """
        {"serial":"VT-9","customer":{"id":"C-1","name":"Acme"},"contacts":["a@example.com"],"onSiteTraining":false,"activationEmailSentAt":"2026-03-14T10:00:00-06:00"}
        """;

    public static TheoryData<string, string> BadActivations => new()
    {
        { "{\"serial\":", "body" },                                                            // malformed JSON
        { "[1,2]", "body" },                                                                   // not an object
        { "", "body" },                                                                        // empty
        { Valid.Replace("\"onSiteTraining\":false", "\"onSiteTraining\":\"no\"", StringComparison.Ordinal), "onSiteTraining" },   // wrong type
        { Valid.Replace("\"serial\":\"VT-9\"", "\"serial\":9", StringComparison.Ordinal), "serial" },
        { Valid.Replace("\"contacts\":[\"a@example.com\"]", "\"contacts\":\"a@example.com\"", StringComparison.Ordinal), "contacts" },
        { Valid.Replace("\"customer\":{\"id\":\"C-1\",\"name\":\"Acme\"}", "\"customer\":{\"id\":\"C-1\"}", StringComparison.Ordinal), "customer.name" }, // missing nested
        { Valid.Replace("\"serial\":\"VT-9\",", "", StringComparison.Ordinal), "serial" },     // missing
        { Valid.Replace(",\"onSiteTraining\":false", "", StringComparison.Ordinal), "onSiteTraining" },
        { Valid.Replace(",\"activationEmailSentAt\":\"2026-03-14T10:00:00-06:00\"", "", StringComparison.Ordinal), "activationEmailSentAt" },
        { Valid.Replace("a@example.com", "not-an-email", StringComparison.Ordinal), "contacts[0]" },             // invalid email
        { Valid.Replace("a@example.com", "Name <a@example.com>", StringComparison.Ordinal), "contacts[0]" },
        { Valid.Replace("[\"a@example.com\"]", "[\"a@example.com\",\"b@localhost\"]", StringComparison.Ordinal), "contacts[1]" },
        { Valid.Replace("[\"a@example.com\"]", "[\"a@example.com\",\"A@example.com\"]", StringComparison.Ordinal), "contacts[1]" },
        { Valid.Replace("[\"a@example.com\"]", "[]", StringComparison.Ordinal), "contacts" },
        { Valid.Replace("VT-9", "VT/9", StringComparison.Ordinal), "serial" },                 // forbidden key characters
        { Valid.Replace("VT-9", "VT\\\\9", StringComparison.Ordinal), "serial" },
        { Valid.Replace("VT-9", "VT#9", StringComparison.Ordinal), "serial" },
        { Valid.Replace("VT-9", "VT?9", StringComparison.Ordinal), "serial" },
        { Valid.Replace("VT-9", "VT\\u00009", StringComparison.Ordinal), "serial" },           // control characters
        { Valid.Replace("VT-9", "VT\\u001f9", StringComparison.Ordinal), "serial" },
        { Valid.Replace("VT-9", new string('A', 33), StringComparison.Ordinal), "serial" },
        { Valid.Replace("2026-03-14T10:00:00-06:00", "2026-03-14", StringComparison.Ordinal), "activationEmailSentAt" },        // no time/offset
        { Valid.Replace("2026-03-14T10:00:00-06:00", "2026-03-14T10:00:00", StringComparison.Ordinal), "activationEmailSentAt" },
        { Valid.Replace("2026-03-14T10:00:00-06:00", "2027-03-14T10:00:00Z", StringComparison.Ordinal), "activationEmailSentAt" },  // future
        { Valid.Replace("\"serial\"", "\"serail\"", StringComparison.Ordinal), "serail" },     // unknown field
        { Valid.Replace("\"customer\":{\"id\":\"C-1\"", "\"customer\":{\"id\":\"C-1\\u0007\"", StringComparison.Ordinal), "customer.id" },
        { Valid.TrimEnd().TrimEnd('}') + ",\"serial\":\"VT-10\"}", "body" },                  // duplicate property
        { Valid.Replace("\"name\":\"Acme\"", "\"name\":\"\\u200e\"", StringComparison.Ordinal), "customer.name" },   // only an invisible mark: nothing to mail
        { Valid.Replace("\"name\":\"Acme\"", "\"name\":\" \\u202e\\u2066 \"", StringComparison.Ordinal), "customer.name" },
        { Valid.Replace("\"id\":\"C-1\"", "\"id\":\"\\u200f\"", StringComparison.Ordinal), "customer.id" },
        { Valid.Replace("\"serial\":\"VT-9\"", "\"serial\":\"VT-9\",\"product\":\"\\u061c\"", StringComparison.Ordinal), "product" },
    };

    [Theory]
    [MemberData(nameof(BadActivations))]
    public async Task A_bad_activation_is_a_400_naming_the_field_and_stores_nothing(string body, string field)
    {
        var response = await ActivationApiTests.ActivateAsync(_api, body);

        AssertProblem(response, field);
        Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-9")).Status);
        Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-10")).Status);
    }

    [Fact]
    public async Task An_oversize_body_is_a_400_and_stores_nothing()
    {
        var padding = new string(' ', 64 * 1024);
        var response = await ActivationApiTests.ActivateAsync(_api, Valid.Replace("{", "{" + padding, StringComparison.Ordinal));

        AssertProblem(response, "body");
        Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-9")).Status);
    }

    [Fact]
    public async Task An_oversize_body_without_a_content_length_is_still_refused()
    {
        var request = _api.Request("POST", "/api/activations", Valid.Replace("{", "{" + new string(' ', 70_000), StringComparison.Ordinal));
        request.ContentLength = null;
        var result = await _api.Function<ActivationFunctions>().RecordActivation(request, ApiHarness.Context("RecordActivation"));

        AssertProblem(await ApiHarness.ExecuteAsync(request, result), "body");
    }

    public static TheoryData<string, string> BadRenewals => new()
    {
        { "{}", "orderReference" },
        { "{\"orderReference\":\"\"}", "orderReference" },
        { "{\"orderReference\":42}", "orderReference" },
        { "{\"orderReference\":\"SO-1\",\"months\":0}", "months" },
        { "{\"orderReference\":\"SO-1\",\"months\":61}", "months" },
        { "{\"orderReference\":\"SO-1\",\"months\":1.5}", "months" },
        { "{\"orderReference\":\"SO-1\",\"months\":\"12\"}", "months" },
        { "{\"orderReference\":\"SO-1\",\"paidAt\":\"yesterday\"}", "paidAt" },
        { "{\"orderReference\":\"" + new string('X', 65) + "\"}", "orderReference" },
        { "not json", "body" },
    };

    [Theory]
    [MemberData(nameof(BadRenewals))]
    public async Task A_bad_renewal_is_a_400_naming_the_field_and_changes_nothing(string body, string field)
    {
        await ActivationApiTests.ActivateAsync(_api, Valid);

        var response = await LicenseApiTests.RenewAsync(_api, "VT-9", body);

        AssertProblem(response, field);
        var license = (await LicenseApiTests.GetAsync(_api, "VT-9")).Json();
        Assert.Equal(1, license.GetProperty("version").GetInt64());
        Assert.Single(license.GetProperty("terms").EnumerateArray());
    }

    [Theory]
    [InlineData("VT/9")]
    [InlineData("VT#9")]
    [InlineData("VT?9")]
    [InlineData("VT\\9")]
    [InlineData("VT\u00019")]
    [InlineData("")]
    public async Task A_bad_serial_in_the_route_is_a_400(string serial)
    {
        var response = await LicenseApiTests.GetAsync(_api, serial);

        AssertProblem(response, "serial");
    }

    [Theory]
    [InlineData("{\"contacts\":[]}", "contacts")]
    [InlineData("{\"contacts\":[\"x\"]}", "contacts[0]")]
    [InlineData("{}", "contacts")]
    [InlineData("{\"contacts\":[\"a@example.com\"],\"extra\":1}", "extra")]
    public async Task Bad_contacts_are_a_400_and_change_nothing(string body, string field)
    {
        await ActivationApiTests.ActivateAsync(_api, Valid);

        AssertProblem(await LicenseApiTests.ContactsAsync(_api, "VT-9", body), field);
        Assert.Equal(1, (await LicenseApiTests.GetAsync(_api, "VT-9")).Json().GetProperty("version").GetInt64());
    }

    [Theory]
    [InlineData("activationEmailSentAt", "\\u0000")]
    [InlineData("paidAt", "\\u0000")]
    [InlineData("releasedOn", "\\u0000")]
    [InlineData("releasedOn", "\\u0001")]
    [InlineData("from", "%00")]
    [InlineData("to", "%00")]
    public async Task Section3_every_date_field_refuses_a_trailing_control_character_and_writes_nothing(string field, string trailer)
    {
        await ActivationApiTests.ActivateAsync(_api, Valid);
        ApiResponse response;
        switch (field)
        {
            case "activationEmailSentAt":
                response = await ActivationApiTests.ActivateAsync(_api, Valid.Replace("VT-9", "VT-10", StringComparison.Ordinal).Replace("-06:00\"", "-06:00" + trailer + "\"", StringComparison.Ordinal));
                Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-10")).Status);
                break;
            case "paidAt":
                response = await LicenseApiTests.RenewAsync(_api, "VT-9", "{\"orderReference\":\"SO-1\",\"paidAt\":\"2026-03-19T12:00:00Z" + trailer + "\"}");
                Assert.Single((await LicenseApiTests.GetAsync(_api, "VT-9")).Json().GetProperty("terms").EnumerateArray());
                break;
            case "releasedOn":
                response = await UpdateApi.PublishAsync(_api, "1.96", "{\"releasedOn\":\"2026-03-16" + trailer + "\"}");
                Assert.Null(await _api.Services.GetRequiredService<IUpdateStore>().GetAsync(UpdateVersion.Parse("1.96"), CancellationToken.None));
                break;
            default:
                var query = field == "from" ? "from=2026-05-01" + trailer + "&to=2026-06-01" : "from=2026-05-01&to=2026-06-01" + trailer;
                var request = _api.Request("GET", "/api/reports/expiring", query: query);
                response = await ApiHarness.ExecuteAsync(request, await _api.Function<ReportFunctions>().ExpiringReport(request, ApiHarness.Context("ExpiringReport")));
                break;
        }

        AssertProblem(response, field);
    }

    private static void AssertProblem(ApiResponse response, string field)
    {
        Assert.True(response.Status == 400, response.ToString());
        Assert.Equal("application/problem+json", response.MediaType);
        var problem = response.Json();
        Assert.Equal("urn:smp:problem:validation", problem.GetProperty("type").GetString());
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"No error for '{field}' in {response.Body}");
        Assert.NotEqual(0, messages.GetArrayLength());
    }
}
