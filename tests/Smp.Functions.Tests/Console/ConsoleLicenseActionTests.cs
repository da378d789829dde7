using Microsoft.Extensions.DependencyInjection;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.Functions.Staff;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// SPEC sections 7, 8 and 10 through the real app: the license page's term mail, password link and dongle replacement,
/// and the activation form; each calls the API route's use case, with its role enforced.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConsoleLicenseActionTests : IDisposable
{
    private const string Serial = "VT-1001";
    private const string NewSerial = "VT-2002";
    private readonly ApiHarness _api;
    private readonly ConsoleApp _console;

    private readonly string _azuriteTables;

    public ConsoleLicenseActionTests(AzuriteFixture azurite)
    {
        _azuriteTables = azurite.ConnectionString;
        _api = App(azurite.ConnectionString);
        _console = new ConsoleApp(_api);
    }

    public void Dispose() => _api.Dispose();

    private static string AdminPrincipal => ClientPrincipal.Encode("Avery Admin", AdminId, StaffRoles.Admin);

    private async Task ActivateAsync() =>
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody())).Status);

    private Task<StoredLicense?> StoredAsync(string serial) =>
        _api.Services.GetRequiredService<ILicenseStore>().GetAsync(Smp.Core.Plans.Serial.Parse(serial), CancellationToken.None);

    private async Task<int> PendingRequestsAsync() =>
        (await _api.Services.GetRequiredService<ICustomerRequestQueue>().ListPendingAsync(_api.Clock.GetCurrentInstant(), 100, CancellationToken.None)).Count;

    private async Task<string> TokenAsync(string principal, string page = "/console/licenses/" + Serial) =>
        TokenOf((await _console.SendAsync("GET", page, headers: As(principal))).Body);

    private Task<string> IssuedTokenAsync(string principal) =>
        _api.Services.GetRequiredService<FormTokens>().IssueAsync(ClientPrincipal.Parse(principal)!, CancellationToken.None);

    private Task<ApiResponse> PostAsync(string path, Dictionary<string, string> fields, string token, string? principal) =>
        _console.SendAsync("POST", path, new Dictionary<string, string>(fields) { ["__form"] = token }, principal is null ? null : As(principal));

    private static Dictionary<string, string> ActivationForm(string serial = "VT-3003", string contacts = "buyer@example.com\ncad@example.com", string name = "Vertex Tooling") => new()
    {
        ["serial"] = serial,
        ["customer.id"] = "C-77",
        ["customer.name"] = name,
        ["contacts"] = contacts,
        ["onSiteTraining"] = "true",
        ["activationEmailSentAt"] = "2026-03-19T09:30",
    };

    public static TheoryData<string> Actions => new() { "term-mail", "password-link", "activation", "replacement" };

    /// <summary>The action's path, form, the role it needs, a principal that lacks it, and what changes when it succeeds.</summary>
    private async Task<(string Path, Dictionary<string, string> Fields, string Role, string Without, Func<Task<string>> State)> ActionAsync(string action)
    {
        await ActivateAsync();
        switch (action)
        {
            case "term-mail":
                return ($"/console/licenses/{Serial}/term-mail", [], StaffRoles.Staff, ReaderPrincipal, async () => (await PendingRequestsAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture));
            case "password-link":
                Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);
                return ($"/console/licenses/{Serial}/password-link", new() { ["version"] = "1.96" }, StaffRoles.Staff, ReaderPrincipal, async () => (await PendingRequestsAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture));
            case "activation":
                return ("/console/activations", ActivationForm(), StaffRoles.Staff, ReaderPrincipal, async () => (await StoredAsync("VT-3003") is null).ToString());
            default:
                return ($"/console/licenses/{Serial}/replacement", new() { ["newSerial"] = NewSerial, ["reason"] = "Broken in transit" }, StaffRoles.Admin, StaffPrincipal, async () => (await StoredAsync(Serial))!.Version + "/" + (await StoredAsync(NewSerial) is null));
        }
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Section7_each_license_page_action_and_the_activation_succeed_with_their_role_are_403_without_it_and_401_without_a_person(string action)
    {
        var (path, fields, role, without, state) = await ActionAsync(action);
        var before = await state();
        var withRole = role == StaffRoles.Admin ? AdminPrincipal : StaffPrincipal;

        var nobody = await PostAsync(path, fields, await IssuedTokenAsync(withRole), null);
        Assert.Equal(401, nobody.Status);
        Assert.Contains("/.auth/login/aad?post_login_redirect_uri=", nobody.Body, StringComparison.Ordinal);
        Assert.Equal(before, await state());

        var lacking = await PostAsync(path, fields, await IssuedTokenAsync(without), without);
        Assert.Equal(403, lacking.Status);
        Assert.Contains(role, lacking.Body, StringComparison.Ordinal);
        Assert.Equal(before, await state());

        var allowed = await PostAsync(path, fields, await IssuedTokenAsync(withRole), withRole);
        Assert.Equal(302, allowed.Status);
        Assert.NotEqual(before, await state());
    }

    [Fact]
    public async Task Section7_the_activation_page_opens_for_Smp_Staff_is_403_for_a_reader_and_sends_nobody_to_sign_in()
    {
        Assert.Equal(200, (await _console.SendAsync("GET", "/console/activations/new", headers: As(StaffPrincipal))).Status);
        var reader = await _console.SendAsync("GET", "/console/activations/new", headers: As(ReaderPrincipal));
        Assert.Equal(403, reader.Status);
        Assert.Contains("Smp.Staff", reader.Body, StringComparison.Ordinal);
        Assert.Equal(302, (await _console.SendAsync("GET", "/console/activations/new")).Status);
    }

    [Fact]
    public async Task Section8_the_replace_form_is_shown_to_Smp_Admin_only()
    {
        await ActivateAsync();

        Assert.Contains("/replacement\"", (await _console.SendAsync("GET", "/console/licenses/" + Serial, headers: As(AdminPrincipal))).Body, StringComparison.Ordinal);
        Assert.DoesNotContain("/replacement\"", (await _console.SendAsync("GET", "/console/licenses/" + Serial, headers: As(StaffPrincipal))).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section10_a_console_replacement_links_the_new_serial_and_the_old_license_shows_replaced()
    {
        await ActivateAsync();
        var token = await TokenAsync(AdminPrincipal);

        var posted = await PostAsync($"/console/licenses/{Serial}/replacement", new() { ["newSerial"] = NewSerial, ["reason"] = "Broken" }, token, AdminPrincipal);

        Assert.Equal(302, posted.Status);
        Assert.Equal($"/console/licenses/{Serial}?done=replaced", posted.Headers.Location.ToString());
        var old = await _console.SendAsync("GET", posted.Headers.Location.ToString(), headers: As(AdminPrincipal));
        Assert.Contains("<dd class=\"status\">Replaced</dd>", old.Body, StringComparison.Ordinal);
        Assert.Contains("The dongle was replaced", old.Body, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/console/licenses/{NewSerial}\">Open the new license {NewSerial}</a>", old.Body, StringComparison.Ordinal);
        Assert.Contains($"<dd id=\"replaced-by\"><a href=\"/console/licenses/{NewSerial}\">{NewSerial}</a></dd>", old.Body, StringComparison.Ordinal);
        Assert.DoesNotContain($"/console/licenses/{Serial}/renewals\"", old.Body, StringComparison.Ordinal); // No renewal form: every change is refused.

        var current = await _console.SendAsync("GET", "/console/licenses/" + NewSerial, headers: As(AdminPrincipal));
        Assert.Contains("<dd class=\"status\">Current</dd>", current.Body, StringComparison.Ordinal);
        Assert.Contains($"<dd id=\"replacement-of\"><a href=\"/console/licenses/{Serial}\">{Serial}</a></dd>", current.Body, StringComparison.Ordinal);
        Assert.Contains("Avery Admin", current.Body, StringComparison.Ordinal);
        Assert.Equal(PlanStatus.Replaced, (await StoredAsync(Serial))!.License.StatusOn(new NodaTime.LocalDate(2026, 3, 20)));
    }

    [Fact]
    public async Task R15_every_event_of_a_console_replacement_records_the_person_and_their_id()
    {
        await ActivateAsync();

        Assert.Equal(302, (await PostAsync($"/console/licenses/{Serial}/replacement", new() { ["newSerial"] = NewSerial }, await TokenAsync(AdminPrincipal), AdminPrincipal)).Status);

        foreach (var (serial, type) in new[] { (Serial, LicenseEventTypes.ReplacedBy), (NewSerial, LicenseEventTypes.ReplacementOf) })
        {
            var recorded = Assert.Single(await MailTestKit.EventsAsync(_api, serial, type));
            Assert.Equal("Avery Admin", recorded.GetProperty("actor").GetString());
            Assert.Equal(AdminId, recorded.GetProperty("actorId").GetString());
        }
    }

    [Fact]
    public async Task Section10_a_replacement_onto_the_same_serial_shows_the_form_again_naming_newSerial()
    {
        await ActivateAsync();
        var before = (await StoredAsync(Serial))!.Version;

        var refused = await PostAsync($"/console/licenses/{Serial}/replacement", new() { ["newSerial"] = Serial, ["reason"] = "<b>x</b>" }, await TokenAsync(AdminPrincipal), AdminPrincipal);

        Assert.Equal(400, refused.Status);
        Assert.Contains("newSerial: ", refused.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"&lt;b&gt;x&lt;/b&gt;\"", refused.Body, StringComparison.Ordinal);
        Assert.Equal(before, (await StoredAsync(Serial))!.Version);
    }

    [Fact]
    public async Task Section8_R12_R15_the_term_mail_is_queued_like_a_customers_request_says_so_and_records_the_person()
    {
        await ActivateAsync();
        var token = await TokenAsync(StaffPrincipal);

        var first = await PostAsync($"/console/licenses/{Serial}/term-mail", [], token, StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=term-queued", first.Headers.Location.ToString());
        Assert.Contains("The term mail was queued", (await _console.SendAsync("GET", first.Headers.Location.ToString(), headers: As(StaffPrincipal))).Body, StringComparison.Ordinal);
        var again = await PostAsync($"/console/licenses/{Serial}/term-mail", [], token, StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=term-already", again.Headers.Location.ToString());

        var mail = await MailTestKit.UndeliveredAsync(_api);
        Assert.Single(mail, m => m.Kind == Smp.Core.Outbox.MailKinds.Term);
        var requested = Assert.Single(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.TermRequested));
        Assert.Equal("Dana Staff", requested.GetProperty("actor").GetString());
        Assert.Equal(StaffId, requested.GetProperty("actorId").GetString());
    }

    [Fact]
    public async Task Section5_Section7_R13_a_staff_password_link_is_mailed_when_anonymous_asks_used_up_the_serials_allowance()
    {
        await ActivateAsync();
        string[] versions = ["1.90", "1.91", "1.92", "1.93"];
        foreach (var version in versions)
        {
            Assert.Equal(201, (await UpdateApi.PublishAsync(_api, version, releasedOn: "2026-03-16", password: "pw-" + version)).Status);
        }

        // Anyone who knows the serial uses up its daily allowance (three asks) from one address.
        foreach (var version in versions[..3])
        {
            Assert.Equal(202, (await UpdateApi.RequestLinkAsync(_api, Serial, version)).Status);
        }

        await MailTestKit.ProcessCustomerRequestsAsync(_api);

        var posted = await PostAsync($"/console/licenses/{Serial}/password-link", new() { ["version"] = "1.93" }, await TokenAsync(StaffPrincipal), StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=password-link-queued", posted.Headers.Location.ToString());

        var links = (await MailTestKit.UndeliveredAsync(_api)).Where(m => m.Kind == Smp.Core.Outbox.MailKinds.PasswordLink).ToList();
        Assert.Equal(4, links.Count);
        Assert.Single(links, m => m.Mail.Subject.Contains("1.93", StringComparison.Ordinal));
        var requested = await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.PasswordLinkRequested);
        Assert.Equal(4, requested.Count);
        Assert.Single(requested, e => e.TryGetProperty("actorId", out var id) && id.GetString() == StaffId);

        // The same ask again is no second copy.
        var again = await PostAsync($"/console/licenses/{Serial}/password-link", new() { ["version"] = "1.93" }, await TokenAsync(StaffPrincipal), StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=password-link-already", again.Headers.Location.ToString());
        Assert.Equal(4, (await MailTestKit.UndeliveredAsync(_api)).Count(m => m.Kind == Smp.Core.Outbox.MailKinds.PasswordLink));
    }

    [Fact]
    public async Task Section5_Section7_R12_a_staff_term_mail_is_mailed_when_anonymous_asks_used_up_the_routes_daily_cap()
    {
        using var api = App(_azuriteTables, settings: new Dictionary<string, string?> { ["Smp:AnonymousLimits:TermRequestsPerDay"] = "1" });
        var console = new ConsoleApp(api);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(serial: NewSerial, customerId: "C-43", contacts: "[\"other@example.com\"]"))).Status);

        // An anonymous ask about another license uses up the route's cap for the day.
        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(api, $$"""{"serial":"{{NewSerial}}"}""")).Status);
        await MailTestKit.ProcessCustomerRequestsAsync(api);

        var token = TokenOf((await console.SendAsync("GET", $"/console/licenses/{Serial}", headers: As(StaffPrincipal))).Body);
        var posted = await console.SendAsync("POST", $"/console/licenses/{Serial}/term-mail", new Dictionary<string, string> { ["__form"] = token }, As(StaffPrincipal));
        Assert.Equal($"/console/licenses/{Serial}?done=term-queued", posted.Headers.Location.ToString());

        var terms = (await MailTestKit.UndeliveredAsync(api)).Where(m => m.Kind == Smp.Core.Outbox.MailKinds.Term).ToList();
        Assert.Equal(2, terms.Count);
        Assert.Single(terms, m => m.Mail.To.Any(a => a.Value == "buyer@example.com"));
        var requested = Assert.Single(await MailTestKit.EventsAsync(api, Serial, LicenseEventTypes.TermRequested));
        Assert.Equal(StaffId, requested.GetProperty("actorId").GetString());
    }

    [Fact]
    public async Task Section5_Section7_R12_a_staff_term_mail_after_an_anonymous_ask_refused_by_the_limits_is_mailed_once()
    {
        using var api = App(_azuriteTables, settings: new Dictionary<string, string?> { ["Smp:AnonymousLimits:TermRequestsPerDay"] = "1" });
        var console = new ConsoleApp(api);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(serial: NewSerial, customerId: "C-43", contacts: "[\"other@example.com\"]"))).Status);

        // Another license's anonymous ask uses up the route's cap, so this license's anonymous ask is refused: no mail.
        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(api, $$"""{"serial":"{{NewSerial}}"}""")).Status);
        await MailTestKit.ProcessCustomerRequestsAsync(api);
        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(api, $$"""{"serial":"{{Serial}}"}""")).Status);
        Assert.DoesNotContain(await MailTestKit.UndeliveredAsync(api), m => m.Kind == Smp.Core.Outbox.MailKinds.Term && m.Mail.To.Any(a => a.Value == "buyer@example.com"));

        var token = TokenOf((await console.SendAsync("GET", $"/console/licenses/{Serial}", headers: As(StaffPrincipal))).Body);
        var posted = await console.SendAsync("POST", $"/console/licenses/{Serial}/term-mail", new Dictionary<string, string> { ["__form"] = token }, As(StaffPrincipal));
        Assert.Equal($"/console/licenses/{Serial}?done=term-queued", posted.Headers.Location.ToString());
        Assert.Contains("The term mail was queued", (await console.SendAsync("GET", posted.Headers.Location.ToString(), headers: As(StaffPrincipal))).Body, StringComparison.Ordinal);

        Assert.Single((await MailTestKit.UndeliveredAsync(api)).Where(m => m.Kind == Smp.Core.Outbox.MailKinds.Term), m => m.Mail.To.Any(a => a.Value == "buyer@example.com"));
        var again = await console.SendAsync("POST", $"/console/licenses/{Serial}/term-mail", new Dictionary<string, string> { ["__form"] = token }, As(StaffPrincipal));
        Assert.Equal($"/console/licenses/{Serial}?done=term-already", again.Headers.Location.ToString());
        Assert.Single((await MailTestKit.UndeliveredAsync(api)).Where(m => m.Kind == Smp.Core.Outbox.MailKinds.Term), m => m.Mail.To.Any(a => a.Value == "buyer@example.com"));
        var requested = Assert.Single(await MailTestKit.EventsAsync(api, Serial, LicenseEventTypes.TermRequested));
        Assert.Equal(StaffId, requested.GetProperty("actorId").GetString());
    }

    [Fact]
    public async Task Section7_R12_R15_a_staff_term_mail_takes_over_an_anonymous_ask_not_yet_acted_on_and_is_mailed_once_as_the_persons()
    {
        await ActivateAsync();
        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(_api, $$"""{"serial":"{{Serial}}"}""")).Status);

        var posted = await PostAsync($"/console/licenses/{Serial}/term-mail", [], await TokenAsync(StaffPrincipal), StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=term-queued", posted.Headers.Location.ToString());

        Assert.Single(await MailTestKit.UndeliveredAsync(_api), m => m.Kind == Smp.Core.Outbox.MailKinds.Term);
        var requested = Assert.Single(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.TermRequested));
        Assert.Equal(StaffId, requested.GetProperty("actorId").GetString());
    }

    [Fact]
    public async Task Section7_R12_R15_a_staff_term_mail_after_an_anonymous_ask_that_was_mailed_is_sent_again_once_as_the_persons()
    {
        // SPEC says nothing of it: a signed-in person asking is a deliberate act, recorded with its actor, so it is sent.
        await ActivateAsync();
        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(_api, $$"""{"serial":"{{Serial}}"}""")).Status);
        Assert.Single(await MailTestKit.UndeliveredAsync(_api), m => m.Kind == Smp.Core.Outbox.MailKinds.Term);

        var token = await TokenAsync(StaffPrincipal);
        var posted = await PostAsync($"/console/licenses/{Serial}/term-mail", [], token, StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=term-queued", posted.Headers.Location.ToString());
        var again = await PostAsync($"/console/licenses/{Serial}/term-mail", [], token, StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=term-already", again.Headers.Location.ToString());

        Assert.Equal(2, (await MailTestKit.UndeliveredAsync(_api)).Count(m => m.Kind == Smp.Core.Outbox.MailKinds.Term));
        var requested = await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.TermRequested);
        Assert.Equal(2, requested.Count);
        Assert.Single(requested, e => e.TryGetProperty("actorId", out var id) && id.GetString() == StaffId);
    }

    [Fact]
    public Task R15_a_staff_term_mail_taking_over_an_anonymous_ask_a_run_just_mailed_records_one_event_for_the_one_mail() =>
        TakeoverAfterARunMailedAsync(
            ask: api => CustomerRequestTests.RequestTermAsync(api, $$"""{"serial":"{{Serial}}"}"""),
            action: "term-mail",
            fields: [],
            done: "term-queued",
            mailKind: Smp.Core.Outbox.MailKinds.Term,
            eventType: LicenseEventTypes.TermRequested);

    [Fact]
    public Task R15_a_staff_password_link_taking_over_an_anonymous_ask_a_run_just_mailed_records_one_event_for_the_one_mail() =>
        TakeoverAfterARunMailedAsync(
            ask: async api =>
            {
                Assert.Equal(201, (await UpdateApi.PublishAsync(api)).Status);
                return await UpdateApi.RequestLinkAsync(api, Serial, "1.96");
            },
            action: "password-link",
            fields: new() { ["version"] = "1.96" },
            done: "password-link-queued",
            mailKind: Smp.Core.Outbox.MailKinds.PasswordLink,
            eventType: LicenseEventTypes.PasswordLinkRequested);

    /// <summary>
    /// The run mails the anonymous ask; before it marks it done, a staff member takes it over (the row changes, so
    /// marking it done finds it rewritten and leaves it pending); the next run acts on it again. One mail, one event.
    /// </summary>
    private async Task TakeoverAfterARunMailedAsync(
        Func<ApiHarness, Task<ApiResponse>> ask, string action, Dictionary<string, string> fields, string done, string mailKind, string eventType)
    {
        var race = new TakeoverBeforeMarkDone();
        using var api = App(_azuriteTables, services: s => s.Decorate<ICustomerRequestQueue>((queue, _) => race.Around(queue)));
        var console = new ConsoleApp(api);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(202, (await ask(api)).Status);
        var token = TokenOf((await console.SendAsync("GET", $"/console/licenses/{Serial}", headers: As(StaffPrincipal))).Body);
        fields["__form"] = token;
        race.Before = async () => Assert.Equal(
            $"/console/licenses/{Serial}?done={done}",
            (await console.SendAsync("POST", $"/console/licenses/{Serial}/{action}", fields, As(StaffPrincipal))).Headers.Location.ToString());

        await MailTestKit.ProcessCustomerRequestsAsync(api);
        Assert.True(race.Happened);
        await MailTestKit.ProcessCustomerRequestsAsync(api);

        var mail = Assert.Single(await MailTestKit.UndeliveredAsync(api), m => m.Kind == mailKind);
        var requested = Assert.Single(await MailTestKit.EventsAsync(api, Serial, eventType));
        Assert.Equal(mail.Mail.Id, MailTestKit.Data(requested, LicenseEventData.MailId));
        Assert.False(requested.TryGetProperty("actorId", out _), "The one mail went out on the anonymous ask, so its event names no staff member.");
    }

    [Fact]
    public async Task Section7_R12_R15_a_staff_term_mail_after_an_anonymous_ask_was_given_up_is_pending_with_attempts_of_its_own_and_mailed_once()
    {
        var licensesDown = new FailLicenseReads();
        using var api = App(_azuriteTables, services: s => s.AddSingleton(_ =>
        {
            var options = new global::Azure.Data.Tables.TableClientOptions();
            options.AddPolicy(licensesDown, global::Azure.Core.HttpPipelinePosition.PerCall);
            return new global::Azure.Data.Tables.TableServiceClient(_azuriteTables, options);
        }));
        var console = new ConsoleApp(api);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(api, $$"""{"serial":"{{Serial}}"}""")).Status);

        // Every attempt at the anonymous ask fails (the license cannot be read), until it is given up.
        licensesDown.Table = api.TablePrefix + "licenses";
        for (var run = 0; run < CustomerRequestRetry.Default.MaxAttempts; run++)
        {
            await MailTestKit.ProcessCustomerRequestsAsync(api);
            api.Clock.Advance(NodaTime.Duration.FromHours(1));
        }

        licensesDown.Table = null;
        Assert.True(licensesDown.Failed >= CustomerRequestRetry.Default.MaxAttempts);
        var queue = api.Services.GetRequiredService<ICustomerRequestQueue>();
        Assert.Empty(await queue.ListPendingAsync(NodaTime.Instant.MaxValue, 10, CancellationToken.None));

        var token = TokenOf((await console.SendAsync("GET", $"/console/licenses/{Serial}", headers: As(StaffPrincipal))).Body);
        var posted = await console.SendAsync("POST", $"/console/licenses/{Serial}/term-mail", new Dictionary<string, string> { ["__form"] = token }, As(StaffPrincipal));
        Assert.Equal($"/console/licenses/{Serial}?done=term-queued", posted.Headers.Location.ToString());

        var pending = Assert.Single(await queue.ListPendingAsync(api.Clock.GetCurrentInstant(), 10, CancellationToken.None));
        Assert.True(pending.Request.FromStaff);
        Assert.Equal(StaffId, pending.Request.ActorId);
        Assert.Equal(0, pending.FailedAttempts);

        Assert.Single(await MailTestKit.UndeliveredAsync(api), m => m.Kind == Smp.Core.Outbox.MailKinds.Term);
        await MailTestKit.ProcessCustomerRequestsAsync(api);
        Assert.Single(await MailTestKit.UndeliveredAsync(api), m => m.Kind == Smp.Core.Outbox.MailKinds.Term);
        var requested = Assert.Single(await MailTestKit.EventsAsync(api, Serial, LicenseEventTypes.TermRequested));
        Assert.Equal(StaffId, requested.GetProperty("actorId").GetString());
    }

    public static TheoryData<string> MailActions => new() { "term-mail", "password-link" };

    [Theory]
    [MemberData(nameof(MailActions))]
    public async Task Section8_a_term_mail_or_password_link_for_a_serial_no_license_has_is_404_and_writes_nothing(string action)
    {
        await ActivateAsync();
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);
        var token = await TokenAsync(StaffPrincipal);

        Dictionary<string, string> fields = action == "password-link" ? new() { ["version"] = "1.96" } : [];

        var unknown = await PostAsync($"/console/licenses/VT-404/{action}", fields, token, StaffPrincipal);
        var malformed = await PostAsync($"/console/licenses/{new string('X', 40)}/{action}", fields, token, StaffPrincipal);

        Assert.Equal(404, unknown.Status);
        Assert.Contains("No license has this serial.", unknown.Body, StringComparison.Ordinal);
        Assert.Equal(400, malformed.Status);
        Assert.Equal(0, await PendingRequestsAsync());
        Assert.Empty(await MailTestKit.UndeliveredAsync(_api));
        Assert.Empty(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.TermRequested));
        Assert.Empty(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.PasswordLinkRequested));
    }

    [Fact]
    public async Task Section7_R13_R15_a_staff_password_link_takes_over_an_anonymous_ask_not_yet_acted_on_and_is_mailed_once_as_the_persons()
    {
        await ActivateAsync();
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);
        Assert.Equal(202, (await UpdateApi.RequestLinkAsync(_api, Serial, "1.96")).Status);

        var posted = await PostAsync($"/console/licenses/{Serial}/password-link", new() { ["version"] = "1.96" }, await TokenAsync(StaffPrincipal), StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=password-link-queued", posted.Headers.Location.ToString());

        var link = Assert.Single(await MailTestKit.UndeliveredAsync(_api), m => m.Kind == Smp.Core.Outbox.MailKinds.PasswordLink);
        await MailTestKit.ProcessCustomerRequestsAsync(_api);
        Assert.Single(await MailTestKit.UndeliveredAsync(_api), m => m.Kind == Smp.Core.Outbox.MailKinds.PasswordLink);
        var requested = Assert.Single(await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.PasswordLinkRequested));
        Assert.Equal(StaffId, requested.GetProperty("actorId").GetString());
        Assert.Equal(link.Mail.Id, MailTestKit.Data(requested, LicenseEventData.MailId));
    }

    [Fact]
    public async Task Section7_R13_R15_a_staff_password_link_after_the_anonymous_one_was_mailed_is_sent_again_each_mail_recorded_once()
    {
        await ActivateAsync();
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);
        Assert.Equal(202, (await UpdateApi.RequestLinkAsync(_api, Serial, "1.96")).Status);
        var anonymous = Assert.Single(await MailTestKit.UndeliveredAsync(_api), m => m.Kind == Smp.Core.Outbox.MailKinds.PasswordLink);

        var token = await TokenAsync(StaffPrincipal);
        var posted = await PostAsync($"/console/licenses/{Serial}/password-link", new() { ["version"] = "1.96" }, token, StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=password-link-queued", posted.Headers.Location.ToString());
        var again = await PostAsync($"/console/licenses/{Serial}/password-link", new() { ["version"] = "1.96" }, token, StaffPrincipal);
        Assert.Equal($"/console/licenses/{Serial}?done=password-link-already", again.Headers.Location.ToString());
        await MailTestKit.ProcessCustomerRequestsAsync(_api);

        var links = (await MailTestKit.UndeliveredAsync(_api)).Where(m => m.Kind == Smp.Core.Outbox.MailKinds.PasswordLink).ToList();
        Assert.Equal(2, links.Count);
        var staff = Assert.Single(links, m => m.Mail.Id != anonymous.Mail.Id);
        var requested = await MailTestKit.EventsAsync(_api, Serial, LicenseEventTypes.PasswordLinkRequested);
        Assert.Equal(2, requested.Count);
        Assert.Single(requested, e => MailTestKit.Data(e, LicenseEventData.MailId) == anonymous.Mail.Id && !e.TryGetProperty("actorId", out _));
        var persons = Assert.Single(requested, e => MailTestKit.Data(e, LicenseEventData.MailId) == staff.Mail.Id);
        Assert.Equal(StaffId, persons.GetProperty("actorId").GetString());
    }

    [Fact]
    public async Task R15_a_quote_request_taken_over_by_staff_after_a_run_just_mailed_it_records_one_event_for_the_one_desk_mail()
    {
        // The console has no quote action yet; the use case allows a staff quote, so its event is recorded once per
        // mail like the term and the password link, whichever request acts on it again.
        var race = new TakeoverBeforeMarkDone();
        using var api = App(_azuriteTables, services: s => s.Decorate<ICustomerRequestQueue>((queue, _) => race.Around(queue)));
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(202, (await CustomerRequestTests.RequestQuoteAsync(api, $$"""{"serial":"{{Serial}}"}""")).Status);
        var requests = api.Services.GetRequiredService<CustomerRequests>();
        race.Before = async () => Assert.True(await requests.AcceptFromStaffAsync(
            requests.Today(CustomerRequestKinds.Quote, Smp.Core.Plans.Serial.Parse(Serial), null, QuoteScope.License, new CommandContext("Dana Staff", "staff-quote-1", StaffId)),
            CancellationToken.None));

        await MailTestKit.ProcessCustomerRequestsAsync(api);
        Assert.True(race.Happened);
        await MailTestKit.ProcessCustomerRequestsAsync(api);

        var desk = Assert.Single(await MailTestKit.UndeliveredAsync(api), m => m.Kind == Smp.Core.Outbox.MailKinds.QuoteNotification);
        Assert.Single(await MailTestKit.UndeliveredAsync(api), m => m.Kind == Smp.Core.Outbox.MailKinds.QuoteAcknowledgement);
        var requested = Assert.Single(await MailTestKit.EventsAsync(api, Serial, LicenseEventTypes.QuoteRequested));
        Assert.Equal(desk.Mail.Id, MailTestKit.Data(requested, LicenseEventData.NotificationMailId));
        Assert.False(requested.TryGetProperty("actorId", out _), "The one desk mail went out on the anonymous ask, so its event names no staff member.");
    }

    [Fact]
    public async Task Section8_R13_a_password_link_for_an_update_that_was_never_released_shows_the_form_again_naming_version()
    {
        await ActivateAsync();
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api)).Status);

        var refused = await PostAsync($"/console/licenses/{Serial}/password-link", new() { ["version"] = "9.99" }, await TokenAsync(StaffPrincipal), StaffPrincipal);

        Assert.Equal(400, refused.Status);
        Assert.Contains("version: No update with this version has been released.", refused.Body, StringComparison.Ordinal);
        Assert.Equal(0, await PendingRequestsAsync());
    }

    [Fact]
    public async Task Section8_the_activation_form_records_the_license_and_a_refused_one_names_each_bad_field_and_keeps_the_values()
    {
        var token = await TokenAsync(StaffPrincipal, "/console/activations/new");

        var refused = await PostAsync("/console/activations", ActivationForm(contacts: "buyer@example.com\nnot-an-address", name: ""), token, StaffPrincipal);
        Assert.Equal(400, refused.Status);
        Assert.Contains("contacts[1]", refused.Body, StringComparison.Ordinal);
        Assert.Contains("customer.name: ", refused.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"VT-3003\"", refused.Body, StringComparison.Ordinal);
        Assert.Contains("not-an-address", refused.Body, StringComparison.Ordinal);
        Assert.Null(await StoredAsync("VT-3003"));

        var posted = await PostAsync("/console/activations", ActivationForm(), token, StaffPrincipal);
        Assert.Equal("/console/licenses/VT-3003?done=activated", posted.Headers.Location.ToString());
        var license = (await StoredAsync("VT-3003"))!.License;
        Assert.True(license.OnSiteTraining);
        Assert.Equal("Vertex Tooling", license.Customer.Name);
        var activated = Assert.Single(await MailTestKit.EventsAsync(_api, "VT-3003", LicenseEventTypes.Activated));
        Assert.Equal(StaffId, activated.GetProperty("actorId").GetString());

        var repeated = await PostAsync("/console/activations", ActivationForm(), token, StaffPrincipal);
        Assert.Equal("/console/licenses/VT-3003?done=activation-repeated", repeated.Headers.Location.ToString());
        var conflict = await PostAsync("/console/activations", ActivationForm(name: "Someone Else"), token, StaffPrincipal);
        Assert.Equal(409, conflict.Status);
        Assert.Contains("serial: ", conflict.Body, StringComparison.Ordinal);
    }

    /// <summary>While <see cref="Table"/> is set, every read of that table fails as storage answers when it is unavailable.</summary>
    private sealed class FailLicenseReads : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int failed;

        public volatile string? Table;

        public int Failed => Volatile.Read(ref failed);

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (Table is { } table && message.Request.Method == global::Azure.Core.RequestMethod.Get && message.Request.Uri.Path.Contains("/" + table, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref failed);
                throw new global::Azure.RequestFailedException(503, "The server is currently unable to receive requests.");
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>Runs <see cref="Before"/> once, just before a run marks a request done: a staff takeover in between.</summary>
    private sealed class TakeoverBeforeMarkDone
    {
        public Func<Task>? Before { get; set; }

        public bool Happened { get; private set; }

        public ICustomerRequestQueue Around(ICustomerRequestQueue inner) => new Queue(this, inner);

        private sealed class Queue(TakeoverBeforeMarkDone race, ICustomerRequestQueue inner) : ForwardingCustomerRequestQueue(inner)
        {
            public override async Task MarkDoneAsync(PendingCustomerRequest pending, CancellationToken cancellationToken)
            {
                if (race.Before is { } before && !race.Happened)
                {
                    race.Happened = true;
                    await before();
                }

                await Inner.MarkDoneAsync(pending, cancellationToken);
            }
        }
    }
}
