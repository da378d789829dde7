using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using Smp.Functions.Staff;
using Smp.TestSupport;

namespace Smp.Functions.Tests.Console;

/// <summary>SPEC section 7: who is signed in, with which roles, and when the app refuses to believe a header.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StaffIdentityTests(AzuriteFixture azurite)
{
    private const string ObjectId = "7d5f0c1e-2b1a-4c6e-9f3a-0a1b2c3d4e5f";

    private static StaffIdentity Identity(string? authEnabled, string? developmentUser = null) =>
        new(
            Options.Create(new StaffOptions { DevelopmentUser = developmentUser }),
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [StaffIdentity.AuthEnabledSetting] = authEnabled }).Build());

    private static HttpRequest WithPrincipal(string? header)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers[ClientPrincipal.Header] = header;
        }

        return context.Request;
    }

    private static string Base64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData("True")]
    [InlineData("true")]
    [InlineData("TRUE")]
    public void Section7_the_platforms_principal_is_trusted_when_WEBSITE_AUTH_ENABLED_is_True_in_any_case(string enabled)
    {
        var person = Identity(enabled).Who(WithPrincipal(ClientPrincipal.Encode("Dana Staff", ObjectId, StaffRoles.Staff)));

        Assert.NotNull(person);
        Assert.Equal("Dana Staff", person.Name);
        Assert.Equal(ObjectId, person.Id);
        Assert.True(person.Has(StaffRoles.Reader));
        Assert.True(person.Has(StaffRoles.Staff));
        Assert.False(person.Has(StaffRoles.Admin));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("False")]
    [InlineData("")]
    [InlineData("1")]
    public void Section7_a_forged_header_gets_nobody_in_when_the_platforms_authentication_is_off(string? enabled)
    {
        Assert.Null(Identity(enabled).Who(WithPrincipal(ClientPrincipal.Encode("Mallory", ObjectId, StaffRoles.Admin))));
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("e30")]
    [InlineData("bm90IGpzb24=")]
    public void Section7_a_malformed_principal_is_nobody(string header)
    {
        Assert.Null(Identity("True").Who(WithPrincipal(header)));
    }

    [Fact]
    public void Section7_json_that_is_not_a_principal_or_lacks_the_name_or_object_id_is_nobody()
    {
        var identity = Identity("True");
        Assert.Null(identity.Who(WithPrincipal(Base64("[]"))));
        Assert.Null(identity.Who(WithPrincipal(Base64("""{"auth_typ":"aad"}"""))));
        Assert.Null(identity.Who(WithPrincipal(Base64("""{"claims":[{"typ":"name","val":"Dana"}]}"""))));
        Assert.Null(identity.Who(WithPrincipal(Base64("""{"claims":[{"typ":"oid","val":"x"}]}"""))));
        Assert.Null(identity.Who(WithPrincipal(Base64("""{"claims":[{"typ":"name","val":"  "},{"typ":"oid","val":"x"}]}"""))));
        Assert.Null(identity.Who(WithPrincipal(null)));
    }

    [Fact]
    public void Section7_the_name_is_name_typ_else_preferred_username_else_email_and_the_id_is_the_object_id_or_oid()
    {
        var identity = Identity("True");
        var byNameType = identity.Who(WithPrincipal(Base64("""{"name_typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name","role_typ":"roles","claims":[{"typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name","val":"dana@vendor.example"},{"typ":"name","val":"Dana"},{"typ":"oid","val":"oid-1"}]}""")));
        Assert.Equal("dana@vendor.example", byNameType?.Name);
        Assert.Equal("oid-1", byNameType?.Id);
        Assert.Empty(byNameType!.Roles);
        Assert.False(byNameType.Has(StaffRoles.Reader));

        var byUsername = identity.Who(WithPrincipal(Base64("""{"claims":[{"typ":"preferred_username","val":"lee@vendor.example"},{"typ":"email","val":"other@vendor.example"},{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"oid-2"},{"typ":"roles","val":"Smp.Admin"}]}""")));
        Assert.Equal("lee@vendor.example", byUsername?.Name);
        Assert.True(byUsername!.Has(StaffRoles.Staff));

        var byEmail = identity.Who(WithPrincipal(Base64("""{"role_typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role","claims":[{"typ":"email","val":"kim@vendor.example"},{"typ":"oid","val":"oid-3"},{"typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role","val":"Smp.Reader"},{"typ":"roles","val":"Smp.Admin"}]}""")));
        Assert.Equal("kim@vendor.example", byEmail?.Name);
        Assert.True(byEmail!.Has(StaffRoles.Reader));
        Assert.False(byEmail.Has(StaffRoles.Staff));
    }

    [Fact]
    public void Section7_without_the_name_typ_claim_the_name_is_preferred_username_before_any_other_name_claim()
    {
        var person = Identity("True").Who(WithPrincipal(Base64("""{"name_typ":"x","claims":[{"typ":"name","val":"Display Name"},{"typ":"preferred_username","val":"ana@vendor.example"},{"typ":"oid","val":"oid-4"}]}""")));
        Assert.Equal("ana@vendor.example", person?.Name);
    }

    [Fact]
    public void Section7_the_decision_is_401_without_a_person_403_without_the_role()
    {
        var reader = new StaffPerson("R", "r", [StaffRoles.Reader]);
        Assert.Equal(StaffAccess.SignInNeeded, StaffIdentity.Decide(null, StaffRoles.Reader));
        Assert.Equal(StaffAccess.Forbidden, StaffIdentity.Decide(reader, StaffRoles.Staff));
        Assert.Equal(StaffAccess.Allowed, StaffIdentity.Decide(reader, StaffRoles.Reader));
        Assert.Equal(StaffAccess.Forbidden, StaffIdentity.Decide(new StaffPerson("N", "n", ["Smp.Other"]), StaffRoles.Reader));
    }

    [Fact]
    public void Section7_the_development_user_is_one_person_with_every_role_even_without_a_header()
    {
        var person = Identity(null, "dev@vendor.example").Who(WithPrincipal(null));

        Assert.NotNull(person);
        Assert.Equal("dev@vendor.example", person.Name);
        Assert.True(person.Has(StaffRoles.Admin));
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData(null)]
    public void Section7_start_up_refuses_the_development_user_outside_Development(string? environment)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?>
        {
            ["Smp:Staff:DevelopmentUser"] = "dev@vendor.example",
            [StaffOptionsValidator.EnvironmentSetting] = environment,
        });

        var refused = Assert.Throws<OptionsValidationException>(() => api.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Smp:Staff:DevelopmentUser", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Section7_start_up_accepts_the_development_user_in_Development()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?>
        {
            ["Smp:Staff:DevelopmentUser"] = "dev@vendor.example",
            [StaffOptionsValidator.EnvironmentSetting] = "Development",
        });

        api.Services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal("dev@vendor.example", api.Services.GetRequiredService<StaffIdentity>().Who(new DefaultHttpContext().Request)?.Name);
    }
}
