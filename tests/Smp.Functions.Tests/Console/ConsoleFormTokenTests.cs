using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Functions.Staff;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// SPEC section 8, safe forms: a console form token is bound to the signed-in person, to the time it was issued (valid
/// for a few hours, never from the future beyond a small skew) and, when the platform names one, to the sign-in session.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConsoleFormTokenTests : IDisposable
{
    private const string Serial = "VT-1001";
    private readonly ApiHarness _api;
    private readonly ConsoleApp _console;

    public ConsoleFormTokenTests(AzuriteFixture azurite)
    {
        _api = App(azurite.ConnectionString);
        _console = new ConsoleApp(_api);
    }

    public void Dispose() => _api.Dispose();

    private async Task<long> VersionAsync() =>
        (await _api.Services.GetRequiredService<ILicenseStore>().GetAsync(Smp.Core.Plans.Serial.Parse(Serial), CancellationToken.None))!.Version;

    private async Task<string> TokenAsync(string principal) =>
        TokenOf((await _console.SendAsync("GET", "/console/licenses/" + Serial, headers: As(principal))).Body);

    private Task<ApiResponse> RenewAsync(string token, string principal) =>
        _console.SendAsync("POST", $"/console/licenses/{Serial}/renewals", new Dictionary<string, string> { ["__form"] = token, ["orderReference"] = "SO-7", ["months"] = "12" }, As(principal));

    /// <summary>A principal as App Service sends it for an Entra ID sign-in that carries a session id (<c>sid</c>).</summary>
    private static string PrincipalWithSession(string objectId, string session)
    {
        var json = JsonSerializer.Serialize(new
        {
            auth_typ = "aad",
            name_typ = "name",
            role_typ = "roles",
            claims = new[]
            {
                new { typ = "name", val = "Dana Staff" },
                new { typ = ClientPrincipal.ObjectIdClaim, val = objectId },
                new { typ = "roles", val = StaffRoles.Staff },
                new { typ = "sid", val = session },
            },
        });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }

    private async Task ActivateAsync() =>
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody())).Status);

    [Fact]
    public async Task Section8_a_form_token_older_than_its_lifetime_is_refused_as_expired_and_nothing_changes()
    {
        await ActivateAsync();
        var token = await TokenAsync(StaffPrincipal);
        var before = await VersionAsync();

        _api.Clock.Advance(FormTokens.Lifetime + Duration.FromMinutes(1));
        var refused = await RenewAsync(token, StaffPrincipal);

        Assert.Equal(403, refused.Status);
        Assert.Contains("more than 4 hours ago", refused.Body, StringComparison.Ordinal);
        Assert.Equal(before, await VersionAsync());
    }

    [Fact]
    public async Task Section8_a_form_token_issued_in_the_future_beyond_the_clock_skew_is_refused_and_nothing_changes()
    {
        await ActivateAsync();
        var token = await TokenAsync(StaffPrincipal);
        var before = await VersionAsync();

        _api.Clock.Reset(Now - FormTokens.ClockSkew - Duration.FromMinutes(1));
        var refused = await RenewAsync(token, StaffPrincipal);

        Assert.Equal(403, refused.Status);
        Assert.Equal(before, await VersionAsync());
    }

    [Fact]
    public async Task Section8_a_form_token_of_another_person_is_refused_and_nothing_changes()
    {
        await ActivateAsync();
        var othersToken = await TokenAsync(ClientPrincipal.Encode("Sam Staff", AdminId, StaffRoles.Staff));
        var before = await VersionAsync();

        var refused = await RenewAsync(othersToken, StaffPrincipal);

        Assert.Equal(403, refused.Status);
        Assert.Contains("not issued by this console to your current sign-in", refused.Body, StringComparison.Ordinal);
        Assert.Equal(before, await VersionAsync());
    }

    [Fact]
    public async Task Section8_a_form_token_of_another_sign_in_session_of_the_same_person_is_refused_and_nothing_changes()
    {
        await ActivateAsync();
        var token = await TokenAsync(PrincipalWithSession(StaffId, "session-one"));
        var before = await VersionAsync();

        var refused = await RenewAsync(token, PrincipalWithSession(StaffId, "session-two"));

        Assert.Equal(403, refused.Status);
        Assert.Equal(before, await VersionAsync());
        Assert.Equal(302, (await RenewAsync(token, PrincipalWithSession(StaffId, "session-one"))).Status);
    }

    [Fact]
    public async Task Section8_a_fresh_form_token_within_its_lifetime_is_accepted()
    {
        await ActivateAsync();
        var token = await TokenAsync(StaffPrincipal);
        var before = await VersionAsync();

        _api.Clock.Advance(FormTokens.Lifetime - Duration.FromMinutes(1));
        var accepted = await RenewAsync(token, StaffPrincipal);

        Assert.Equal(302, accepted.Status);
        Assert.NotEqual(before, await VersionAsync());
    }

    [Fact]
    public async Task Section8_tokens_differ_per_issue_time_so_a_token_seen_once_is_not_the_persons_forever()
    {
        await ActivateAsync();
        var first = await TokenAsync(StaffPrincipal);
        _api.Clock.Advance(Duration.FromMinutes(1));

        Assert.NotEqual(first, await TokenAsync(StaffPrincipal));
    }
}
