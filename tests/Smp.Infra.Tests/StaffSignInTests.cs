using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>Spec section 7: App Service built-in authentication with Microsoft Entra ID, configured in infra/.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class StaffSignInTests(CompiledInfrastructure infrastructure)
{
    private const string AssertionSetting = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID";

    private ArmResource AuthSettings() =>
        Assert.Single(infrastructure.Resources, r => r.Type == "Microsoft.Web/sites/config" && r.NameExpression.Contains("'authsettingsV2')", StringComparison.Ordinal));

    [Fact]
    public void Section7_built_in_authentication_lets_unauthenticated_requests_through_to_the_app()
    {
        var auth = AuthSettings();

        Assert.Equal(JsonValueKind.True, auth.Property("platform", "enabled").ValueKind);
        Assert.Equal(JsonValueKind.False, auth.Property("globalValidation", "requireAuthentication").ValueKind);
        Assert.Equal("AllowAnonymous", auth.Property("globalValidation", "unauthenticatedClientAction").GetString());
        Assert.Equal(JsonValueKind.True, auth.Property("httpSettings", "requireHttps").ValueKind);
    }

    [Fact]
    public void Section7_the_provider_is_microsoft_entra_id_with_the_app_registration_and_tenant_as_parameters()
    {
        var auth = AuthSettings();
        var registration = auth.Property("identityProviders", "azureActiveDirectory", "registration");

        Assert.Equal(JsonValueKind.True, auth.Property("identityProviders", "azureActiveDirectory", "enabled").ValueKind);
        Assert.Equal("[parameters('clientId')]", registration.GetProperty("clientId").GetString());
        Assert.Equal("[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, parameters('tenantId'))]", registration.GetProperty("openIdIssuer").GetString());
        Assert.Equal("[parameters('staffSignInClientId')]", auth.Deployment.PassedExpression("clientId"));
        Assert.Equal("[parameters('staffSignInTenantId')]", auth.Deployment.PassedExpression("tenantId"));
        Assert.Equal("[tenant().tenantId]", infrastructure.Root.ParameterDefinition("staffSignInTenantId").GetProperty("defaultValue").GetString());
    }

    [Fact]
    public void Section7_without_an_app_registration_sign_in_stays_off()
    {
        var auth = AuthSettings();

        Assert.Equal(string.Empty, infrastructure.Root.ParameterDefinition("staffSignInClientId").GetProperty("defaultValue").GetString());
        Assert.Equal("[not(empty(parameters('staffSignInClientId')))]", auth.Deployment.Condition);
    }

    [Fact]
    public void Section5_sign_in_uses_a_managed_identity_as_its_client_assertion_and_no_secret()
    {
        var auth = AuthSettings();
        Assert.Equal(AssertionSetting, auth.Property("identityProviders", "azureActiveDirectory", "registration", "clientSecretSettingName").GetString());

        var settings = Assert.Single(infrastructure.Resources, r => r.Type == "Microsoft.Web/sites/config" && r.NameExpression.Contains("'appsettings')", StringComparison.Ordinal)).Properties;
        Assert.Equal("[parameters('signInIdentityClientId')]", settings.GetProperty(AssertionSetting).GetString());
        Assert.False(settings.TryGetProperty("MICROSOFT_PROVIDER_AUTHENTICATION_SECRET", out _));
        Assert.DoesNotContain("clientSecret\"", infrastructure.Json, StringComparison.Ordinal);
    }

    [Fact]
    public void Section7_azd_passes_the_app_registration_from_its_environment()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.InfraDirectory, "main.parameters.json")));

        Assert.Equal("${SMP_SIGNIN_CLIENT_ID=}", file.RootElement.GetProperty("parameters").GetProperty("staffSignInClientId").GetProperty("value").GetString());
    }
}
