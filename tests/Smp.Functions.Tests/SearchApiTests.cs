using NodaTime;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>Section 8, search over HTTP: <c>GET /api/search?q=...&amp;limit=...</c> with a function key.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SearchApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    private async Task<ApiResponse> SearchAsync(string query)
    {
        var request = _api.Request("GET", "/api/search", query: query);
        var result = await _api.Function<SearchFunctions>().SearchLicenses(request, ApiHarness.Context("SearchLicenses"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    private static string[] Serials(ApiResponse response) =>
        [.. response.Json().GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("serial").GetString()!)];

    [Fact]
    public async Task Section8_a_search_finds_licenses_by_serial_start_customer_id_name_word_and_contact()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-2001", customerId: "C-1", contacts: "[\"einkauf@mueller.example\"]"));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-2002", customerId: "C-2"));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "XX-9", customerId: "C-3"));

        Assert.Equal(["VT-2001", "VT-2002"], Serials(await SearchAsync("q=vt-200")));
        Assert.Equal(["VT-2002"], Serials(await SearchAsync("q=c-2")));
        Assert.Equal(["VT-2001"], Serials(await SearchAsync("q=EINKAUF%40mueller.example")));
        Assert.Equal(["VT-2001", "VT-2002", "XX-9"], Serials(await SearchAsync("q=t%C3%9Bbe")));

        var response = await SearchAsync("q=%20works%20");
        Assert.Equal(200, response.Status);
        var body = response.Json();
        Assert.Equal("works", body.GetProperty("query").GetString());
        Assert.False(body.GetProperty("more").GetBoolean());
        var first = body.GetProperty("matches")[0];
        Assert.Equal("Acme Tube Works", first.GetProperty("customer").GetProperty("name").GetString());
        Assert.Equal("2026-05-01", first.GetProperty("expiresOn").GetString());
        Assert.Equal("current", first.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Section8_a_search_lists_at_most_its_limit_and_says_there_are_more()
    {
        foreach (var serial in new[] { "VT-3001", "VT-3002", "VT-3003" })
        {
            await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: serial));
        }

        var page = await SearchAsync("q=acme&limit=2");

        Assert.Equal(2, Serials(page).Length);
        Assert.True(page.Json().GetProperty("more").GetBoolean());
    }

    [Fact]
    public async Task Section8_a_contact_change_is_searchable_at_once()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-4001"));
        await LicenseApiTests.ContactsAsync(_api, "VT-4001", """{"contacts":["new.buyer@example.com"]}""");

        Assert.Empty(Serials(await SearchAsync("q=buyer%40example.com")));
        Assert.Equal(["VT-4001"], Serials(await SearchAsync("q=new.buyer%40example.com")));
    }

    [Theory]
    [InlineData("", "q")]
    [InlineData("q=", "q")]
    [InlineData("q=%20--%20", "q")]
    [InlineData("q=a&q=b", "q")]
    [InlineData("q=acme&limit=0", "limit")]
    [InlineData("q=acme&limit=101", "limit")]
    [InlineData("q=acme&limit=x", "limit")]
    public async Task Bad_input_is_a_400_naming_the_field(string query, string field)
    {
        var response = await SearchAsync(query);

        Assert.Equal(400, response.Status);
        Assert.True(ActivationApiTests.Errors(response).TryGetProperty(field, out _), response.Body);
    }

    [Fact]
    public async Task A_query_longer_than_100_characters_is_a_400()
    {
        var response = await SearchAsync("q=" + new string('a', 101));

        Assert.Equal(400, response.Status);
        Assert.True(ActivationApiTests.Errors(response).TryGetProperty("q", out _), response.Body);
    }
}
