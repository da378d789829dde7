using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.Functions.Http;
using Smp.Functions.Staff;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// SPEC sections 7, 8 and 9 through the real app: the console's search, renewals, updates and imports pages, each
/// calling the API's use case; Smp.Reader sees them, Smp.Admin publishes, announces and imports; a person without
/// the role gets 403 and nothing changes; nobody gets 401 (or the sign-in redirect for a page).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ConsoleWorkPagesTests : IDisposable
{
    private const string Serial = "VT-1001";
    private const string Origin = "https://smp.example.com";
    private readonly ApiHarness _api;
    private readonly ConsoleApp _console;

    public ConsoleWorkPagesTests(AzuriteFixture azurite)
    {
        _api = App(azurite.ConnectionString);
        _console = new ConsoleApp(_api);
    }

    public void Dispose() => _api.Dispose();

    public static string AdminPrincipal => ClientPrincipal.Encode("Avery Admin", AdminId, StaffRoles.Admin);

    private async Task ActivateAsync(string serial = Serial) =>
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: serial))).Status);

    private Task<string> IssuedTokenAsync(string principal) =>
        _api.Services.GetRequiredService<FormTokens>().IssueAsync(ClientPrincipal.Parse(principal)!, CancellationToken.None);

    private async Task<string> PageTokenAsync(string path, string principal) =>
        TokenOf((await _console.SendAsync("GET", path, headers: As(principal))).Body);

    private Task<ApiResponse> PostAsync(string path, Dictionary<string, string> form, string? principal) =>
        _console.SendAsync("POST", path, form, principal is null ? null : As(principal, Origin));

    private Task<StoredLicense?> LicenseAsync(string serial) =>
        _api.Services.GetRequiredService<ILicenseStore>().GetAsync(Smp.Core.Plans.Serial.Parse(serial), CancellationToken.None);

    private Task<IReadOnlyList<StoredImportJob>> UnfinishedImportsAsync() =>
        _api.Services.GetRequiredService<IImportStore>().ListUnfinishedAsync(CancellationToken.None);

    private Task<IReadOnlyList<UpdateRelease>> UpdatesAsync() =>
        _api.Services.GetRequiredService<UpdateService>().ListAsync(CancellationToken.None);

    /// <summary>A form with a file, as a browser posts it (multipart/form-data), through the console's functions.</summary>
    private async Task<(ApiResponse Response, byte[] Bytes)> UploadAsync(byte[] file, string? token, string? principal, long? declaredLength = null)
    {
        using var content = new MultipartFormDataContent();
        if (token is not null)
        {
            content.Add(new StringContent(token), FormTokens.FieldName);
        }

        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Add(part, "file", "plans.csv");
        var body = await content.ReadAsByteArrayAsync();
        return await SendRawAsync("POST", "/console/imports", body, content.Headers.ContentType!.ToString(), principal, declaredLength);
    }

    /// <summary>One request with a raw body; the answer with its bytes as sent (a byte-order mark included).</summary>
    private async Task<(ApiResponse Response, byte[] Bytes)> SendRawAsync(string method, string pathAndQuery, byte[]? body, string? contentType, string? principal, long? declaredLength = null, MemoryStream? responseBody = null)
    {
        var http = new DefaultHttpContext();
        var split = pathAndQuery.Split('?', 2);
        http.Request.Method = method;
        http.Request.Path = split[0];
        http.Request.Host = new HostString("smp.example.com");
        http.Request.Scheme = "https";
        if (split.Length == 2)
        {
            http.Request.QueryString = new QueryString("?" + split[1]);
        }

        if (principal is not null)
        {
            http.Request.Headers[ClientPrincipal.Header] = principal;
            http.Request.Headers.Origin = Origin;
        }

        if (body is not null)
        {
            http.Request.Body = new MemoryStream(body);
            http.Request.ContentLength = declaredLength ?? body.Length;
            http.Request.ContentType = contentType;
        }

        http.Response.Body = responseBody ?? new MemoryStream();
        http.User = new ClaimsPrincipal(new ClaimsIdentity());
        Assert.True(await _console.HandleAsync(http), $"No console function serves {method} {pathAndQuery}.");
        var bytes = ((MemoryStream)http.Response.Body).ToArray();
        var text = new UTF8Encoding(false).GetString(bytes);
        return (new ApiResponse(http.Response.StatusCode, http.Response.ContentType, http.Response.Headers, text), bytes);
    }

    [GeneratedRegex("/console/imports/([0-9a-f]{32})")]
    private static partial Regex ImportPath();

    private static string ImportId(ApiResponse redirect) => ImportPath().Match(redirect.Headers.Location.ToString()) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("Not an import page: " + redirect.Headers.Location);

    // ---- Search ------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Section8_search_finds_a_license_by_a_word_of_its_customers_name_and_links_to_the_license_and_the_customer()
    {
        await ActivateAsync();
        await ActivateAsync("VT-2002");

        var page = await _console.SendAsync("GET", "/console/search?q=tube", headers: As(ReaderPrincipal));

        Assert.Equal(200, page.Status);
        Assert.Contains("<a href=\"/console/licenses/VT-1001\">VT-1001</a>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/console/licenses/VT-2002\">VT-2002</a>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/console/customers/C-42\">Acme Tube Works</a>", page.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"tube\"", page.Body, StringComparison.Ordinal);

        var bySerialStart = await _console.SendAsync("GET", "/console/search?q=vt-20", headers: As(ReaderPrincipal));
        Assert.Contains("VT-2002", bySerialStart.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", bySerialStart.Body, StringComparison.Ordinal);
        var byEmail = await _console.SendAsync("GET", "/console/search?q=cad%40example.com", headers: As(ReaderPrincipal));
        Assert.Contains("VT-1001", byEmail.Body, StringComparison.Ordinal);
        var none = await _console.SendAsync("GET", "/console/search?q=nobody", headers: As(ReaderPrincipal));
        Assert.Contains("No license matches.", none.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_a_search_without_a_letter_or_digit_shows_the_form_again_naming_q()
    {
        var page = await _console.SendAsync("GET", "/console/search?q=%21%21", headers: As(ReaderPrincipal));

        Assert.Equal(400, page.Status);
        Assert.Contains("<li>q: ", page.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"!!\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("aria-invalid=\"true\"", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_every_console_page_has_the_search_box_in_its_navigation()
    {
        var page = await _console.SendAsync("GET", "/console/mail", headers: As(ReaderPrincipal));

        Assert.Contains("<form class=\"find\" method=\"get\" action=\"/console/search\" role=\"search\">", page.Body, StringComparison.Ordinal);
        foreach (var link in new[] { "/console/search", "/console/renewals", "/console/updates", "/console/imports" })
        {
            Assert.Contains($"<a href=\"{link}\">", page.Body, StringComparison.Ordinal);
        }
    }

    // ---- Renewals ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Section8_renewals_lists_the_expiring_report_for_today_and_the_next_90_days_unless_another_range_is_chosen()
    {
        await ActivateAsync();
        var expiresOn = (await MailTestKit.StoredAsync(_api, Serial)).ExpiresOn.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var byDefault = await _console.SendAsync("GET", "/console/renewals", headers: As(ReaderPrincipal));
        Assert.Equal(200, byDefault.Status);
        Assert.Contains("value=\"2026-03-20\"", byDefault.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"2026-06-18\"", byDefault.Body, StringComparison.Ordinal);
        Assert.Contains($"<tr><td>{expiresOn}</td><td><a href=\"/console/licenses/VT-1001\">VT-1001</a>", byDefault.Body, StringComparison.Ordinal);
        Assert.Contains("href=\"/console/renewals.csv?from=2026-03-20&amp;to=2026-06-18\"", byDefault.Body, StringComparison.Ordinal);

        var later = await _console.SendAsync("GET", "/console/renewals?from=2026-07-01&to=2026-12-31", headers: As(ReaderPrincipal));
        Assert.Equal(200, later.Status);
        // The report of that range; the weekly digest's lists below it (section 11) are of today, whatever the range.
        var report = later.Body[..later.Body.IndexOf("<section id=\"digest\"", StringComparison.Ordinal)];
        Assert.DoesNotContain("VT-1001", report, StringComparison.Ordinal);
        Assert.Contains("No license expires in this range.", report, StringComparison.Ordinal);

        // A page after a continuation token starts after that license, as the API's report does.
        var after = await _console.SendAsync("GET", $"/console/renewals?from=2026-03-20&to=2026-06-18&continuationToken={expiresOn}_VT-1001", headers: As(ReaderPrincipal));
        Assert.DoesNotContain("<a href=\"/console/licenses/VT-1001\">", after.Body, StringComparison.Ordinal);
        Assert.Contains("First page", after.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_a_bad_range_shows_the_form_again_with_each_bad_field_named_and_its_value_kept()
    {
        var page = await _console.SendAsync("GET", "/console/renewals?from=3%2F14%2F2026&to=2026-01-01", headers: As(ReaderPrincipal));

        Assert.Equal(400, page.Status);
        Assert.Contains("<li>from: Expected a date as yyyy-MM-dd.</li>", page.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"3/14/2026\"", page.Body, StringComparison.Ordinal);
        var reversed = await _console.SendAsync("GET", "/console/renewals?from=2026-02-01&to=2026-01-01", headers: As(ReaderPrincipal));
        Assert.Equal(400, reversed.Status);
        Assert.Contains("<li>to: ", reversed.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_Section9_the_renewals_download_is_the_exports_rows_of_that_range_with_a_byte_order_mark_and_the_formula_guard()
    {
        await ActivateAsync();
        var imported = await ImportApiTests.ImportAndWaitAsync(_api,
            "serial,customerId,customerName,contacts,expiresOn\r\n"
            + "VT-3001,C-7,'=1+2 Tubes,ops@c7.example,2026-05-02\r\n"
            + "VT-3002,C-8,\"Late, Ltd\",ops@c8.example,2027-09-01\r\n");
        Assert.Equal(2, imported.GetProperty("created").GetInt32());

        var (download, bytes) = await SendRawAsync("GET", "/console/renewals.csv?from=2026-03-20&to=2026-06-18", null, null, ReaderPrincipal);
        var (_, export) = await ExportApiTests.ExportAsync(_api);

        Assert.Equal(200, download.Status);
        Assert.Equal("text/csv; charset=utf-8", download.ContentType);
        Assert.Equal("attachment; filename=\"renewals-2026-03-20-2026-06-18.csv\"", download.Headers.ContentDisposition.ToString());
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var exported = Encoding.UTF8.GetString(export, 3, export.Length - 3).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(exported[0], lines[0]);
        Assert.Equal(exported.Where(l => l.StartsWith("VT-1001,", StringComparison.Ordinal) || l.StartsWith("VT-3001,", StringComparison.Ordinal)).Order(StringComparer.Ordinal), lines[1..].Order(StringComparer.Ordinal));
        Assert.Contains(",'=1+2 Tubes,", lines.Single(l => l.StartsWith("VT-3001,", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_Section9_a_Reader_downloads_the_full_export_in_the_console_as_the_api_writes_it_streamed_a_page_at_a_time()
    {
        // More licenses than one page of the export (500), so the download is written in more than one piece.
        var csv = new StringBuilder("serial,customerId,customerName,contacts,expiresOn\r\n");
        for (var i = 0; i < LicenseCsvResult.PageSize + 20; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"VT-E{i:D4},C-{i % 9},Customer {i % 9},ops{i}@example.com,2027-0{1 + (i % 9)}-01\r\n");
        }

        Assert.Equal(LicenseCsvResult.PageSize + 20, (await ImportApiTests.ImportAndWaitAsync(_api, csv.ToString())).GetProperty("created").GetInt32());
        var dashboard = await _console.SendAsync("GET", "/console", headers: As(ReaderPrincipal));
        Assert.Contains("href=\"/console/exports/licenses.csv\"", dashboard.Body, StringComparison.Ordinal);

        var body = new FlushCountingStream();
        var (download, bytes) = await SendRawAsync("GET", "/console/exports/licenses.csv", null, null, ReaderPrincipal, responseBody: body);
        var (api, export) = await ExportApiTests.ExportAsync(_api);

        Assert.Equal(200, download.Status);
        Assert.Equal(export, bytes);
        Assert.Equal(api.ContentType, download.ContentType);
        Assert.Equal("text/csv; charset=utf-8", download.ContentType);
        Assert.Equal("attachment; filename=\"licenses.csv\"", download.Headers.ContentDisposition.ToString());
        Assert.Equal("no-store", download.Headers.CacheControl.ToString());
        Assert.Equal("nosniff", download.Headers.XContentTypeOptions.ToString());
        Assert.Equal("same-origin", download.Headers["Referrer-Policy"].ToString());
        Assert.Contains("frame-ancestors 'none'", download.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", download.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        // Streamed: the first page reached the response before the last was read, never the whole file at once.
        Assert.True(body.LengthsAtFlush.Count >= 2, $"{body.LengthsAtFlush.Count} flushes");
        Assert.InRange(body.LengthsAtFlush[0], 1, bytes.Length - 1);

        // Nobody signed in is sent to sign in, as every console page does; a person without a role gets 403.
        var (nobody, nothing) = await SendRawAsync("GET", "/console/exports/licenses.csv", null, null, null);
        Assert.Equal(302, nobody.Status);
        Assert.Equal("/.auth/login/aad?post_login_redirect_uri=" + Uri.EscapeDataString("/console/exports/licenses.csv"), nobody.Headers.Location.ToString());
        Assert.DoesNotContain("VT-E0001", Encoding.UTF8.GetString(nothing), StringComparison.Ordinal);
        var (noRole, _) = await SendRawAsync("GET", "/console/exports/licenses.csv", null, null, NoRolePrincipal);
        Assert.Equal(403, noRole.Status);
    }

    /// <summary>A response body that records how much had been written each time the writer flushed it.</summary>
    private sealed class FlushCountingStream : MemoryStream
    {
        public List<long> LengthsAtFlush { get; } = [];

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            LengthsAtFlush.Add(Length);
            return base.FlushAsync(cancellationToken);
        }
    }

    // ---- Roles on every page -----------------------------------------------------------------------------------

    public static TheoryData<string> ReaderPages => new() { "/console/search?q=acme", "/console/renewals", "/console/renewals.csv", "/console/exports/licenses.csv", "/console/updates", "/console/imports" };

    [Theory]
    [MemberData(nameof(ReaderPages))]
    public async Task Section7_the_search_renewals_updates_and_imports_pages_open_for_Smp_Reader_are_403_without_a_role_and_send_nobody_to_sign_in(string page)
    {
        Assert.Equal(200, (await _console.SendAsync("GET", page, headers: As(ReaderPrincipal))).Status);
        var noRole = await _console.SendAsync("GET", page, headers: As(NoRolePrincipal));
        Assert.Equal(403, noRole.Status);
        Assert.Contains("Smp.Reader", noRole.Body, StringComparison.Ordinal);
        var nobody = await _console.SendAsync("GET", page);
        Assert.Equal(302, nobody.Status);
        Assert.Equal("/.auth/login/aad?post_login_redirect_uri=" + Uri.EscapeDataString(page), nobody.Headers.Location.ToString());
    }

    [Fact]
    public async Task Section7_only_Smp_Admin_sees_the_publish_upload_and_announce_forms()
    {
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);

        foreach (var principal in new[] { ReaderPrincipal, StaffPrincipal })
        {
            Assert.DoesNotContain("Publish update", (await _console.SendAsync("GET", "/console/updates", headers: As(principal))).Body, StringComparison.Ordinal);
            Assert.DoesNotContain("Announce…", (await _console.SendAsync("GET", "/console/updates", headers: As(principal))).Body, StringComparison.Ordinal);
            Assert.DoesNotContain("type=\"file\"", (await _console.SendAsync("GET", "/console/imports", headers: As(principal))).Body, StringComparison.Ordinal);
            var confirm = await _console.SendAsync("GET", "/console/updates/1.96/announcements", headers: As(principal));
            Assert.Equal(403, confirm.Status);
            Assert.Contains("Smp.Admin", confirm.Body, StringComparison.Ordinal);
        }

        Assert.Contains("Publish update", (await _console.SendAsync("GET", "/console/updates", headers: As(AdminPrincipal))).Body, StringComparison.Ordinal);
        Assert.Contains("type=\"file\"", (await _console.SendAsync("GET", "/console/imports", headers: As(AdminPrincipal))).Body, StringComparison.Ordinal);
        Assert.Equal(302, (await _console.SendAsync("GET", "/console/updates/1.96/announcements")).Status);
    }

    // ---- Updates -----------------------------------------------------------------------------------------------

    private static Dictionary<string, string> PublishForm(string token, string version = "1.97", string releasedOn = "2026-03-18", string password = UpdateApi.Password) =>
        new() { ["__form"] = token, ["version"] = version, ["releasedOn"] = releasedOn, ["password"] = password };

    [Fact]
    public async Task Section8_R13_Smp_Admin_publishes_an_update_whose_password_is_stored_and_never_shown_back()
    {
        var token = await PageTokenAsync("/console/updates", AdminPrincipal);

        var posted = await PostAsync("/console/updates", PublishForm(token), AdminPrincipal);

        Assert.Equal(302, posted.Status);
        Assert.Equal("/console/updates?done=published", posted.Headers.Location.ToString());
        var release = Assert.Single(await UpdatesAsync());
        Assert.Equal("1.97", release.Version.Value);
        Assert.True(release.HasPassword);
        var page = await _console.SendAsync("GET", posted.Headers.Location.ToString(), headers: As(AdminPrincipal));
        Assert.Contains("The update was published.", page.Body, StringComparison.Ordinal);
        Assert.Contains("<td>1.97</td><td>2026-03-18</td><td>yes</td>", page.Body, StringComparison.Ordinal);
        Assert.Contains("type=\"password\" value=\"\" autocomplete=\"off\"", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Tube-Bend", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_a_refused_publish_names_the_bad_field_keeps_the_other_values_and_never_the_password()
    {
        var token = await PageTokenAsync("/console/updates", AdminPrincipal);

        var refused = await PostAsync("/console/updates", PublishForm(token, releasedOn: "3/18/2026"), AdminPrincipal);

        Assert.Equal(400, refused.Status);
        Assert.Contains("<li>releasedOn: ", refused.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"1.97\"", refused.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"3/18/2026\"", refused.Body, StringComparison.Ordinal);
        Assert.Contains("type=\"password\" value=\"\"", refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Tube-Bend", refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("p&#xE4;ss", refused.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await UpdatesAsync());
    }

    [Fact]
    public async Task Section8_R14_announcing_asks_for_confirmation_first_and_the_confirmed_post_announces_to_current_licenses()
    {
        await ActivateAsync();
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);
        var list = await _console.SendAsync("GET", "/console/updates", headers: As(AdminPrincipal));
        Assert.Contains("href=\"/console/updates/1.96/announcements\"", list.Body, StringComparison.Ordinal);

        var confirm = await _console.SendAsync("GET", "/console/updates/1.96/announcements", headers: As(AdminPrincipal));
        Assert.Equal(200, confirm.Status);
        Assert.Contains("Are you sure?", confirm.Body, StringComparison.Ordinal);
        Assert.Empty(await UpdateApi.PendingMailAsync(_api));

        var posted = await PostAsync("/console/updates/1.96/announcements", new() { ["__form"] = TokenOf(confirm.Body) }, AdminPrincipal);

        Assert.Equal(302, posted.Status);
        Assert.Equal("/console/updates?recipients=2&licenses=1&done=announced", posted.Headers.Location.ToString());
        Assert.Single(await UpdateApi.PendingMailAsync(_api));
        var page = await _console.SendAsync("GET", posted.Headers.Location.ToString(), headers: As(AdminPrincipal));
        Assert.Contains("The update was announced: 2 recipients about 1 licenses.", page.Body, StringComparison.Ordinal);
        var announced = Assert.Single(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.UpdateAnnounced));
        Assert.Equal("Avery Admin", announced.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Section8_announcing_an_update_not_released_yet_is_refused_and_sends_nothing()
    {
        await ActivateAsync();
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api, releasedOn: "2026-04-01")).Status);
        var token = await PageTokenAsync("/console/updates", AdminPrincipal);

        var refused = await PostAsync("/console/updates/1.96/announcements", new() { ["__form"] = token }, AdminPrincipal);

        Assert.Equal(409, refused.Status);
        Assert.Contains("released on 2026-04-01", refused.Body, StringComparison.Ordinal);
        Assert.Empty(await UpdateApi.PendingMailAsync(_api));
    }

    public static TheoryData<string> AdminActions => new() { "publish", "announce", "upload", "run" };

    /// <summary>An Smp.Admin action: its path and form (or upload), and the state it changes, read back.</summary>
    private async Task<(Func<string?, string?, Task<ApiResponse>> Post, Func<Task<string>> State)> AdminActionAsync(string action)
    {
        await ActivateAsync();
        switch (action)
        {
            case "publish":
                return ((token, principal) => PostAsync("/console/updates", PublishForm(token ?? string.Empty), principal), async () => string.Join(",", (await UpdatesAsync()).Select(u => u.Version.Value)));
            case "announce":
                Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);
                return ((token, principal) => PostAsync("/console/updates/1.96/announcements", new() { ["__form"] = token ?? string.Empty }, principal), async () => (await UpdateApi.PendingMailAsync(_api)).Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case "upload":
                return (async (token, principal) => (await UploadAsync(Encoding.UTF8.GetBytes(ImportApiTests.Sample), token, principal)).Response, async () => (await UnfinishedImportsAsync()).Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            default:
                var dryRun = (await UploadAsync(Encoding.UTF8.GetBytes(ImportApiTests.Sample), await PageTokenAsync("/console/imports", AdminPrincipal), AdminPrincipal)).Response;
                var id = ImportId(dryRun);
                await ImportApiTests.ProcessAsync(_api);
                return ((token, principal) => PostAsync($"/console/imports/{id}/run", new() { ["__form"] = token ?? string.Empty }, principal), async () => (await UnfinishedImportsAsync()).Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [MemberData(nameof(AdminActions))]
    public async Task Section7_every_update_and_import_action_succeeds_with_Smp_Admin_is_403_with_Smp_Staff_and_401_without_a_person(string action)
    {
        var (post, state) = await AdminActionAsync(action);
        var before = await state();

        var nobody = await post(await IssuedTokenAsync(AdminPrincipal), null);
        Assert.Equal(401, nobody.Status);
        Assert.Contains("/.auth/login/aad?post_login_redirect_uri=", nobody.Body, StringComparison.Ordinal);
        Assert.Equal(before, await state());

        var staff = await post(await IssuedTokenAsync(StaffPrincipal), StaffPrincipal);
        Assert.Equal(403, staff.Status);
        Assert.Contains("Smp.Admin", staff.Body, StringComparison.Ordinal);
        Assert.Equal(before, await state());

        var crossSite = await post("x" + await IssuedTokenAsync(AdminPrincipal), AdminPrincipal);
        Assert.Equal(403, crossSite.Status);
        Assert.Equal(before, await state());

        var admin = await post(await IssuedTokenAsync(AdminPrincipal), AdminPrincipal);
        Assert.Equal(302, admin.Status);
        Assert.NotEqual(before, await state());
    }

    // ---- Imports -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Section9_an_upload_is_a_dry_run_whose_report_lists_the_rows_to_fix_and_the_real_run_imports_the_same_file()
    {
        var token = await PageTokenAsync("/console/imports", AdminPrincipal);

        var (uploaded, _) = await UploadAsync(Encoding.UTF8.GetBytes(ImportApiTests.Sample), token, AdminPrincipal);

        Assert.Equal(302, uploaded.Status);
        var dryRunId = ImportId(uploaded);
        Assert.EndsWith("?done=dry-run", uploaded.Headers.Location.ToString(), StringComparison.Ordinal);
        var queued = await _console.SendAsync("GET", uploaded.Headers.Location.ToString(), headers: As(AdminPrincipal));
        Assert.Equal(200, queued.Status);
        Assert.Contains("<dd id=\"import-status\">queued</dd>", queued.Body, StringComparison.Ordinal);
        Assert.Contains($"<a id=\"refresh\" href=\"/console/imports/{dryRunId}\">Refresh</a>", queued.Body, StringComparison.Ordinal);
        Assert.Contains("<script src=\"/console/console.js\" defer></script>", queued.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Import these rows", queued.Body, StringComparison.Ordinal);

        await ImportApiTests.ProcessAsync(_api);
        var report = await _console.SendAsync("GET", $"/console/imports/{dryRunId}", headers: As(AdminPrincipal));
        Assert.Contains("<dd id=\"import-status\">done</dd>", report.Body, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"import-created\">3</dd>", report.Body, StringComparison.Ordinal);
        Assert.Contains("<tr><td>5</td><td>expiresOn</td><td>", report.Body, StringComparison.Ordinal);
        Assert.Contains("yyyy-MM-dd", report.Body, StringComparison.Ordinal);
        Assert.Contains("<tr><td>6</td><td>serial</td>", report.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", report.Body, StringComparison.Ordinal);
        Assert.Null(await LicenseAsync("VT-101"));

        var run = await PostAsync($"/console/imports/{dryRunId}/run", new() { ["__form"] = TokenOf(report.Body) }, AdminPrincipal);

        Assert.Equal(302, run.Status);
        var realId = ImportId(run);
        Assert.NotEqual(dryRunId, realId);
        await ImportApiTests.ProcessAsync(_api);
        var result = await _console.SendAsync("GET", $"/console/imports/{realId}", headers: As(ReaderPrincipal));
        Assert.Contains("Import: licenses are written.", result.Body, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"import-created\">3</dd>", result.Body, StringComparison.Ordinal);
        Assert.Contains("<tr><td>5</td><td>expiresOn</td>", result.Body, StringComparison.Ordinal);
        Assert.NotNull(await LicenseAsync("VT-101"));
        var imported = Assert.Single(await MailTestKit.EventsAsync(_api, "VT-101", LicenseEventTypes.Imported));
        Assert.Equal("Avery Admin", imported.GetProperty("actor").GetString());
        // R15: the job runs in the background, yet its events name the admin who started it by id too.
        Assert.True(imported.TryGetProperty("actorId", out var actorId), "The imported event has no actorId.");
        Assert.Equal(AdminId, actorId.GetString());

        // Only a dry run has a real run; the real one cannot be started again from its page.
        Assert.DoesNotContain("Import these rows", result.Body, StringComparison.Ordinal);
        var again = await PostAsync($"/console/imports/{realId}/run", new() { ["__form"] = await IssuedTokenAsync(AdminPrincipal) }, AdminPrincipal);
        Assert.Equal(404, again.Status);
        Assert.Empty(await UnfinishedImportsAsync());
    }

    [Fact]
    public async Task Section9_a_file_with_a_bad_header_is_refused_naming_the_columns_and_no_import_exists()
    {
        var token = await PageTokenAsync("/console/imports", AdminPrincipal);

        var (refused, _) = await UploadAsync(Encoding.UTF8.GetBytes("serial,customerId,customerName,contacts,colour\r\nVT-1,C-1,A,a@example.com,red\r\n"), token, AdminPrincipal);

        Assert.Equal(400, refused.Status);
        Assert.Contains("<li>colour: Unknown column", refused.Body, StringComparison.Ordinal);
        Assert.Contains("<li>expiresOn: The required column expiresOn is missing.</li>", refused.Body, StringComparison.Ordinal);
        Assert.Empty(await UnfinishedImportsAsync());
    }

    [Fact]
    public async Task Section9_a_file_over_10_MiB_is_a_413_and_no_import_exists()
    {
        var token = await PageTokenAsync("/console/imports", AdminPrincipal);
        var file = new byte[ImportFile.MaxBytes + 1];
        Array.Fill(file, (byte)'a');

        var (tooLarge, _) = await UploadAsync(file, token, AdminPrincipal);
        var (declaredTooLarge, _) = await SendRawAsync("POST", "/console/imports", [1, 2, 3], "multipart/form-data; boundary=x", AdminPrincipal, declaredLength: ImportFile.MaxBytes * 2L);

        Assert.Equal(413, tooLarge.Status);
        Assert.Equal(413, declaredTooLarge.Status);
        Assert.Contains("10 MiB", tooLarge.Body, StringComparison.Ordinal);
        Assert.Empty(await UnfinishedImportsAsync());
    }

    [Fact]
    public async Task Section8_the_new_pages_and_the_script_carry_the_console_headers_and_scripts_come_only_from_the_app()
    {
        var answers = new List<(string What, ApiResponse Response)>();
        foreach (var page in new[] { "/console/search?q=acme", "/console/renewals", "/console/updates", "/console/imports", "/console/console.js", "/console/imports/0123456789abcdef0123456789abcdef" })
        {
            answers.Add((page, await _console.SendAsync("GET", page, headers: As(ReaderPrincipal))));
        }

        foreach (var (what, response) in answers)
        {
            var csp = response.Headers.ContentSecurityPolicy.ToString();
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.XContentTypeOptions.ToString());
            Assert.Equal("same-origin", response.Headers["Referrer-Policy"].ToString());
            Assert.Equal("no-store", response.Headers.CacheControl.ToString());
            Assert.DoesNotContain("style=", response.Body, StringComparison.OrdinalIgnoreCase);
            Assert.False(Regex.IsMatch(response.Body, "<script(?![^>]*\\bsrc=\"/console/console\\.js\")", RegexOptions.IgnoreCase), what);
        }

        var script = answers.Single(a => a.What == "/console/console.js").Response;
        Assert.Equal(200, script.Status);
        Assert.Equal("text/javascript; charset=utf-8", script.ContentType);
        Assert.Contains("data-refresh", script.Body, StringComparison.Ordinal);
        Assert.Equal(404, answers.Single(a => a.What.StartsWith("/console/imports/", StringComparison.Ordinal)).Response.Status);
    }
}
