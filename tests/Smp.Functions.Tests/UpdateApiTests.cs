using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Secrets;
using Smp.Core.Updates;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>Staff routes of R13 and R14: publishing an update with its password, announcing it, and the license document's list.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class UpdateApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Publishing_a_new_update_is_201_with_its_metadata_and_never_the_password()
    {
        var response = await UpdateApi.PublishAsync(_api, version: " 1.96b ");

        Assert.Equal(201, response.Status);
        Assert.Equal("/api/updates/1.96B", response.Headers.Location.ToString());
        var update = response.Json();
        Assert.Equal("1.96B", update.GetProperty("version").GetString());
        Assert.Equal("2026-03-16", update.GetProperty("releasedOn").GetString());
        Assert.True(update.GetProperty("hasPassword").GetBoolean());
        Assert.Equal("2026-03-20T16:00:00Z", update.GetProperty("publishedAt").GetString());
        Assert.False(update.TryGetProperty("announcedAt", out _));
        Assert.Equal(["version", "releasedOn", "hasPassword", "publishedAt"], update.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("päss", response.Body, StringComparison.Ordinal);

        var stored = await _api.Services.GetRequiredService<ISecretStore>().GetAsync(SecretName.ForUpdate(UpdateVersion.Parse("1.96B")), CancellationToken.None);
        Assert.Equal(UpdateApi.Password, stored);
    }

    [Fact]
    public async Task Publishing_again_is_200_keeps_the_first_publication_and_replaces_the_date_and_password()
    {
        await UpdateApi.PublishAsync(_api, password: null);
        Assert.False((await UpdateApi.PublishAsync(_api, password: null)).Json().GetProperty("hasPassword").GetBoolean());
        _api.Clock.AdvanceHours(2);

        var response = await UpdateApi.PublishAsync(_api, releasedOn: "2026-03-18", password: "second-password");

        Assert.Equal(200, response.Status);
        var update = response.Json();
        Assert.Equal("2026-03-18", update.GetProperty("releasedOn").GetString());
        Assert.True(update.GetProperty("hasPassword").GetBoolean());
        Assert.Equal("2026-03-20T16:00:00Z", update.GetProperty("publishedAt").GetString());
        Assert.Equal("second-password", await _api.Services.GetRequiredService<ISecretStore>().GetAsync(SecretName.Parse("smp-update-1-96"), CancellationToken.None));

        // Publishing without a password later keeps the stored one.
        Assert.True((await UpdateApi.PublishAsync(_api, releasedOn: "2026-03-18", password: null)).Json().GetProperty("hasPassword").GetBoolean());
    }

    [Fact]
    public async Task A_password_put_in_the_secret_store_directly_is_found_by_a_publish_without_password()
    {
        await _api.Services.GetRequiredService<ISecretStore>().SetAsync(SecretName.Parse("smp-update-2-0"), "set-by-an-operator", CancellationToken.None);

        var response = await UpdateApi.PublishAsync(_api, version: "2.0", password: null);

        Assert.Equal(201, response.Status);
        Assert.True(response.Json().GetProperty("hasPassword").GetBoolean());
    }

    [Fact]
    public async Task When_the_secret_store_refuses_the_password_no_metadata_is_written()
    {
        var secrets = Substitute.For<ISecretStore>();
        secrets.SetAsync(Arg.Any<SecretName>(), Arg.Any<string>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new SecretStoreException("Key Vault answered 403 (Forbidden)."));
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton(secrets));

        var response = await UpdateApi.PublishAsync(api);

        Assert.Equal(503, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Null(await api.Services.GetRequiredService<IUpdateStore>().GetAsync(UpdateVersion.Parse("1.96"), CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"password":"x"}""", "releasedOn")]
    [InlineData("""{"releasedOn":"2026-02-30"}""", "releasedOn")]
    [InlineData("""{"releasedOn":"16/03/2026"}""", "releasedOn")]
    [InlineData("""{"releasedOn":20260316}""", "releasedOn")]
    [InlineData("""{"releasedOn":"2026-03-16","password":""}""", "password")]
    [InlineData("""{"releasedOn":"2026-03-16","password":" padded-secret "}""", "password")]
    [InlineData("""{"releasedOn":"2026-03-16","password":"line\nbreak-secret"}""", "password")]
    [InlineData("""{"releasedOn":"2026-03-16","password":42}""", "password")]
    [InlineData("""{"releasedOn":"2026-03-16","pasword":"typo-secret"}""", "pasword")]
    [InlineData("""[1]""", "body")]
    public async Task A_malformed_publish_is_a_400_naming_the_field_that_writes_nothing_and_never_quotes_the_password(string body, string field)
    {
        var response = await UpdateApi.PublishAsync(_api, "1.96", body);

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), response.Body);
        Assert.DoesNotContain("secret", response.Body, StringComparison.Ordinal);
        Assert.Null(await _api.Services.GetRequiredService<IUpdateStore>().GetAsync(UpdateVersion.Parse("1.96"), CancellationToken.None));
        Assert.Null(await _api.Services.GetRequiredService<ISecretStore>().GetAsync(SecretName.Parse("smp-update-1-96"), CancellationToken.None));
    }

    [Fact]
    public async Task A_password_of_201_characters_is_refused_and_one_of_200_is_stored()
    {
        var tooLong = await UpdateApi.PublishAsync(_api, password: new string('x', 201));
        var longest = await UpdateApi.PublishAsync(_api, password: new string('x', 200));

        Assert.Equal(400, tooLong.Status);
        Assert.True(tooLong.Json().GetProperty("errors").TryGetProperty("password", out _));
        Assert.Equal(201, longest.Status);
    }

    [Theory]
    [InlineData("1.96-beta")]
    [InlineData("123456789012345678901")]
    [InlineData("1 96")]
    public async Task A_bad_version_is_a_400_naming_the_version(string version)
    {
        var response = await UpdateApi.PublishAsync(_api, version, """{"releasedOn":"2026-03-16"}""");
        var announce = await UpdateApi.AnnounceAsync(_api, version);

        Assert.Equal(400, response.Status);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty("version", out _));
        Assert.Equal(400, announce.Status);
    }

    [Fact]
    public async Task R14_announcing_mails_each_customer_and_recipient_set_once_with_a_personal_link_per_license()
    {
        // Acme: two licenses with the same contacts (one mail), one with other contacts (a second mail).
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1001"));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1002", contacts: """["CAD@example.com","buyer@example.com"]"""));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1003", contacts: """["it@example.com"]"""));
        // Globex: one license, sharing an address with Acme.
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("GX-1", customerId: "C-77", contacts: """["buyer@example.com"]"""));
        // A lapsed plan hears nothing.
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("OLD-1", sentAt: "2025-01-10T10:00:00-07:00", customerId: "C-9"));
        await UpdateApi.PublishAsync(_api);

        var response = await UpdateApi.AnnounceAsync(_api);

        Assert.Equal(202, response.Status);
        var counts = response.Json();
        Assert.Equal(4, counts.GetProperty("licenses").GetInt32());
        Assert.Equal(3, counts.GetProperty("recipients").GetInt32()); // buyer@, cad@, it@
        Assert.Equal(3, counts.GetProperty("mails").GetInt32());

        var mails = await UpdateApi.PendingMailAsync(_api);
        Assert.Equal(3, mails.Count);
        Assert.All(mails, m =>
        {
            Assert.Equal(MailKinds.Announcement, m.Kind);
            Assert.Equal("DoNotReply@smp.example.com", m.Mail.From.Value);
            Assert.Equal("renewals@vendor.example.com", m.Mail.ReplyTo?.Value);
            Assert.DoesNotContain(UpdateApi.Password, m.Mail.PlainText + m.Mail.Html, StringComparison.Ordinal);
            Assert.DoesNotContain("OLD-1", m.Mail.PlainText, StringComparison.Ordinal);
        });

        var pair = Assert.Single(mails, m => m.Mail.PlainText.Contains("VT-1002", StringComparison.Ordinal));
        Assert.Equal(DeterministicId.From("announcement", "1.96", "VT-1001", "VT-1002"), pair.Mail.Id);
        Assert.Equal(["buyer@example.com", "cad@example.com"], pair.Mail.To.Select(a => a.Value.ToLowerInvariant()).Order());
        var links = UpdateApi.LinksIn(pair);
        Assert.Equal(2, links.Count);
        Assert.Contains(links, l => l.Query.Contains("serial=VT-1001", StringComparison.Ordinal));
        Assert.Contains(links, l => l.Query.Contains("serial=VT-1002", StringComparison.Ordinal));

        // Each link opens its own license's password.
        foreach (var link in links)
        {
            var page = await UpdateApi.OpenAsync(_api, link, accept: "application/json");
            Assert.Equal(200, page.Status);
            Assert.Equal(UpdateApi.Password, page.Json().GetProperty("password").GetString());
            Assert.Contains(page.Json().GetProperty("serial").GetString()!, link.Query, StringComparison.Ordinal);
        }

        var events = await UpdateApi.EventsAsync(_api, "VT-1001");
        var announced = Assert.Single(events, e => e.GetProperty("type").GetString() == "updateAnnounced");
        Assert.Equal("1.96", announced.GetProperty("version").GetString());
        Assert.Equal(pair.Mail.Id, announced.GetProperty("mailId").GetString());
        Assert.Equal("AnnounceUpdate", announced.GetProperty("actor").GetString());
        Assert.DoesNotContain(await UpdateApi.EventsAsync(_api, "OLD-1"), e => e.GetProperty("type").GetString() == "updateAnnounced");

        var update = await _api.Services.GetRequiredService<IUpdateStore>().GetAsync(UpdateVersion.Parse("1.96"), CancellationToken.None);
        Assert.Equal(Now, update!.Release.AnnouncedAt);
    }

    [Fact]
    public async Task R14_announcing_the_same_version_again_sends_nothing_new_and_reaches_only_licenses_activated_since()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1001"));
        await UpdateApi.PublishAsync(_api);
        Assert.Equal(1, (await UpdateApi.AnnounceAsync(_api)).Json().GetProperty("licenses").GetInt32());
        _api.Clock.AdvanceHours(3);

        var again = await UpdateApi.AnnounceAsync(_api);

        Assert.Equal(202, again.Status);
        Assert.Equal(0, again.Json().GetProperty("licenses").GetInt32());
        Assert.Equal(0, again.Json().GetProperty("recipients").GetInt32());
        Assert.Single(await UpdateApi.PendingMailAsync(_api));
        Assert.Single(await UpdateApi.EventsAsync(_api, "VT-1001"), e => e.GetProperty("type").GetString() == "updateAnnounced");
        var update = await _api.Services.GetRequiredService<IUpdateStore>().GetAsync(UpdateVersion.Parse("1.96"), CancellationToken.None);
        Assert.Equal(Now, update!.Release.AnnouncedAt); // the first announcement's instant

        // A license of the same customer and contacts activated since: only it hears, in a mail of its own.
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody("VT-1002", sentAt: "2026-03-20T09:00:00-06:00"));
        var third = await UpdateApi.AnnounceAsync(_api);

        Assert.Equal(1, third.Json().GetProperty("licenses").GetInt32());
        var mails = await UpdateApi.PendingMailAsync(_api);
        Assert.Equal(2, mails.Count);
        var newest = Assert.Single(mails, m => m.Mail.Id == DeterministicId.From("announcement", "1.96", "VT-1002"));
        Assert.DoesNotContain("VT-1001", newest.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task R14_an_announcement_mails_every_current_license_also_one_not_entitled_to_the_update()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:Updates:Entitlement"] = "ReleasedDuringCover" });
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody()); // covered from 2026-03-14: current, not entitled to 1.95
        await UpdateApi.PublishAsync(api, version: "1.95", releasedOn: "2026-03-01");

        var announced = await UpdateApi.AnnounceAsync(api, version: "1.95");

        Assert.Equal(202, announced.Status);
        Assert.Equal(1, announced.Json().GetProperty("licenses").GetInt32());
        Assert.Single(await UpdateApi.EventsAsync(api, "VT-1001"), e => e.GetProperty("type").GetString() == "updateAnnounced");
    }

    [Fact]
    public async Task R14_concurrent_announcements_of_one_version_mail_each_license_once()
    {
        for (var i = 1; i <= 6; i++)
        {
            await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody($"VT-{i}", customerId: $"C-{i % 3}"));
        }

        await UpdateApi.PublishAsync(_api);

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => UpdateApi.AnnounceAsync(_api))));

        Assert.All(responses, r => Assert.Equal(202, r.Status));
        Assert.Equal(6, responses.Sum(r => r.Json().GetProperty("licenses").GetInt32()));
        var mails = await UpdateApi.PendingMailAsync(_api);
        var serialsMailed = mails.SelectMany(UpdateApi.LinksIn).Select(l => l.Query.Split('&')[0]).ToList();
        Assert.Equal(6, serialsMailed.Count);
        Assert.Equal(6, serialsMailed.Distinct().Count());
        for (var i = 1; i <= 6; i++)
        {
            Assert.Single(await UpdateApi.EventsAsync(_api, $"VT-{i}"), e => e.GetProperty("type").GetString() == "updateAnnounced");
        }
    }

    [Fact]
    public async Task An_update_without_a_stored_password_cannot_be_announced()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api, password: null);

        var response = await UpdateApi.AnnounceAsync(_api);

        Assert.Equal(409, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Contains("password", response.Json().GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await UpdateApi.PendingMailAsync(_api));
        Assert.Null((await _api.Services.GetRequiredService<IUpdateStore>().GetAsync(UpdateVersion.Parse("1.96"), CancellationToken.None))!.Release.AnnouncedAt);
    }

    [Fact]
    public async Task An_update_released_later_cannot_be_announced_yet()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api, releasedOn: "2026-03-21");

        var response = await UpdateApi.AnnounceAsync(_api);

        Assert.Equal(409, response.Status);
        Assert.Contains("2026-03-21", response.Json().GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await UpdateApi.PendingMailAsync(_api));

        _api.Clock.Reset(Instant.FromUtc(2026, 3, 21, 7, 0)); // 01:00 in Denver on the release date
        Assert.Equal(202, (await UpdateApi.AnnounceAsync(_api)).Status);
        Assert.Single(await UpdateApi.PendingMailAsync(_api));
    }

    [Fact]
    public async Task Announcing_an_unknown_version_is_a_404()
    {
        var response = await UpdateApi.AnnounceAsync(_api, "9.9");

        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
    }

    [Fact]
    public async Task R13_the_license_document_lists_each_published_update_with_the_entitlement_for_today()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api, version: "1.95", releasedOn: "2025-11-01");
        await UpdateApi.PublishAsync(_api, version: "1.96", releasedOn: "2026-03-16");
        await UpdateApi.PublishAsync(_api, version: "1.97", releasedOn: "2026-06-01");

        var updates = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json().GetProperty("updates");

        Assert.Equal(
            [("1.95", "2025-11-01", true), ("1.96", "2026-03-16", true), ("1.97", "2026-06-01", false)],
            updates.EnumerateArray().Select(u => (u.GetProperty("version").GetString(), u.GetProperty("releasedOn").GetString(), u.GetProperty("entitled").GetBoolean())));
    }

    [Fact]
    public async Task Under_ReleasedDuringCover_the_document_keeps_updates_released_while_covered_after_the_plan_lapsed()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:Updates:Entitlement"] = "ReleasedDuringCover" });
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody()); // covered 2026-03-14 to 2026-04-30
        await UpdateApi.PublishAsync(api, version: "1.95", releasedOn: "2026-03-01");
        await UpdateApi.PublishAsync(api, version: "1.96", releasedOn: "2026-04-15");
        await UpdateApi.PublishAsync(api, version: "1.97", releasedOn: "2026-05-15");
        api.Clock.Reset(Instant.FromUtc(2026, 6, 1, 16, 0));

        var license = (await LicenseApiTests.GetAsync(api, "VT-1001")).Json();

        Assert.Equal("lapsed", license.GetProperty("status").GetString());
        Assert.Equal([false, true, false], license.GetProperty("updates").EnumerateArray().Select(u => u.GetProperty("entitled").GetBoolean()));
    }

    [Theory]
    [InlineData("Everything")]
    [InlineData("1")]
    public void An_unknown_entitlement_policy_fails_start_up_naming_the_setting(string value)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:Updates:Entitlement"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => api.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Smp:Updates:Entitlement", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, EntitlementPolicy.CurrentPlan)]
    [InlineData("ReleasedDuringCover", EntitlementPolicy.ReleasedDuringCover)]
    public void The_entitlement_policy_defaults_to_CurrentPlan(string? value, EntitlementPolicy expected)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:Updates:Entitlement"] = value });

        api.Services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(expected, api.Services.GetRequiredService<UpdateOptions>().Entitlement);
    }
}
