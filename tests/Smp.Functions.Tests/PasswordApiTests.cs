using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Links;
using Smp.Core.Outbox;
using Smp.Core.Reminders;
using Smp.Core.Updates;
using Smp.Functions.Functions;
using Smp.Functions.Http;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>The customer side of R13: the password behind a signed link, and fresh links on request.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PasswordApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    private async Task GivenAnEntitledLicenseAndAPublishedUpdateAsync()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api);
    }

    [Fact]
    public async Task A_genuine_link_shows_the_password_on_a_small_accessible_page_that_no_one_may_store()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();

        var response = await UpdateApi.OpenAsync(_api, await UpdateApi.LinkAsync(_api), accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");

        Assert.Equal(200, response.Status);
        Assert.Equal("text/html", response.MediaType);
        Assert.Contains("charset=utf-8", response.ContentType, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("<!DOCTYPE html>", response.Body, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"en\">", response.Body, StringComparison.Ordinal);
        Assert.Contains("<title>VTube-LASER 1.96 password for license VT-1001</title>", response.Body, StringComparison.Ordinal);
        Assert.Contains("<code id=\"password\">Tube-Bend 1.96 / päss &lt;&amp;&gt; &quot;ok&quot;</code>", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", response.Body, StringComparison.OrdinalIgnoreCase);
        AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task A_client_that_asks_for_json_gets_serial_version_and_password()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();

        var response = await UpdateApi.OpenAsync(_api, await UpdateApi.LinkAsync(_api, serial: "vt-1001"), accept: "application/json");

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json", response.MediaType);
        var json = response.Json();
        Assert.Equal(["serial", "version", "password"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("VT-1001", json.GetProperty("serial").GetString());
        Assert.Equal("1.96", json.GetProperty("version").GetString());
        Assert.Equal(UpdateApi.Password, json.GetProperty("password").GetString());
        AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task Each_release_is_audited_once_per_client_and_day_with_a_hash_of_the_client_address_and_never_the_address_or_password()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();
        var link = await UpdateApi.LinkAsync(_api);

        await UpdateApi.OpenAsync(_api, link, forwardedFor: "10.0.0.4, 203.0.113.7:50432"); // the last entry is the front end's
        await UpdateApi.OpenAsync(_api, link, forwardedFor: "203.0.113.7"); // a reload, or a retry after a lost answer: the same release

        var released = (await UpdateApi.EventsAsync(_api, "VT-1001")).Where(e => e.GetProperty("type").GetString() == "passwordReleased").ToList();
        Assert.Single(released);
        await UpdateApi.OpenAsync(_api, link, forwardedFor: "198.51.100.23");
        Assert.Equal(2, (await UpdateApi.EventsAsync(_api, "VT-1001")).Count(e => e.GetProperty("type").GetString() == "passwordReleased"));
        var expectedHash = await _api.Services.GetRequiredService<ClientAddressHasher>().HashAsync("203.0.113.7", CancellationToken.None);
        Assert.All(released, e =>
        {
            var data = e;
            Assert.Equal("1.96", data.GetProperty("version").GetString());
            Assert.Equal(expectedHash, data.GetProperty("clientAddressHash").GetString());
            Assert.Equal("GetUpdatePassword", e.GetProperty("actor").GetString());
            Assert.Equal("2026-03-20T16:00:00Z", e.GetProperty("at").GetString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("correlationId").GetString()));
            Assert.DoesNotContain("203.0.113.7", e.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain("päss", e.GetRawText(), StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_genuine_link_past_its_expiry_is_a_410_telling_how_to_ask_for_a_new_one()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();
        var link = await UpdateApi.LinkAsync(_api);
        _api.Clock.AdvanceDays(LinkOptions.DefaultValidityDays);

        var response = await UpdateApi.OpenAsync(_api, link);

        Assert.Equal(410, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        var detail = response.Json().GetProperty("detail").GetString();
        Assert.Contains("/api/password-requests?serial=VT-1001&version=1.96", detail, StringComparison.Ordinal);
        Assert.Contains("reply to the announcement", detail, StringComparison.Ordinal);
        AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task A_license_whose_plan_lapsed_gets_a_403_with_its_expiry_and_how_to_ask_for_a_quote()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();
        _api.Clock.Reset(Instant.FromUtc(2026, 5, 1, 16, 0)); // the 30-day plan expired that day
        var link = await UpdateApi.LinkAsync(_api);

        var response = await UpdateApi.OpenAsync(_api, link);

        Assert.Equal(403, response.Status);
        var problem = response.Json();
        Assert.Equal("urn:smp:problem:not-entitled", problem.GetProperty("type").GetString());
        Assert.Equal("2026-05-01", problem.GetProperty("expiresOn").GetString());
        Assert.Contains("POST /api/quote-requests", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("päss", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(await UpdateApi.EventsAsync(_api, "VT-1001"), e => e.GetProperty("type").GetString() == "passwordReleased");
    }

    [Theory]
    [InlineData("9.9", null, null)] // never published
    [InlineData("1.97", "2026-03-21", "p")] // released tomorrow
    [InlineData("1.98", "2026-03-01", null)] // no password stored
    public async Task A_genuine_link_to_an_update_that_is_not_available_is_a_404(string version, string? releasedOn, string? password)
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        if (releasedOn is not null)
        {
            await UpdateApi.PublishAsync(_api, version, releasedOn, password);
        }

        var response = await UpdateApi.OpenAsync(_api, await UpdateApi.LinkAsync(_api, version: version));

        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        AssertCustomerHeaders(response);
    }

    [Theory]
    [InlineData("expires=1774800000&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "serial")]
    [InlineData("serial=VT_1001&expires=1774800000&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "serial")]
    [InlineData("serial=VT-1001&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "expires")]
    [InlineData("serial=VT-1001&expires=tomorrow&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "expires")]
    [InlineData("serial=VT-1001&expires=-5&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "expires")]
    [InlineData("serial=VT-1001&expires=1774800000", "sig")]
    [InlineData("serial=VT-1001&expires=1774800000&sig=", "sig")]
    [InlineData("serial=VT-1001&serial=VT-1002&expires=1774800000&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "serial")]
    public async Task A_malformed_link_is_a_400_naming_the_field(string query, string field)
    {
        var response = await UpdateApi.GetPasswordAsync(_api, "1.96", query);

        Assert.Equal(400, response.Status);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), response.Body);
        AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task A_malformed_version_in_the_path_is_a_400_naming_the_version()
    {
        var response = await UpdateApi.GetPasswordAsync(_api, "1.96_beta", "serial=VT-1001&expires=1774800000&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

        Assert.Equal(400, response.Status);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty("version", out _));
    }

    [Fact]
    public async Task A_password_request_mails_a_fresh_link_to_the_registered_contacts_only_and_is_audited()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();

        var response = await UpdateApi.RequestLinkWithIdAsync(_api, """{"serial":" vt-1001 ","version":"1.96"}""", "customer-request-42");

        Assert.Equal(202, response.Status);
        AssertCustomerHeaders(response);
        var mail = Assert.Single(await UpdateApi.PendingMailAsync(_api));
        Assert.Equal(MailKinds.PasswordLink, mail.Kind);
        Assert.Equal(["buyer@example.com", "cad@example.com"], mail.Mail.To.Select(a => a.Value));
        Assert.Equal("DoNotReply@smp.example.com", mail.Mail.From.Value);
        Assert.Equal("renewals@vendor.example.com", mail.Mail.ReplyTo?.Value);
        // The mail id comes from what the request asks (serial, version, day), never from the caller's correlation id.
        Assert.Equal(DeterministicId.From("password-link", "VT-1001", "1.96", "password-link|VT-1001|1.96|license|2026-03-20"), mail.Mail.Id);
        Assert.Contains("VT-1001", mail.Mail.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain(UpdateApi.Password, mail.Mail.PlainText + mail.Mail.Html, StringComparison.Ordinal);

        var link = Assert.Single(UpdateApi.LinksIn(mail));
        var page = await UpdateApi.OpenAsync(_api, link, accept: "application/json");
        Assert.Equal(UpdateApi.Password, page.Json().GetProperty("password").GetString());

        var requested = Assert.Single(await UpdateApi.EventsAsync(_api, "VT-1001"), e => e.GetProperty("type").GetString() == "passwordLinkRequested");
        Assert.Equal("1.96", requested.GetProperty("version").GetString());
        Assert.Equal(mail.Mail.Id, requested.GetProperty("mailId").GetString());
    }

    [Fact]
    public async Task A_serial_gets_links_for_at_most_three_versions_a_business_day_one_each_and_more_the_next_day()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();
        foreach (var version in new[] { "1.91", "1.92", "1.93", "1.94" })
        {
            await UpdateApi.PublishAsync(_api, version, releasedOn: "2026-03-16", password: "pw-" + version);
        }

        foreach (var version in new[] { "1.96", "1.96", "1.91", "1.92", "1.93", "1.94" })
        {
            Assert.Equal(202, (await UpdateApi.RequestLinkAsync(_api, "VT-1001", version)).Status);
        }

        // Counted by what they ask: 1.96 twice is one request (one mail), and the fourth version is refused.
        var mails = await UpdateApi.PendingMailAsync(_api);
        Assert.Equal(3, mails.Count);
        Assert.Equal(3, mails.Select(m => m.Mail.Subject).Distinct().Count());

        _api.Clock.Reset(Instant.FromUtc(2026, 3, 21, 5, 59)); // 23:59 in Denver: still the same business day
        await UpdateApi.RequestLinkAsync(_api, "VT-1001", "1.94");
        Assert.Equal(3, (await UpdateApi.PendingMailAsync(_api)).Count);

        _api.Clock.Reset(Instant.FromUtc(2026, 3, 21, 6, 1)); // 00:01 in Denver: the next business day
        await UpdateApi.RequestLinkAsync(_api, "VT-1001", "1.96");
        Assert.Equal(4, (await UpdateApi.PendingMailAsync(_api)).Count);
    }

    [Fact]
    public async Task R13_a_password_request_accepted_on_the_last_covered_day_and_processed_after_the_plan_lapsed_sends_no_link()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();
        var license = await MailTestKit.StoredAsync(_api, "VT-1001");
        var lastCovered = license.StatusOn(license.ExpiresOn) == Smp.Core.Plans.PlanStatus.Current ? license.ExpiresOn : license.ExpiresOn.PlusDays(-1);
        var denver = DateTimeZoneProviders.Tzdb["America/Denver"];

        // Accepted late on the last day the plan is current; the background work runs only after it lapsed.
        _api.Clock.Reset(lastCovered.At(new LocalTime(23, 30)).InZoneStrictly(denver).ToInstant());
        Assert.Equal(202, (await UpdateApi.RequestLinkAsync(_api, "VT-1001", "1.96")).Status);
        _api.Clock.Reset(lastCovered.PlusDays(1).At(new LocalTime(0, 30)).InZoneStrictly(denver).ToInstant());
        Assert.NotEqual(Smp.Core.Plans.PlanStatus.Current, license.StatusOn(lastCovered.PlusDays(1)));

        Assert.Empty(await UpdateApi.PendingMailAsync(_api));
        Assert.DoesNotContain(await UpdateApi.EventsAsync(_api, "VT-1001"), e => e.GetProperty("type").GetString() == "passwordLinkRequested");
    }

    [Fact]
    public async Task Repeating_one_request_id_sends_one_link_and_cannot_get_past_the_daily_limit()
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(202, (await UpdateApi.RequestLinkWithIdAsync(_api, "{\"serial\":\"VT-1001\",\"version\":\"1.96\"}", "same-request-1")).Status);
        }

        Assert.Single(await UpdateApi.PendingMailAsync(_api));
        var requested = (await UpdateApi.EventsAsync(_api, "VT-1001")).Count(e => e.GetProperty("type").GetString() == "passwordLinkRequested");
        Assert.Equal(1, requested);
    }

    [Theory]
    [InlineData("NOPE-1", "1.96")] // no such license
    [InlineData("VT-1001", "9.9")] // no such update
    [InlineData("VT-1001", "1.97")] // released tomorrow
    [InlineData("LAPSED-1", "1.96")] // plan lapsed: not entitled
    public async Task Every_well_formed_request_gets_the_same_202_and_only_an_entitled_license_gets_mail(string serial, string version)
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("LAPSED-1", sentAt: "2025-01-10T10:00:00-07:00"));
        await UpdateApi.PublishAsync(_api, version: "1.97", releasedOn: "2026-03-21");
        var sending = await UpdateApi.RequestLinkAsync(_api, "VT-1001", "1.96");

        var response = await UpdateApi.RequestLinkAsync(_api, serial, version);

        Assert.Equal(202, response.Status);
        Assert.Equal(sending.Body, response.Body);
        Assert.Equal(sending.ContentType, response.ContentType);
        Assert.Equal(
            sending.Headers.Select(h => h.Key).Order(StringComparer.OrdinalIgnoreCase),
            response.Headers.Select(h => h.Key).Order(StringComparer.OrdinalIgnoreCase));
        Assert.Single(await UpdateApi.PendingMailAsync(_api)); // only the entitled request's
    }

    [Theory]
    [InlineData("""{"serial":"VT-1001"}""", "version")]
    [InlineData("""{"version":"1.96"}""", "serial")]
    [InlineData("""{"serial":"VT 1001","version":"1.96"}""", "serial")]
    [InlineData("""{"serial":"VT-1001","version":"1,96"}""", "version")]
    [InlineData("""{"serial":"VT-1001","version":"1.96","email":"attacker@example.net"}""", "email")]
    [InlineData("""not json""", "body")]
    public async Task A_malformed_password_request_is_a_400_naming_the_field_and_sends_nothing(string body, string field)
    {
        await GivenAnEntitledLicenseAndAPublishedUpdateAsync();

        var response = await UpdateApi.RequestLinkAsync(_api, body);

        Assert.Equal(400, response.Status);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), response.Body);
        Assert.Empty(await UpdateApi.PendingMailAsync(_api));
    }

    internal static void AssertCustomerHeaders(ApiResponse response)
    {
        Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        Assert.Equal("nosniff", response.Headers.XContentTypeOptions.ToString());
        Assert.Equal("no-referrer", response.Headers["Referrer-Policy"].ToString());
        var csp = response.Headers.ContentSecurityPolicy.ToString();
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
        Assert.StartsWith("max-age=", response.Headers.StrictTransportSecurity.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_new_link_page_posts_a_form_that_is_accepted_like_json()
    {
        var page = _api.Request("GET", "/api/password-requests", query: "serial=vt-1001&version=1.96");
        var shown = await _api.InvokeAsync(page, "PasswordRequestPage", () => PasswordFunctions.PasswordRequestPage(page));

        Assert.Equal(200, shown.Status);
        Assert.StartsWith("text/html", shown.ContentType, StringComparison.Ordinal);
        Assert.Equal("no-store", shown.Headers.CacheControl.ToString());
        Assert.Contains("name=\"serial\" value=\"VT-1001\"", shown.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"version\" value=\"1.96\"", shown.Body, StringComparison.Ordinal);

        var post = _api.Request("POST", "/api/password-requests", "serial=VT-1001&version=1.96", contentType: "application/x-www-form-urlencoded");
        var answer = await _api.InvokeAsync(post, "RequestPasswordLink", c => _api.Function<PasswordFunctions>().RequestPasswordLink(post, c));

        Assert.Equal(202, answer.Status);
        Assert.StartsWith("text/html", answer.ContentType, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serial=VT-1001", "version")]
    [InlineData("serial=VT%2F1&version=1.96", "serial")]
    [InlineData("serial=VT-1001&version=1.96&extra=1", "extra")]
    public async Task A_bad_form_post_is_a_400_naming_the_field(string form, string field)
    {
        var post = _api.Request("POST", "/api/password-requests", form, contentType: "application/x-www-form-urlencoded");
        var answer = await _api.InvokeAsync(post, "RequestPasswordLink", c => _api.Function<PasswordFunctions>().RequestPasswordLink(post, c));

        Assert.Equal(400, answer.Status);
        Assert.True(answer.Json().GetProperty("errors").TryGetProperty(field, out _), answer.Body);
    }
}
