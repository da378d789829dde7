using NodaTime;
using Smp.Functions.Functions;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class LicenseApiTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    internal static async Task<ApiResponse> GetAsync(ApiHarness api, string serial)
    {
        var request = api.Request("GET", $"/api/licenses/{serial}");
        var result = await api.Function<LicenseFunctions>().GetLicense(request, serial, ApiHarness.Context("GetLicense"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    internal static async Task<ApiResponse> RenewAsync(ApiHarness api, string serial, string body)
    {
        var request = api.Request("POST", $"/api/licenses/{serial}/renewals", body);
        var result = await api.Function<LicenseFunctions>().RecordRenewal(request, serial, ApiHarness.Context("RecordRenewal"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    internal static async Task<ApiResponse> TrainingAsync(ApiHarness api, string serial)
    {
        var request = api.Request("POST", $"/api/licenses/{serial}/training");
        var result = await api.Function<LicenseFunctions>().RecordTraining(request, serial, ApiHarness.Context("RecordTraining"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    internal static async Task<ApiResponse> ContactsAsync(ApiHarness api, string serial, string body)
    {
        var request = api.Request("PUT", $"/api/licenses/{serial}/contacts", body);
        var result = await api.Function<LicenseFunctions>().ReplaceContacts(request, serial, ApiHarness.Context("ReplaceContacts"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    [Fact]
    public async Task Get_of_an_unknown_serial_is_a_404_problem()
    {
        var response = await GetAsync(_api, "NOPE-1");

        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal(404, response.Json().GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task R5_training_after_the_30_day_term_lapsed_makes_the_initial_term_one_year_and_twice_changes_nothing()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        _api.Clock.Reset(Instant.FromUtc(2026, 6, 15, 16, 0)); // the 30-day term ended 2026-05-01

        var first = await TrainingAsync(_api, "VT-1001");
        var second = await TrainingAsync(_api, "VT-1001");

        Assert.Equal(200, first.Status);
        Assert.Equal(200, second.Status);
        var license = (await GetAsync(_api, "VT-1001")).Json();
        Assert.True(license.GetProperty("onSiteTraining").GetBoolean());
        Assert.Equal("2027-04-01", license.GetProperty("expiresOn").GetString());
        Assert.Equal("current", license.GetProperty("status").GetString());
        Assert.Equal("training", license.GetProperty("terms")[0].GetProperty("source").GetString());
        Assert.Equal(["activated", "trainingRecorded"], license.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task R6_a_renewal_before_expiry_is_201_and_its_repeat_is_200_without_a_second_term()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));

        var renewed = await RenewAsync(_api, "vt-1001", """{"orderReference":"SO-5521","months":12,"paidAt":"2026-03-19T12:00:00Z"}""");
        var repeat = await RenewAsync(_api, "VT-1001", """{"orderReference":"SO-5521","months":12}""");

        Assert.Equal(201, renewed.Status);
        Assert.Equal(200, repeat.Status);
        var license = (await GetAsync(_api, "VT-1001")).Json();
        Assert.Equal("2028-04-01", license.GetProperty("expiresOn").GetString());
        var terms = license.GetProperty("terms");
        Assert.Equal(2, terms.GetArrayLength());
        Assert.Equal("2027-04-01", terms[1].GetProperty("start").GetString());
        Assert.Equal("SO-5521", terms[1].GetProperty("orderReference").GetString());
    }

    [Fact]
    public async Task R6_the_same_order_reference_with_different_months_is_a_409()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        await RenewAsync(_api, "VT-1001", """{"orderReference":"SO-5521"}""");

        var conflict = await RenewAsync(_api, "VT-1001", """{"orderReference":"SO-5521","months":24}""");

        Assert.Equal(409, conflict.Status);
        Assert.Equal("application/problem+json", conflict.MediaType);
        Assert.Equal(2, (await GetAsync(_api, "VT-1001")).Json().GetProperty("terms").GetArrayLength());
    }

    [Fact]
    public async Task R6_an_order_reference_is_trimmed_and_compared_ignoring_case()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));
        var first = await RenewAsync(_api, "VT-1001", """{"orderReference":"SO-1"}""");

        var otherCase = await RenewAsync(_api, "VT-1001", """{"orderReference":"so-1"}""");
        var padded = await RenewAsync(_api, "VT-1001", """{"orderReference":"  So-1 "}""");
        var conflict = await RenewAsync(_api, "VT-1001", """{"orderReference":"so-1","months":24}""");

        Assert.Equal(201, first.Status);
        Assert.Equal(200, otherCase.Status);
        Assert.Equal(200, padded.Status);
        Assert.Equal(409, conflict.Status);
        var license = (await GetAsync(_api, "VT-1001")).Json();
        Assert.Equal(2, license.GetProperty("terms").GetArrayLength());
        Assert.Equal("2028-04-01", license.GetProperty("expiresOn").GetString());
        Assert.Equal(["activated", "renewed"], license.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task R6_a_renewal_of_a_30_day_plan_adds_whole_months_to_its_expiresOn()
    {
        // Activated 2027-01-20: the 30-day term runs 2027-02-01 to 2027-03-03 (R3); 12 months later is 2028-03-03.
        _api.Clock.Reset(Instant.FromUtc(2027, 2, 20, 17, 0));
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(sentAt: "2027-01-20T10:00:00-07:00"));

        var renewed = await RenewAsync(_api, "VT-1001", """{"orderReference":"SO-30","months":12}""");

        Assert.Equal(201, renewed.Status);
        var license = renewed.Json();
        Assert.Equal("2028-03-03", license.GetProperty("expiresOn").GetString());
        var term = license.GetProperty("terms")[1];
        Assert.Equal("2027-03-03", term.GetProperty("start").GetString());
        Assert.Equal("2028-03-03", term.GetProperty("end").GetString());
        Assert.Equal(12, term.GetProperty("months").GetInt32());
    }

    [Fact]
    public async Task R6_a_renewal_after_lapse_resumes_cover_on_the_recording_date()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        _api.Clock.Reset(Instant.FromUtc(2026, 7, 10, 18, 0));

        var renewed = await RenewAsync(_api, "VT-1001", """{"orderReference":"SO-9"}""");

        var term = renewed.Json().GetProperty("terms")[1];
        Assert.Equal("2026-07-10", term.GetProperty("coveredFrom").GetString());
        Assert.Equal("2026-08-01", term.GetProperty("start").GetString());
        Assert.Equal("2027-08-01", term.GetProperty("end").GetString());
        Assert.Equal("current", renewed.Json().GetProperty("status").GetString());
    }

    [Fact]
    public async Task R8_the_license_document_lists_the_planned_reminders_of_the_current_expiry()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));

        var reminders = (await GetAsync(_api, "VT-1001")).Json().GetProperty("reminders").EnumerateArray()
            .Select(r => (r.GetProperty("stage").GetString(), r.GetProperty("dueOn").GetString(), r.GetProperty("expiresOn").GetString(), r.GetProperty("status").GetString()))
            .ToList();

        Assert.Equal([("90-day", "2027-01-01", "2027-04-01", "planned"), ("30-day", "2027-03-02", "2027-04-01", "planned")], reminders);
    }

    [Fact]
    public async Task Renewal_of_an_unknown_serial_is_a_404()
    {
        var response = await RenewAsync(_api, "NOPE-2", """{"orderReference":"SO-1"}""");

        Assert.Equal(404, response.Status);
    }

    [Fact]
    public async Task Ten_concurrent_renewals_with_distinct_orders_all_land_exactly_once()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(training: true));

        var responses = await Task.WhenAll(Enumerable.Range(1, 10).Select(i =>
            Task.Run(() => RenewAsync(_api, "VT-1001", $$"""{"orderReference":"SO-{{i}}","months":1}"""))));

        Assert.All(responses, r => Assert.Equal(201, r.Status));
        var license = (await GetAsync(_api, "VT-1001")).Json();
        Assert.Equal(11, license.GetProperty("terms").GetArrayLength());
        Assert.Equal("2028-02-01", license.GetProperty("expiresOn").GetString());
        var orders = license.GetProperty("terms").EnumerateArray().Skip(1).Select(t => t.GetProperty("orderReference").GetString()).Order();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"SO-{i}").Order(), orders);
        Assert.Equal(11, license.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Contacts_are_replaced_and_the_change_is_audited()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());

        var response = await ContactsAsync(_api, "VT-1001", """{"contacts":["renewals@acme.example.com"]}""");
        var unchanged = await ContactsAsync(_api, "VT-1001", """{"contacts":["RENEWALS@acme.example.com"]}""");

        Assert.Equal(200, response.Status);
        Assert.Equal(200, unchanged.Status);
        var license = (await GetAsync(_api, "VT-1001")).Json();
        Assert.Equal(["renewals@acme.example.com"], license.GetProperty("contacts").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["activated", "contactsChanged"], license.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
    }
}
