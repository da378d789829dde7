using Microsoft.Extensions.DependencyInjection;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// SPEC sections 7 and 8 through the real app: roles on every console page and action, the anti-forgery token and
/// Origin check, post-redirect-get, forms shown again with their errors, the headers of every console page, and the
/// person recorded on the events they cause (R15).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConsoleTests : IDisposable
{
    private const string Serial = "VT-1001";
    private readonly FailingTransport _transport = new();
    private readonly ApiHarness _api;
    private readonly ConsoleApp _console;

    public ConsoleTests(AzuriteFixture azurite)
    {
        _api = App(azurite.ConnectionString, _transport);
        _console = new ConsoleApp(_api);
    }

    public void Dispose() => _api.Dispose();

    private async Task ActivateAsync() =>
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody())).Status);

    private Task<StoredLicense?> StoredAsync() => _api.Services.GetRequiredService<ILicenseStore>().GetAsync(Smp.Core.Plans.Serial.Parse(Serial), CancellationToken.None);

    private async Task<string> TokenAsync(string principal) =>
        TokenOf((await _console.SendAsync("GET", "/console/licenses/" + Serial, headers: As(principal))).Body);

    /// <summary>A valid token of a person the page shows no form to (a reader): issued as the console would.</summary>
    private Task<string> IssuedTokenAsync(string personId) =>
        _api.Services.GetRequiredService<Smp.Functions.Staff.FormTokens>().IssueAsync(new Smp.Functions.Staff.StaffPerson("Robin Reader", personId, [Smp.Functions.Staff.StaffRoles.Reader]), CancellationToken.None);

    private async Task<string> FailedMailAsync()
    {
        var id = Assert.Single(await MailDeliveryTests.EnqueueAsync(_api, 1));
        _transport.Refusing = true;
        await MailTestKit.DispatchAsync(_api);
        _transport.Refusing = false;
        Assert.Equal(MailStatus.Failed, (await MailTestKit.MessageAsync(_api, id)).Status);
        return id;
    }

    [Fact]
    public async Task Section8_R15_a_renewal_in_the_console_redirects_to_the_license_and_records_the_person_and_their_id()
    {
        await ActivateAsync();
        var token = await TokenAsync(StaffPrincipal);

        var posted = await _console.SendAsync("POST", $"/console/licenses/{Serial}/renewals", new Dictionary<string, string> { ["__form"] = token, ["orderReference"] = "SO-2026-0042", ["months"] = "12" }, As(StaffPrincipal, "https://smp.example.com"));

        Assert.Equal(302, posted.Status);
        Assert.Equal($"/console/licenses/{Serial}?done=renewed", posted.Headers.Location.ToString());
        var page = await _console.SendAsync("GET", posted.Headers.Location.ToString(), headers: As(StaffPrincipal));
        Assert.Equal(200, page.Status);
        Assert.Contains("The renewal was recorded.", page.Body, StringComparison.Ordinal);
        Assert.Contains("Dana Staff", page.Body, StringComparison.Ordinal);
        Assert.Contains(StaffId, page.Body, StringComparison.Ordinal);

        // The API shows the same event with the person's name and object id; the activation's key actor is kept.
        var renewed = Assert.Single(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.Renewed));
        Assert.Equal("Dana Staff", renewed.GetProperty("actor").GetString());
        Assert.Equal(StaffId, renewed.GetProperty("actorId").GetString());
        var activated = Assert.Single(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.Activated));
        Assert.False(activated.TryGetProperty("actorId", out _));
        Assert.Equal(2, (await StoredAsync())!.License.Terms.Length);
    }

    [Fact]
    public async Task Section8_a_refused_form_is_shown_again_with_each_bad_field_named_and_its_values_kept_and_nothing_changes()
    {
        await ActivateAsync();
        var before = (await StoredAsync())!.Version;
        var token = await TokenAsync(StaffPrincipal);

        var refused = await _console.SendAsync("POST", $"/console/licenses/{Serial}/renewals", new Dictionary<string, string> { ["__form"] = token, ["orderReference"] = "SO-<b>7", ["months"] = "99" }, As(StaffPrincipal));

        Assert.Equal(400, refused.Status);
        Assert.Equal("text/html; charset=utf-8", refused.ContentType);
        Assert.Contains("months: ", refused.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"99\"", refused.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"SO-&lt;b&gt;7\"", refused.Body, StringComparison.Ordinal);
        Assert.Contains("aria-invalid=\"true\"", refused.Body, StringComparison.Ordinal);

        var contacts = await _console.SendAsync("POST", $"/console/licenses/{Serial}/contacts", new Dictionary<string, string> { ["__form"] = token, ["contacts"] = "buyer@example.com\nnot-an-address" }, As(StaffPrincipal));
        Assert.Equal(400, contacts.Status);
        Assert.Contains("contacts[1]", contacts.Body, StringComparison.Ordinal);
        Assert.Contains("not-an-address", contacts.Body, StringComparison.Ordinal);
        Assert.Equal(before, (await StoredAsync())!.Version);
    }

    public static TheoryData<string> Actions => new() { "renewals", "training", "contacts", "retry" };

    private async Task<(string Path, Dictionary<string, string> Fields, Func<Task<string>> State)> ActionAsync(string action)
    {
        await ActivateAsync();
        if (action == "retry")
        {
            var id = await FailedMailAsync();
            return ($"/console/mail/{id}/retry", [], async () => (await MailTestKit.MessageAsync(_api, id)).Status.ToString());
        }

        Dictionary<string, string> fields = action switch
        {
            "renewals" => new() { ["orderReference"] = "SO-1", ["months"] = "12" },
            "contacts" => new() { ["contacts"] = "new@example.com" },
            _ => [],
        };
        return ($"/console/licenses/{Serial}/{action}", fields, async () => (await StoredAsync())!.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Section7_every_console_action_succeeds_with_Smp_Staff_is_403_without_it_and_401_without_a_person(string action)
    {
        var (path, fields, state) = await ActionAsync(action);
        var before = await state();

        var nobody = await _console.SendAsync("POST", path, new Dictionary<string, string>(fields) { ["__form"] = await TokenAsync(StaffPrincipal) });
        Assert.Equal(401, nobody.Status);
        Assert.Contains("/.auth/login/aad?post_login_redirect_uri=", nobody.Body, StringComparison.Ordinal);
        Assert.Equal(before, await state());

        var reader = await _console.SendAsync("POST", path, new Dictionary<string, string>(fields) { ["__form"] = await IssuedTokenAsync(ReaderId) }, As(ReaderPrincipal));
        Assert.Equal(403, reader.Status);
        Assert.Contains("Smp.Staff", reader.Body, StringComparison.Ordinal);
        Assert.Equal(before, await state());

        var staff = await _console.SendAsync("POST", path, new Dictionary<string, string>(fields) { ["__form"] = await TokenAsync(StaffPrincipal) }, As(StaffPrincipal));
        Assert.Equal(302, staff.Status);
        Assert.NotEqual(before, await state());
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Section8_a_cross_site_post_is_403_and_changes_nothing(string action)
    {
        var (path, fields, state) = await ActionAsync(action);
        var before = await state();
        var token = await TokenAsync(StaffPrincipal);
        var otherPersonsToken = await TokenAsync(ClientPrincipalOf(AdminId));

        foreach (var (form, headers) in new[]
        {
            (new Dictionary<string, string>(fields), As(StaffPrincipal)),
            (new Dictionary<string, string>(fields) { ["__form"] = "x" + token }, As(StaffPrincipal)),
            (new Dictionary<string, string>(fields) { ["__form"] = otherPersonsToken }, As(StaffPrincipal)),
            (new Dictionary<string, string>(fields) { ["__form"] = token }, As(StaffPrincipal, "https://evil.example")),
            (new Dictionary<string, string>(fields) { ["__form"] = token }, As(StaffPrincipal, "null")),
        })
        {
            var refused = await _console.SendAsync("POST", path, form, headers);
            Assert.Equal(403, refused.Status);
            Assert.Equal(before, await state());
        }
    }

    private static string ClientPrincipalOf(string id) => Smp.Functions.Staff.ClientPrincipal.Encode("Avery Admin", id, Smp.Functions.Staff.StaffRoles.Admin);

    public static TheoryData<string> Pages => new() { "/console", "/console/licenses/" + Serial, "/console/customers/C-42", "/console/mail" };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Section7_every_console_page_opens_for_Smp_Reader_is_403_without_a_role_and_sends_nobody_to_sign_in(string page)
    {
        await ActivateAsync();

        Assert.Equal(200, (await _console.SendAsync("GET", page, headers: As(ReaderPrincipal))).Status);
        var noRole = await _console.SendAsync("GET", page, headers: As(NoRolePrincipal));
        Assert.Equal(403, noRole.Status);
        Assert.Contains("Smp.Reader", noRole.Body, StringComparison.Ordinal);
        var nobody = await _console.SendAsync("GET", page);
        Assert.Equal(302, nobody.Status);
        Assert.Equal("/.auth/login/aad?post_login_redirect_uri=" + Uri.EscapeDataString(page), nobody.Headers.Location.ToString());
    }

    [Fact]
    public async Task Section7_a_forged_principal_gets_nobody_in_when_the_platforms_authentication_is_off()
    {
        using var api = new ApiHarness(_api.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["Smp:Tables"]!, Now);
        var console = new ConsoleApp(api);

        Assert.Equal(302, (await console.SendAsync("GET", "/console", headers: As(StaffPrincipal))).Status);
        Assert.Equal(401, (await console.SendAsync("POST", "/console/licenses/VT-1/training", new Dictionary<string, string> { ["__form"] = "x" }, As(StaffPrincipal))).Status);
    }

    [Fact]
    public async Task Section8_every_console_page_carries_the_security_headers_and_is_never_cached()
    {
        await ActivateAsync();
        var answers = new List<(string What, ApiResponse Response)>();
        foreach (var page in new[] { "/console", "/console/licenses/" + Serial, "/console/customers/C-42", "/console/mail", "/console/console.css", "/console/licenses/VT-404" })
        {
            answers.Add((page, await _console.SendAsync("GET", page, headers: As(StaffPrincipal))));
        }

        answers.Add(("403", await _console.SendAsync("GET", "/console", headers: As(NoRolePrincipal))));
        answers.Add(("302", await _console.SendAsync("GET", "/console")));
        answers.Add(("401", await _console.SendAsync("POST", $"/console/licenses/{Serial}/training")));

        foreach (var (what, response) in answers)
        {
            var csp = response.Headers.ContentSecurityPolicy.ToString();
            Assert.False(string.IsNullOrEmpty(csp), what);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.XContentTypeOptions.ToString());
            Assert.Equal("same-origin", response.Headers["Referrer-Policy"].ToString());
            Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        }

        // No inline style or script anywhere in the pages, so the policy needs no exception.
        foreach (var (what, response) in answers.Where(a => a.Response.MediaType == "text/html"))
        {
            Assert.DoesNotContain("style=", response.Body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<script", response.Body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<style", response.Body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Section8_the_dashboard_counts_expiring_and_lapsed_licenses_and_shows_each_chart_with_its_numbers()
    {
        await ActivateAsync();
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-1002", sentAt: "2025-12-14T10:00:00-07:00"))).Status);

        var page = await _console.SendAsync("GET", "/console", headers: As(ReaderPrincipal));

        Assert.Equal(200, page.Status);
        Assert.Contains("<dd id=\"expiring-30\">0</dd>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"expiring-90\">1</dd>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"lapsed-90\">1</dd>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<tr><td>May 2026</td><td>1</td></tr>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<tr><td>Jan 2026</td><td>1</td></tr>", page.Body, StringComparison.Ordinal);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(page.Body, "<svg class=\"chart\""));
    }

    [Fact]
    public async Task Section8_console_pages_encode_what_they_show()
    {
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(customerId: "C-<i>x</i>"))).Status);

        var page = await _console.SendAsync("GET", "/console/licenses/" + Serial, headers: As(StaffPrincipal));

        Assert.Contains("C-&lt;i&gt;x&lt;/i&gt;", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>x</i>", page.Body, StringComparison.Ordinal);
    }
}
