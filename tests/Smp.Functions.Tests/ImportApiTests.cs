using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Azure.Functions.Worker;
using NodaTime;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>SPEC section 9 through the real composition root over Azurite: POST /api/imports, GET /api/imports/{id}, the background job.</summary>
public sealed class ImportApiTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = InDenver(2027, 2, 15, 9);

    public const string Sample =
        "serial,customerId,customerName,contacts,product,activationEmailSentOn,planStart,expiresOn,onSiteTraining,note\r\n"
        + "VT-101,C-1,Acme Tube Works,buyer@acme.example;cad@acme.example,,2026-03-14,,2027-04-01,yes,first\r\n"
        + "VT-102,C-1,Acme Tube Works,buyer@acme.example,,,2026-06-01,2027-06-01,no,\r\n"
        + "VT-103,C-2,\"Beta, Inc.\",ops@beta.example,VTube-STEP,,,2027-03-01,,\r\n"
        + "VT-104,C-2,Beta,ops@beta.example,,,,3/14/2027,,\r\n"
        + "vt-101,C-9,Other,x@other.example,,,,2027-09-01,,\r\n";

    public static async Task<ApiResponse> PostAsync(ApiHarness api, string body, string dryRun = "false", string contentType = "text/csv") =>
        await PostAsync(api, Encoding.UTF8.GetBytes(body), dryRun, contentType);

    public static async Task<ApiResponse> PostAsync(ApiHarness api, byte[] body, string dryRun = "false", string contentType = "text/csv")
    {
        var request = api.Request("POST", "/api/imports", query: $"dryRun={dryRun}");
        request.Body = new MemoryStream(body);
        request.ContentLength = body.Length;
        request.ContentType = contentType;
        return await api.InvokeAsync(request, "StartImport", c => api.Function<ImportFunctions>().StartImport(request, c));
    }

    public static async Task<ApiResponse> GetAsync(ApiHarness api, string id)
    {
        var request = api.Request("GET", $"/api/imports/{id}");
        return await api.InvokeAsync(request, "GetImport", c => api.Function<ImportFunctions>().GetImport(request, id, c));
    }

    internal static Task ProcessAsync(ApiHarness api) =>
        api.Function<ImportFunctions>().ProcessImports(new TimerInfo(), ApiHarness.Context(ImportFunctions.ProcessFunctionName));

    public static async Task<JsonElement> ImportAndWaitAsync(ApiHarness api, string body, string dryRun = "false")
    {
        var posted = await PostAsync(api, body, dryRun);
        Assert.Equal(202, posted.Status);
        await ProcessAsync(api);
        var done = await GetAsync(api, posted.Json().GetProperty("id").GetString()!);
        Assert.Equal("done", done.Json().GetProperty("status").GetString());
        return done.Json();
    }

    private static (int Total, int Processed, int Created, int Unchanged, int Conflicts, int Invalid) Counts(JsonElement doc) => (
        doc.GetProperty("total").GetInt32(),
        doc.GetProperty("processed").GetInt32(),
        doc.GetProperty("created").GetInt32(),
        doc.GetProperty("unchanged").GetInt32(),
        doc.GetProperty("conflicts").GetInt32(),
        doc.GetProperty("invalid").GetInt32());

    [Fact]
    public async Task Section9_post_answers_202_with_Location_and_the_job_advances_in_the_background()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);

        var posted = await PostAsync(api, Sample);

        Assert.Equal(202, posted.Status);
        var id = posted.Json().GetProperty("id").GetString()!;
        Assert.Equal($"/api/imports/{id}", posted.Headers.Location.ToString());
        Assert.Equal("queued", posted.Json().GetProperty("status").GetString());
        Assert.Equal((5, 0, 0, 0, 0, 0), Counts(posted.Json()));

        await ProcessAsync(api);

        var done = (await GetAsync(api, id)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal((5, 5, 3, 0, 1, 1), Counts(done));
        var errors = done.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Equal([(5, ImportColumns.ExpiresOn), (6, ImportColumns.Serial)], errors);

        var license = await StoredAsync(api, "VT-101");
        Assert.Equal(new Term(TermKind.Imported, new LocalDate(2026, 4, 1), new LocalDate(2027, 4, 1), 12, null, TermSource.Import, null, new LocalDate(2026, 3, 14)), Assert.Single(license.Terms));
        var imported = Assert.Single(await EventsAsync(api, "VT-101", LicenseEventTypes.Imported));
        Assert.Equal("2", Data(imported, LicenseEventData.Row));
        Assert.Equal("first", Data(imported, LicenseEventData.Note));
        Assert.Equal("StartImport", imported.GetProperty("actor").GetString());
        Assert.Equal(64, Data(imported, LicenseEventData.FileSha256).Length);
        Assert.Equal("VTube-STEP", (await StoredAsync(api, "VT-103")).Product);

        // R8: the 90-day reminder of VT-101 was due 2027-01-01, before the import: handled before import, never sent.
        Assert.Contains(("90-day", "2027-01-01", "2027-04-01", "beforeImport", (string?)null), await RemindersAsync(api, "VT-101"));
    }

    [Fact]
    public async Task Section9_the_same_file_twice_changes_nothing_the_second_time()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        await ImportAndWaitAsync(api, Sample);
        var store = api.Services.GetRequiredService<ILicenseStore>();
        var before = await store.GetAsync(Serial.Parse("VT-102"), CancellationToken.None);

        var second = await ImportAndWaitAsync(api, Sample);

        Assert.Equal((5, 5, 0, 3, 1, 1), Counts(second));
        Assert.Single(await EventsAsync(api, "VT-102", LicenseEventTypes.Imported));
        var after = await store.GetAsync(Serial.Parse("VT-102"), CancellationToken.None);
        Assert.Equal((before!.Version, before.ConcurrencyToken), (after!.Version, after.ConcurrencyToken));
    }

    [Fact]
    public async Task Section9_a_dry_run_reports_what_a_real_run_would_do_and_writes_no_license()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        await ActivateAsync(api, "VT-102", new LocalDate(2026, 6, 1));

        var dry = await ImportAndWaitAsync(api, Sample, dryRun: "true");

        Assert.True(dry.GetProperty("dryRun").GetBoolean());
        Assert.Equal((5, 5, 2, 0, 2, 1), Counts(dry));
        Assert.Null(await api.Services.GetRequiredService<ILicenseStore>().GetAsync(Serial.Parse("VT-101"), CancellationToken.None));
    }

    [Fact]
    public async Task Section9_a_bad_header_is_a_400_naming_the_columns_and_no_job_exists()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);

        var response = await PostAsync(api, "serial,customer,contacts,contacts\r\nVT-1,C,a@b.example,a@b.example\r\n");

        Assert.Equal(400, response.Status);
        var errors = response.Json().GetProperty("errors");
        Assert.True(errors.TryGetProperty("customer", out _), response.Body);
        Assert.True(errors.TryGetProperty(ImportColumns.Contacts, out _), response.Body);
        Assert.True(errors.TryGetProperty(ImportColumns.CustomerName, out _), response.Body);
        Assert.True(errors.TryGetProperty(ImportColumns.ExpiresOn, out _), response.Body);
        Assert.Empty(await api.Services.GetRequiredService<IImportStore>().ListUnfinishedAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("maybe", "text/csv", "dryRun")]
    [InlineData("false", "application/json", "Content-Type")]
    public async Task Section9_a_bad_query_or_content_type_is_a_400_naming_it(string dryRun, string contentType, string field)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);

        var response = await PostAsync(api, Sample, dryRun, contentType);

        Assert.Equal(400, response.Status);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty(field, out _), response.Body);
    }

    [Fact]
    public async Task Section9_a_body_over_10_MiB_is_a_413_and_no_job_exists()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        var body = Encoding.UTF8.GetBytes(Sample + new string('x', ImportFile.MaxBytes));

        var response = await PostAsync(api, body);

        Assert.Equal(413, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Empty(await api.Services.GetRequiredService<IImportStore>().ListUnfinishedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Section9_a_file_that_is_not_UTF8_is_a_400_before_any_job()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);

        var response = await PostAsync(api, Encoding.Latin1.GetBytes(Sample.Replace("Beta", "Bëta", StringComparison.Ordinal)));

        Assert.Equal(400, response.Status);
        Assert.Contains("UTF-8", response.Body);
    }

    [Fact]
    public async Task Section9_an_unknown_import_is_a_404_and_a_malformed_id_a_400()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);

        Assert.Equal(404, (await GetAsync(api, Guid.NewGuid().ToString("N"))).Status);
        Assert.Equal(400, (await GetAsync(api, "not-an-id")).Status);
    }

    [Fact]
    public async Task Section9_errors_list_the_first_1000_and_the_counts_stay_exact()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        var file = new StringBuilder("serial,customerId,customerName,contacts,expiresOn\n");
        for (var i = 0; i < 1_050; i++)
        {
            file.Append(CultureInfoInvariant($"VT-{i},C-1,Acme,a@acme.example,3/14/2027\n"));
        }

        var done = await ImportAndWaitAsync(api, file.ToString(), dryRun: "true");

        Assert.Equal((1_050, 1_050, 0, 0, 0, 1_050), Counts(done));
        Assert.Equal(ImportJob.MaxErrors, done.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task Section10_a_replaced_row_never_hands_its_plan_to_another_customers_license()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        await ActivateAsync(api, "VT-900", new LocalDate(2026, 6, 1), customerId: "OTHER-1");
        const string file = "serial,customerId,customerName,contacts,expiresOn,status\r\n"
            + "VT-899,C-1,Acme,buyer@acme.example,2027-06-01,replaced\r\n"
            + "VT-900,C-1,Acme,buyer@acme.example,2027-06-01,current\r\n";

        foreach (var dryRun in new[] { "true", "false" })
        {
            var done = await ImportAndWaitAsync(api, file, dryRun);

            Assert.Equal((2, 2, 0, 0, 2, 0), Counts(done));
            var errors = done.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).Order().ToList();
            Assert.Equal([(2, LicenseCsv.Status), (3, ImportColumns.Serial)], errors);
        }

        Assert.Null(await api.Services.GetRequiredService<ILicenseStore>().GetAsync(Serial.Parse("VT-899"), CancellationToken.None));
        Assert.Equal("OTHER-1", (await StoredAsync(api, "VT-900")).Activation.Customer.Id);
    }

    [Fact]
    public async Task Section10_a_replaced_row_is_imported_after_its_replacement_even_when_the_file_lists_it_first()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        const string file = "serial,customerId,customerName,contacts,expiresOn,status\r\n"
            + "VT-899,C-1,Acme,buyer@acme.example,2027-06-01,replaced\r\n"
            + "VT-900,C-1,Acme,buyer@acme.example,2027-06-01,current\r\n";

        var dry = await ImportAndWaitAsync(api, file, "true");
        var done = await ImportAndWaitAsync(api, file);

        Assert.Equal((2, 2, 2, 0, 0, 0), Counts(dry));
        Assert.Equal((2, 2, 2, 0, 0, 0), Counts(done));
        Assert.Equal(PlanStatus.Replaced, (await StoredAsync(api, "VT-899")).StatusOn(new LocalDate(2027, 2, 15)));
        Assert.Equal(PlanStatus.Current, (await StoredAsync(api, "VT-900")).StatusOn(new LocalDate(2027, 2, 15)));
    }

    [Fact]
    public async Task Section9_a_file_close_to_10_MiB_is_stored_read_back_whole_and_its_dry_run_counts_every_row()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        var file = new StringBuilder("serial,customerId,customerName,contacts,product,activationEmailSentOn,planStart,expiresOn,onSiteTraining,note\n");
        const int Valid = 5;
        for (var i = 0; i < Valid; i++)
        {
            file.Append(CultureInfoInvariant($"VT-{i},C-1,Acme,a@acme.example,,,,2027-04-01,,first\n"));
        }

        // Long notes make the file big; Excel's date keeps those rows off the license store, so the dry run stays quick.
        var note = new string('n', ImportRowReader.MaxNoteLength);
        var rows = Valid;
        while (file.Length < ImportFile.MaxBytes - 1_000)
        {
            file.Append(CultureInfoInvariant($"VT-{rows},C-1,Acme,a@acme.example,,,,3/14/2027,,{note}\n"));
            rows++;
        }

        var bytes = Encoding.UTF8.GetBytes(file.ToString());
        Assert.InRange(bytes.Length, ImportFile.MaxBytes - 2_000, ImportFile.MaxBytes);

        var posted = await PostAsync(api, bytes, dryRun: "true");

        Assert.Equal(202, posted.Status);
        var id = posted.Json().GetProperty("id").GetString()!;
        Assert.Equal(bytes, await api.Services.GetRequiredService<IImportStore>().ReadFileAsync(id, CancellationToken.None));
        await ProcessAsync(api);
        var done = (await GetAsync(api, id)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal((rows, rows, Valid, 0, 0, rows - Valid), Counts(done));
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);
}
