using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Outbox;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>SPEC section 10 through the real app: <c>POST /api/licenses/{serial}/replacement</c> and what follows it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReplacementApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    internal static async Task<ApiResponse> ReplaceAsync(ApiHarness api, string serial, string body)
    {
        var request = api.Request("POST", $"/api/licenses/{serial}/replacement", body);
        var result = await api.Function<ReplacementFunctions>().ReplaceDongle(request, serial, ApiHarness.Context("ReplaceDongle"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    private static string[] EventTypes(JsonElement license) =>
        [.. license.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()!)];

    [Fact]
    public async Task Section10_a_replacement_is_201_with_the_new_license_carrying_the_plan_and_its_repeat_is_200_with_the_same_document()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        await LicenseApiTests.RenewAsync(_api, "VT-1001", """{"orderReference":"SO-1","months":12}""");
        var before = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json();

        var created = await ReplaceAsync(_api, "vt-1001", """{"newSerial":" vt-2002 ","reason":"broken"}""");
        var repeat = await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002","reason":"broken"}""");

        Assert.Equal(201, created.Status);
        Assert.Equal("/api/licenses/VT-2002", created.Headers.Location.ToString());
        Assert.Equal(200, repeat.Status);
        Assert.Equal(created.Body, repeat.Body);
        var replacement = created.Json();
        Assert.Equal("VT-2002", replacement.GetProperty("serial").GetString());
        Assert.Equal("VT-1001", replacement.GetProperty("replacementOf").GetString());
        Assert.Equal("current", replacement.GetProperty("status").GetString());
        foreach (var same in new[] { "product", "customer", "contacts", "onSiteTraining", "activatedAt", "expiresOn", "terms" })
        {
            Assert.Equal(before.GetProperty(same).GetRawText(), replacement.GetProperty(same).GetRawText());
        }

        var newLicense = (await LicenseApiTests.GetAsync(_api, "VT-2002")).Json();
        Assert.Equal(["replacementOf"], EventTypes(newLicense));
        Assert.Equal("VT-1001", newLicense.GetProperty("events")[0].GetProperty("serial").GetString());
        var old = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json();
        Assert.Equal("replaced", old.GetProperty("status").GetString());
        Assert.Equal("VT-2002", old.GetProperty("replacedBy").GetString());
        Assert.Equal(["activated", "renewed", "replacementStarted", "replacedBy"], EventTypes(old));
        Assert.DoesNotContain(old.GetProperty("reminders").EnumerateArray(), r => r.GetProperty("status").GetString() == "planned");
    }

    [Fact]
    public async Task Section10_another_serial_an_existing_serial_and_every_change_to_the_old_license_are_409s_naming_the_new_serial()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-3003", training: true));

        var ontoExisting = await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-3003"}""");
        Assert.Equal(409, ontoExisting.Status);
        Assert.Contains("VT-3003", ontoExisting.Json().GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("current", (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json().GetProperty("status").GetString());

        Assert.Equal(201, (await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);
        ApiResponse[] refused =
        [
            await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-4004"}"""),
            await LicenseApiTests.RenewAsync(_api, "VT-1001", """{"orderReference":"SO-9"}"""),
            await LicenseApiTests.TrainingAsync(_api, "VT-1001"),
            await LicenseApiTests.ContactsAsync(_api, "VT-1001", """{"contacts":["new@example.com"]}"""),
        ];

        Assert.All(refused, r =>
        {
            Assert.Equal(409, r.Status);
            Assert.Equal("application/problem+json", r.MediaType);
            Assert.Contains("VT-2002", r.Json().GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-4004")).Status);
    }

    [Theory]
    [InlineData("""{"newSerial":"vt-1001"}""", "newSerial")]
    [InlineData("""{"newSerial":"VT 1"}""", "newSerial")]
    [InlineData("""{}""", "newSerial")]
    [InlineData("""{"newSerial":"VT-2002","reason":7}""", "reason")]
    [InlineData("""{"newSerial":"VT-2002","colour":"red"}""", "colour")]
    public async Task Section10_a_bad_replacement_is_a_400_naming_the_field_and_writes_nothing(string body, string field)
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));

        var response = await ReplaceAsync(_api, "VT-1001", body);

        Assert.Equal(400, response.Status);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), response.Body);
        var old = (await LicenseApiTests.GetAsync(_api, "VT-1001")).Json();
        Assert.Equal(["activated"], EventTypes(old));
        Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-2002")).Status);
    }

    [Fact]
    public async Task Section10_an_unknown_serial_is_a_404()
    {
        var response = await ReplaceAsync(_api, "VT-9999", """{"newSerial":"VT-2002"}""");

        Assert.Equal(404, response.Status);
        Assert.Equal(404, (await LicenseApiTests.GetAsync(_api, "VT-2002")).Status);
    }

    [Fact]
    public async Task Section10_the_customers_listing_shows_both_the_old_one_replaced_and_the_expiring_report_the_new_one_only()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002"}""");

        var listing = await _api.InvokeAsync(_api.Request("GET", "/api/customers/C-42/licenses"), "ListCustomerLicenses", c => _api.Function<ReportFunctions>().ListCustomerLicenses(_api.Request("GET", "/api/customers/C-42/licenses"), "C-42", c));
        var report = await _api.InvokeAsync(_api.Request("GET", "/api/reports/expiring", query: "from=2027-01-01&to=2027-12-31"), "ExpiringReport", c => _api.Function<ReportFunctions>().ExpiringReport(_api.Request("GET", "/api/reports/expiring", query: "from=2027-01-01&to=2027-12-31"), c));

        Assert.Equal(200, listing.Status);
        var licenses = listing.Json().GetProperty("licenses").EnumerateArray().ToDictionary(l => l.GetProperty("serial").GetString()!, l => l.GetProperty("status").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["VT-1001"] = "replaced", ["VT-2002"] = "current" }, licenses);
        Assert.Equal(200, report.Status);
        Assert.Equal(["VT-2002"], report.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
    }

    [Fact]
    public async Task Section10_R13_a_password_link_mailed_for_the_old_serial_answers_403_and_the_new_serials_link_gives_the_password()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        await UpdateApi.PublishAsync(_api);
        var oldLink = await UpdateApi.LinkAsync(_api, serial: "VT-1001");

        await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002"}""");

        var old = await UpdateApi.OpenAsync(_api, oldLink, accept: "application/json");
        var renewed = await UpdateApi.OpenAsync(_api, await UpdateApi.LinkAsync(_api, serial: "VT-2002"), accept: "application/json");
        Assert.Equal(403, old.Status);
        Assert.Equal("urn:smp:problem:not-entitled", old.Json().GetProperty("type").GetString());
        Assert.DoesNotContain(UpdateApi.Password, old.Body, StringComparison.Ordinal);
        Assert.Equal(200, renewed.Status);
        Assert.Equal(UpdateApi.Password, renewed.Json().GetProperty("password").GetString());
    }

    [Fact]
    public async Task Section10_R9_the_90_day_reminder_sent_for_the_old_serial_counts_and_the_30_day_one_goes_out_for_the_new_serial_only()
    {
        _api.Clock.Reset(InDenver(2026, 3, 20));
        await ActivateAsync(_api, "VT-1001", new LocalDate(2026, 4, 1)); // expires 2027-04-01
        _api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(_api);
        var ninety = Assert.Single(await UndeliveredAsync(_api), m => m.Kind == MailKinds.Reminder);
        Assert.Contains("VT-1001", ninety.Mail.PlainText, StringComparison.Ordinal);
        await DispatchAsync(_api);

        _api.Clock.Reset(InDenver(2027, 1, 10));
        Assert.Equal(201, (await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);
        await RunScanAsync(_api);
        Assert.DoesNotContain(await UndeliveredAsync(_api), m => m.Kind == MailKinds.Reminder);

        _api.Clock.Reset(InDenver(2027, 3, 2));
        await RunScanAsync(_api);

        var thirty = Assert.Single(await UndeliveredAsync(_api), m => m.Kind == MailKinds.Reminder);
        Assert.Contains("VT-2002", thirty.Mail.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", thirty.Mail.PlainText, StringComparison.Ordinal);
        var reminders = await RemindersAsync(_api, "VT-2002");
        Assert.Equal([("90-day", "sent"), ("30-day", "sent")], reminders.Select(r => (r.Stage!, r.Status!)));
        Assert.DoesNotContain(await RemindersAsync(_api, "VT-1001"), r => r.Status == "planned");
    }

    [Fact]
    public async Task Section10_R12_the_term_mail_of_the_new_serial_shows_the_plans_history_with_the_replacement()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        await LicenseApiTests.RenewAsync(_api, "VT-1001", """{"orderReference":"SO-1","months":12}""");
        await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002"}""");

        var accepted = await CustomerRequestTests.RequestTermAsync(_api, """{"serial":"VT-2002"}""");
        Assert.Equal(202, accepted.Status);

        var term = Assert.Single(await UndeliveredAsync(_api), m => m.Kind == MailKinds.Term);
        Assert.Contains("VT-2002", term.Mail.Subject, StringComparison.Ordinal);
        Assert.Contains("License VT-2002 replaced dongle VT-1001", term.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-1001", term.Mail.Html, StringComparison.Ordinal);
        Assert.Contains("SO-1", term.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section10_R9_a_replacement_left_begun_by_a_crash_is_finished_by_the_next_scan_and_its_reminder_follows_the_plan()
    {
        _api.Clock.Reset(InDenver(2026, 3, 20));
        await ActivateAsync(_api, "VT-1001", new LocalDate(2026, 4, 1)); // 90-day reminder due 2027-01-01
        var store = _api.Services.GetRequiredService<ILicenseStore>();
        var stored = (await store.GetAsync(Serial.Parse("VT-1001"), CancellationToken.None))!;
        var begun = Assert.IsType<Decision.Change>(PlanDecisions.BeginReplacement(stored.License, Serial.Parse("VT-2002"), null, _api.Clock.GetCurrentInstant(), new CommandContext("support", "corr-crashed")));
        Assert.True(await store.TryUpdateAsync(stored, begun.License, begun.Event, CancellationToken.None)); // then the process died

        _api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(_api);

        Assert.True((await store.GetAsync(Serial.Parse("VT-1001"), CancellationToken.None))!.License.IsReplaced);
        Assert.Equal(Serial.Parse("VT-1001"), (await store.GetAsync(Serial.Parse("VT-2002"), CancellationToken.None))!.License.ReplacementOf);
        await RunScanAsync(_api);
        var ninety = Assert.Single(await UndeliveredAsync(_api), m => m.Kind == MailKinds.Reminder);
        Assert.Contains("VT-2002", ninety.Mail.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", ninety.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section10_R9_a_reminder_queued_just_before_the_replacement_is_still_delivered_and_counts_as_sent_for_the_new_serial()
    {
        _api.Clock.Reset(InDenver(2026, 3, 20));
        await ActivateAsync(_api, "VT-1001", new LocalDate(2026, 4, 1));
        _api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(_api);
        var queued = Assert.Single(await UndeliveredAsync(_api), m => m.Kind == MailKinds.Reminder);

        Assert.Equal(201, (await ReplaceAsync(_api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);
        await DispatchAsync(_api);

        Assert.Equal(MailStatus.Sent, (await MessageAsync(_api, queued.Id)).Status);
        Assert.Contains(("90-day", "sent"), (await RemindersAsync(_api, "VT-2002")).Select(r => (r.Stage!, r.Status!)));
    }
}
