using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task One_unreadable_license_is_named_and_stepped_past_by_the_expiring_report_and_left_out_of_the_customer_listing()
    {
        var unreadable = new FailReadsOf("VT-U2");
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton(_ =>
        {
            var options = new TableClientOptions();
            options.Retry.MaxRetries = 0;
            options.AddPolicy(unreadable, global::Azure.Core.HttpPipelinePosition.PerCall);
            return new TableServiceClient(azurite.ConnectionString, options);
        }));
        foreach (var serial in new[] { "VT-U1", "VT-U2", "VT-U3" })
        {
            Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(serial: serial, customerId: "C-U"))).Status); // all expire 2026-05-01
        }

        unreadable.Active = true;

        // Pages of two: the unreadable license is named in the page that reached it, and the next page starts after it.
        var first = await GetAsync(api, "ExpiringReport", "/api/reports/expiring", "from=2026-05-01&to=2026-05-01&limit=2", r => api.Function<ReportFunctions>().ExpiringReport(r, ApiHarness.Context("ExpiringReport")));
        Assert.Equal(200, first.Status);
        var seen = first.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()).ToList();
        var named = first.Json().TryGetProperty("unreadable", out var list) ? list.EnumerateArray().Select(e => e.GetString()).ToList() : [];
        var query = first.Json().TryGetProperty("continuationToken", out var token) ? token.GetString() : null;
        while (query is not null)
        {
            var next = await GetAsync(api, "ExpiringReport", "/api/reports/expiring", "from=2026-05-01&to=2026-05-01&limit=2&continuationToken=" + query, r => api.Function<ReportFunctions>().ExpiringReport(r, ApiHarness.Context("ExpiringReport")));
            Assert.Equal(200, next.Status);
            seen.AddRange(next.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
            named.AddRange(next.Json().TryGetProperty("unreadable", out var more) ? more.EnumerateArray().Select(e => e.GetString()) : []);
            query = next.Json().TryGetProperty("continuationToken", out var t) ? t.GetString() : null;
        }

        Assert.Equal(["VT-U1", "VT-U3"], seen);
        Assert.Equal(["VT-U2"], named);

        var customer = await GetAsync(api, "ListCustomerLicenses", "/api/customers/C-U/licenses", null, r => api.Function<ReportFunctions>().ListCustomerLicenses(r, "C-U", ApiHarness.Context("ListCustomerLicenses")));
        Assert.Equal(200, customer.Status);
        Assert.Equal(["VT-U1", "VT-U3"], customer.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
        Assert.Equal(["VT-U2"], customer.Json().GetProperty("unreadable").EnumerateArray().Select(e => e.GetString()));
    }

    private static async Task<ApiResponse> GetAsync(ApiHarness api, string name, string path, string? query, Func<Microsoft.AspNetCore.Http.HttpRequest, Task<Microsoft.AspNetCore.Mvc.IActionResult>> function)
    {
        var request = api.Request("GET", path, query: query);
        return await ApiHarness.ExecuteAsync(request, await function(request));
    }

    /// <summary>While active, every read of one license's record fails as storage answers when it is unavailable.</summary>
    internal sealed class FailReadsOf(string serial) : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        public volatile bool Active;

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            var uri = Uri.UnescapeDataString(message.Request.Uri.ToString());
            if (Active && message.Request.Method == global::Azure.Core.RequestMethod.Get
                && uri.Contains("licenses", StringComparison.Ordinal) && uri.Contains($"PartitionKey='{serial}'", StringComparison.Ordinal))
            {
                throw new global::Azure.RequestFailedException(503, "The server is currently unable to receive requests.");
            }

            await ProcessNextAsync(message, pipeline);
        }
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
