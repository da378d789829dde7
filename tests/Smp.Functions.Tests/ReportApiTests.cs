using NodaTime;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class ReportApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    private async Task<ApiResponse> CustomerAsync(string customerId)
    {
        var request = _api.Request("GET", $"/api/customers/{Uri.EscapeDataString(customerId)}/licenses");
        var result = await _api.Function<ReportFunctions>().ListCustomerLicenses(request, customerId, ApiHarness.Context("ListCustomerLicenses"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    private async Task<ApiResponse> ExpiringAsync(string query)
    {
        var request = _api.Request("GET", "/api/reports/expiring", query: query);
        var result = await _api.Function<ReportFunctions>().ExpiringReport(request, ApiHarness.Context("ExpiringReport"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    [Fact]
    public async Task A_customers_licenses_are_listed_with_the_customer()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-2", customerId: "ACME/1#?"));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-1", customerId: "ACME/1#?"));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-3", customerId: "OTHER"));

        var response = await CustomerAsync("ACME/1#?");

        Assert.Equal(200, response.Status);
        var body = response.Json();
        Assert.Equal("ACME/1#?", body.GetProperty("customer").GetProperty("id").GetString());
        Assert.Equal(["VT-1", "VT-2"], body.GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
    }

    [Fact]
    public async Task An_unknown_customer_is_a_404()
    {
        Assert.Equal(404, (await CustomerAsync("NOBODY")).Status);
    }

    [Fact]
    public async Task The_expiring_report_lists_plans_whose_expiry_is_in_the_inclusive_range_and_follows_renewals()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-A"));                 // expires 2026-05-01
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-B", training: true)); // expires 2027-04-01
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-C"));                 // renewed below
        await LicenseApiTests.RenewAsync(_api, "VT-C", """{"orderReference":"SO-1"}""");                              // now 2027-05-01

        var may = await ExpiringAsync("from=2026-05-01&to=2026-05-01");
        var nextYear = await ExpiringAsync("from=2027-04-01&to=2027-05-01");

        Assert.Equal(["VT-A"], may.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
        Assert.Equal(["VT-B", "VT-C"], nextYear.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
    }

    [Theory]
    [InlineData("from=2026-01-01&to=2028-01-01")]
    [InlineData("from=0001-01-01&to=9999-12-31")]
    [InlineData("from=2026-05-01&to=2127-05-01")]
    public async Task Section3_the_expiring_report_answers_any_range(string query)
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-A"));                 // expires 2026-05-01
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-B", training: true)); // expires 2027-04-01

        var response = await ExpiringAsync(query);

        Assert.Equal(200, response.Status);
        Assert.Equal(["VT-A", "VT-B"], response.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
        Assert.False(response.Json().TryGetProperty("next", out _), response.Body);
    }

    [Fact]
    public async Task Section3_a_large_expiring_report_is_paged_and_following_next_lists_every_license_once_in_order()
    {
        // Five plans: three expire together on 2026-05-01 (paging must go on inside one date), two on 2027-04-01.
        foreach (var serial in new[] { "VT-3", "VT-1", "VT-10", "VT-2" })
        {
            await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: serial, training: serial is "VT-10" or "VT-2"));
        }

        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-20"));

        var pages = new List<IReadOnlyList<string?>>();
        var query = "from=0001-01-01&to=9999-12-31&limit=2";
        for (var i = 0; i < 10 && query is not null; i++)
        {
            var response = await ExpiringAsync(query);
            Assert.Equal(200, response.Status);
            var body = response.Json();
            pages.Add([.. body.GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString())]);
            if (body.TryGetProperty("next", out var next))
            {
                var link = next.GetString()!;
                Assert.StartsWith("/api/reports/expiring?", link, StringComparison.Ordinal);
                Assert.DoesNotContain("code=", link, StringComparison.OrdinalIgnoreCase);
                Assert.Equal(
                    body.GetProperty("continuationToken").GetString(),
                    Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link[link.IndexOf('?', StringComparison.Ordinal)..])["continuationToken"].ToString());
                query = link[(link.IndexOf('?', StringComparison.Ordinal) + 1)..];
            }
            else
            {
                Assert.False(body.TryGetProperty("continuationToken", out _), response.Body);
                query = null;
            }
        }

        Assert.Equal<IReadOnlyList<string?>>([["VT-1", "VT-20"], ["VT-3", "VT-10"], ["VT-2"]], pages);
    }

    [Fact]
    public async Task Section3_a_renewal_between_pages_moves_a_license_without_repeating_the_pages_read()
    {
        foreach (var serial in new[] { "VT-1", "VT-2", "VT-3" })
        {
            await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: serial)); // all expire 2026-05-01
        }

        var first = (await ExpiringAsync("from=2026-05-01&to=2026-05-01&limit=1")).Json();
        await LicenseApiTests.RenewAsync(_api, "VT-2", """{"orderReference":"SO-1"}""");
        var rest = (await ExpiringAsync($"from=2026-05-01&to=2026-05-01&limit=5&continuationToken={first.GetProperty("continuationToken").GetString()}")).Json();

        Assert.Equal(["VT-1"], first.GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
        Assert.Equal(["VT-3"], rest.GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
    }

    [Theory]
    [InlineData("to=2026-05-01", "from")]
    [InlineData("from=2026-05-01", "to")]
    [InlineData("from=2026-13-01&to=2026-05-01", "from")]
    [InlineData("from=2026-05-02&to=2026-05-01", "to")]
    [InlineData("from=2026-01-01&to=2026-02-01&limit=0", "limit")]
    [InlineData("from=2026-01-01&to=2026-02-01&limit=101", "limit")]
    [InlineData("from=2026-01-01&to=2026-02-01&limit=ten", "limit")]
    [InlineData("from=2026-01-01&to=2026-02-01&limit=2&limit=3", "limit")]
    [InlineData("from=2026-01-01&to=2026-02-01&continuationToken=VT-1", "continuationToken")]
    [InlineData("from=2026-01-01&to=2026-02-01&continuationToken=2026-13-01_VT-1", "continuationToken")]
    [InlineData("from=2026-01-01&to=2026-02-01&continuationToken=2026-05-01_vt-1", "continuationToken")]
    [InlineData("from=2026-01-01&to=2026-02-01&continuationToken=2026-05-01_VT%2F1", "continuationToken")]
    [InlineData("from=2026-01-01&to=2026-02-01&continuationToken=2026-05-01_VT-1_X", "continuationToken")]
    [InlineData("from=2026-01-01&from=2026-01-02&to=2026-02-01", "from")]
    public async Task A_bad_report_range_is_a_400_naming_the_parameter(string query, string field)
    {
        var response = await ExpiringAsync(query);

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), response.Body);
    }
}
