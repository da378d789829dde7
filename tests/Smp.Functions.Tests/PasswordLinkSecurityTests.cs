using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NodaTime;
using Smp.Core.Links;
using Smp.Core.Secrets;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5 against the real app: a password link is honoured only exactly as it was signed, says nothing
/// about what exists to someone without a genuine one, and neither the password nor the signing key ever reaches
/// a log, a problem document, an event or a mail other than the password page.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PasswordLinkSecurityTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    private async Task<Uri> GivenAGenuineLinkAsync()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1001"));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1002"));
        await UpdateApi.PublishAsync(_api, version: "1.96");
        await UpdateApi.PublishAsync(_api, version: "1.97", releasedOn: "2026-03-18", password: "other-update-password");
        var link = await UpdateApi.LinkAsync(_api, "VT-1001", "1.96");
        Assert.Equal(200, (await UpdateApi.OpenAsync(_api, link)).Status);
        return link;
    }

    [Theory]
    [InlineData("serial", "VT-1002")]
    [InlineData("serial", "VT-10010")]
    [InlineData("expires", "+1")]
    [InlineData("expires", "-1")]
    [InlineData("sig", "flip-first")]
    [InlineData("sig", "flip-last")]
    [InlineData("sig", "truncate")]
    [InlineData("sig", "extend")]
    [InlineData("sig", "padding")]
    public async Task Changing_any_signed_field_of_a_link_is_a_403(string field, string change)
    {
        var link = await GivenAGenuineLinkAsync();
        var query = QueryHelpers.ParseQuery(link.Query).ToDictionary(q => q.Key, q => q.Value.ToString());
        query[field] = (field, change) switch
        {
            ("expires", "+1") => (long.Parse(query["expires"], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ("expires", "-1") => (long.Parse(query["expires"], System.Globalization.CultureInfo.InvariantCulture) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ("sig", "flip-first") => (query["sig"][0] == 'A' ? "B" : "A") + query["sig"][1..],
            ("sig", "flip-last") => query["sig"][..^1] + (query["sig"][^1] == 'A' ? "Q" : "A"),
            ("sig", "truncate") => query["sig"][..^1],
            ("sig", "extend") => query["sig"] + "A",
            ("sig", "padding") => query["sig"] + "=",
            _ => change,
        };

        var response = await UpdateApi.GetPasswordAsync(_api, "1.96", QueryString(query));

        Assert.Equal(403, response.Status);
        Assert.Equal("urn:smp:problem:bad-link", response.Json().GetProperty("type").GetString());
        Assert.DoesNotContain(UpdateApi.Password, response.Body, StringComparison.Ordinal);
        PasswordApiTests.AssertCustomerHeaders(response);
    }

    [Fact]
    public async Task Changing_the_version_of_a_link_is_a_403_even_for_another_published_update()
    {
        var link = await GivenAGenuineLinkAsync();

        var response = await UpdateApi.GetPasswordAsync(_api, "1.97", link.Query);

        Assert.Equal(403, response.Status);
        Assert.DoesNotContain("other-update-password", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_version_spelt_in_lower_case_is_the_same_version_and_still_opens()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1001"));
        await UpdateApi.PublishAsync(_api, version: "1.96B");
        var link = await UpdateApi.LinkAsync(_api, "VT-1001", "1.96b");

        Assert.Equal(200, (await UpdateApi.GetPasswordAsync(_api, "1.96b", link.Query)).Status);
    }

    [Fact]
    public async Task A_link_replayed_after_its_expiry_is_a_410_and_a_tampered_expired_link_stays_a_403()
    {
        var link = await GivenAGenuineLinkAsync();
        _api.Clock.Advance(Duration.FromDays(LinkOptions.DefaultValidityDays) - Duration.FromSeconds(1));
        Assert.Equal(200, (await UpdateApi.OpenAsync(_api, link)).Status); // the last second of its validity
        _api.Clock.AdvanceSeconds(1);

        var replay = await UpdateApi.OpenAsync(_api, link);
        var tampered = await UpdateApi.GetPasswordAsync(_api, "1.96", link.Query.Replace("VT-1001", "VT-1002", StringComparison.Ordinal));

        Assert.Equal(410, replay.Status);
        Assert.Equal(403, tampered.Status);
        Assert.DoesNotContain(UpdateApi.Password, replay.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_for_one_serial_used_for_another_is_a_403()
    {
        await GivenAGenuineLinkAsync();
        var forOther = await UpdateApi.LinkAsync(_api, "VT-1002", "1.96");
        var query = QueryHelpers.ParseQuery(forOther.Query);

        var response = await UpdateApi.GetPasswordAsync(_api, "1.96", $"serial=VT-1001&expires={query["expires"]}&sig={query["sig"]}");

        Assert.Equal(403, response.Status);
    }

    [Fact]
    public async Task A_genuine_link_to_a_version_that_is_not_published_is_a_404()
    {
        await GivenAGenuineLinkAsync();

        var response = await UpdateApi.OpenAsync(_api, await UpdateApi.LinkAsync(_api, "VT-1001", "2.0"));

        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
    }

    [Fact]
    public async Task The_403_is_identical_whether_or_not_the_serial_or_version_exists()
    {
        var link = await GivenAGenuineLinkAsync();
        var forged = "sig=" + new string('A', LinkSigner.SignatureLength);
        var expires = QueryHelpers.ParseQuery(link.Query)["expires"];

        var existing = await UpdateApi.GetPasswordAsync(_api, "1.96", $"serial=VT-1001&expires={expires}&{forged}");
        var missing = await UpdateApi.GetPasswordAsync(_api, "1.96", $"serial=NO-SUCH-SERIAL&expires={expires}&{forged}");
        var unpublished = await UpdateApi.GetPasswordAsync(_api, "7.7", $"serial=NO-SUCH-SERIAL&expires=99&{forged}");
        var lapsedDate = await UpdateApi.GetPasswordAsync(_api, "1.96", $"serial=VT-1001&expires=1&{forged}");

        foreach (var other in new[] { missing, unpublished, lapsedDate })
        {
            Assert.Equal(existing.Status, other.Status);
            Assert.Equal(existing.ContentType, other.ContentType);
            Assert.Equal(existing.Body, other.Body);
            Assert.Equal(
                existing.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(h => $"{h.Key}: {h.Value}"),
                other.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(h => $"{h.Key}: {h.Value}"));
        }

        Assert.Equal(403, existing.Status);
        Assert.DoesNotContain("VT-1001", existing.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Neither_the_password_nor_the_signing_key_reaches_a_log_a_problem_an_event_or_a_mail()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s =>
        {
            s.AddFakeLogging();
            s.Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.Trace);
        });
        var collector = api.Services.GetFakeLogCollector();
        var problems = new List<string>();
        var pages = new List<string>();

        // The whole flow: activate, publish with the password, announce, open links every way, ask for new ones.
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody("VT-1001"));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody("VT-1002", customerId: "C-77"));
        Assert.Equal(201, (await UpdateApi.PublishAsync(api)).Status);
        problems.Add((await UpdateApi.PublishAsync(api, "1.96", $$"""{"releasedOn":"2026-03-16","password":{{JsonSerializer.Serialize(" " + UpdateApi.Password + " ")}}}""")).Body);
        problems.Add((await UpdateApi.PublishAsync(api, "1.96", $$"""{"releasedOn":"someday","password":{{JsonSerializer.Serialize(UpdateApi.Password)}}}""")).Body);
        Assert.All(problems, p => Assert.Contains("\"errors\"", p, StringComparison.Ordinal));
        Assert.Contains("\"password\"", problems[0], StringComparison.Ordinal);
        Assert.Contains("\"releasedOn\"", problems[1], StringComparison.Ordinal);
        Assert.Equal(202, (await UpdateApi.AnnounceAsync(api)).Status);
        var link = await UpdateApi.LinkAsync(api, "VT-1001", "1.96");
        pages.Add((await UpdateApi.OpenAsync(api, link)).Body);
        pages.Add((await UpdateApi.OpenAsync(api, link, accept: "application/json", forwardedFor: "198.51.100.23")).Body);
        problems.Add((await UpdateApi.GetPasswordAsync(api, "1.96", link.Query.Replace("VT-1001", "VT-1002", StringComparison.Ordinal))).Body);
        problems.Add((await UpdateApi.GetPasswordAsync(api, "1.96", "serial=VT-1001")).Body);
        problems.Add((await UpdateApi.OpenAsync(api, await UpdateApi.LinkAsync(api, "VT-1001", "3.0"))).Body);
        problems.Add((await UpdateApi.RequestLinkAsync(api, "VT-1001", "1.96")).Body);
        problems.Add((await UpdateApi.RequestLinkAsync(api, "{}")).Body);
        await MailTestKit.ProcessCustomerRequestsAsync(api); // the requested link goes out the same day, as the timer's next minute does it
        api.Clock.AdvanceDays(LinkOptions.DefaultValidityDays + 1);
        problems.Add((await UpdateApi.OpenAsync(api, link)).Body);
        api.Clock.AdvanceDays(60); // the plan lapsed
        problems.Add((await UpdateApi.OpenAsync(api, await UpdateApi.LinkAsync(api, "VT-1001", "1.96"))).Body);

        var key = await api.Services.GetRequiredService<ISecretStore>().GetAsync(SecretName.LinkSigningKey, CancellationToken.None);
        Assert.False(string.IsNullOrEmpty(key));
        string[] secrets =
        [
            UpdateApi.Password,
            "Tube-Bend", // the password's plain start: found whatever escaping a leak would use
            "päss",
            JsonSerializer.Serialize(UpdateApi.Password)[1..^1],
            JsonSerializer.Serialize(UpdateApi.Password, Relaxed)[1..^1],
            CustomerResponsesHtml(UpdateApi.Password),
            key!,
            key!.TrimEnd('='),
            JsonSerializer.Serialize(key)[1..^1],
        ];

        // The password pages themselves do show it, so the search below would find it if it leaked.
        Assert.Contains(CustomerResponsesHtml(UpdateApi.Password), pages[0], StringComparison.Ordinal);
        Assert.Equal(UpdateApi.Password, JsonDocument.Parse(pages[1]).RootElement.GetProperty("password").GetString());
        Assert.Contains("Tube-Bend", pages[1], StringComparison.Ordinal);

        var logs = collector.GetSnapshot();
        Assert.NotEmpty(logs);
        Assert.Contains(logs, l => l.Message.Contains("released for license VT-1001", StringComparison.Ordinal));
        var logText = logs.Select(l => $"{l.Level} {l.Category} {l.Message} {l.Exception} {string.Join(",", l.StructuredState ?? [])}");
        var events = (await UpdateApi.EventsAsync(api, "VT-1001")).Concat(await UpdateApi.EventsAsync(api, "VT-1002")).Select(e => e.GetRawText()).ToList();
        Assert.Contains(events, e => e.Contains("passwordReleased", StringComparison.Ordinal));
        var mails = (await UpdateApi.PendingMailAsync(api)).Select(m => $"{m.Mail.Subject}\n{m.Mail.PlainText}\n{m.Mail.Html}").ToList();
        Assert.Equal(3, mails.Count); // two announcements, one requested link

        Assert.Equal(9, problems.Count);
        foreach (var (what, text) in logText.Select(t => ("log", t))
            .Concat(problems.Select(t => ("problem", t)))
            .Concat(events.Select(t => ("event", t)))
            .Concat(mails.Select(t => ("mail", t))))
        {
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A {what} holds a secret: {text}");
            }
        }
    }

    private static string CustomerResponsesHtml(string text) => Smp.Functions.Http.CustomerPages.Html(text);

    private static string QueryString(Dictionary<string, string> query) =>
        string.Join('&', query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
}
