using System.Text.Json;
using System.Text.RegularExpressions;

namespace Smp.Infra.Tests;

/// <summary>The Flex Consumption app, its settings, and the absence of keys in settings and outputs.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed partial class FunctionAppTests(CompiledInfrastructure infrastructure)
{
    public static TheoryData<string> SmpSettings => new()
    {
        "Smp__BusinessTimeZone",
        "Smp__ReminderSchedule",
        "Smp__DigestSchedule",
        "Smp__RenewalsDeskEmail",
        "Smp__SenderAddress",
        "Smp__PublicBaseUrl",
        "Smp__LinkValidityDays",
        "Smp__Email__Transport",
        "Smp__Email__AcsEndpoint",
        "Smp__Secrets__Store",
        "Smp__Secrets__VaultUri",
        "Smp__Updates__Entitlement",
        "Smp__Tables__serviceUri",
        "Smp__Tables__credential",
        "Smp__Tables__clientId",
        "Smp__Reminders__0",
        "Smp__Reminders__1",
    };

    private static readonly string[] ForbiddenFragments = ["AccountKey", "listKeys", "accesskey", "SharedAccessKey"];

    [Fact]
    public void Plan_is_flex_consumption_on_linux()
    {
        var plan = infrastructure.Single("Microsoft.Web/serverfarms");
        var sku = plan.Element.GetProperty("sku");

        Assert.Equal("FC1", sku.GetProperty("name").GetString());
        Assert.Equal("FlexConsumption", sku.GetProperty("tier").GetString());
        Assert.Equal(JsonValueKind.True, plan.Property("reserved").ValueKind);
    }

    [Fact]
    public void Site_runs_dotnet_isolated_10_on_flex_consumption()
    {
        var site = infrastructure.Single("Microsoft.Web/sites");

        Assert.Equal("functionapp,linux", site.Element.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.True, site.Property("httpsOnly").ValueKind);
        Assert.Equal("dotnet-isolated", site.Property("functionAppConfig", "runtime", "name").GetString());
        Assert.Equal("10.0", site.Property("functionAppConfig", "runtime", "version").GetString());
        Assert.Equal(2048, site.Property("functionAppConfig", "scaleAndConcurrency", "instanceMemoryMB").GetInt32());

        // The instance ceiling is a parameter of main.bicep.
        Assert.True(infrastructure.Root.HasParameter("maximumInstanceCount"));
        var ceiling = site.Property("functionAppConfig", "scaleAndConcurrency", "maximumInstanceCount");
        Assert.Equal(JsonValueKind.Number, ceiling.ValueKind);
        Assert.InRange(ceiling.GetInt32(), 1, 1000);
    }

    [Fact]
    public void Deployment_package_comes_from_blob_storage_read_with_the_identity()
    {
        var site = infrastructure.Single("Microsoft.Web/sites");

        Assert.Equal("blobContainer", site.Property("functionAppConfig", "deployment", "storage", "type").GetString());
        Assert.Equal("UserAssignedIdentity", site.Property("functionAppConfig", "deployment", "storage", "authentication", "type").GetString());
        Assert.Contains(
            "'Microsoft.Resources/deployments', 'identity')",
            site.Property("functionAppConfig", "deployment", "storage", "authentication", "userAssignedIdentityResourceId").GetString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Site_is_tagged_for_azd()
    {
        var tags = infrastructure.Single("Microsoft.Web/sites").Resolved("tags").GetString() ?? "";

        Assert.Contains("'azd-service-name', 'api'", tags, StringComparison.Ordinal);
        Assert.Contains("variables('tags')", tags, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SmpSettings))]
    public void App_settings_carry_the_smp_setting(string name)
    {
        Assert.True(AppSettings().ContainsKey(name), $"App setting {name} is missing.");
    }

    [Fact]
    public void App_settings_select_azure_transports_and_defaults()
    {
        var settings = AppSettings();

        Assert.Equal("Acs", settings["Smp__Email__Transport"].GetString());
        Assert.Equal("KeyVault", settings["Smp__Secrets__Store"].GetString());
        Assert.Equal("managedidentity", settings["Smp__Tables__credential"].GetString());
        Assert.Equal("90", settings["Smp__Reminders__0"].GetString());
        Assert.Equal("30", settings["Smp__Reminders__1"].GetString());
        Assert.Equal("America/Denver", settings["Smp__BusinessTimeZone"].GetString());
        Assert.Equal("0 0 13 * * *", settings["Smp__ReminderSchedule"].GetString());
        Assert.Equal("0 0 14 * * 1", settings["Smp__DigestSchedule"].GetString());
        Assert.Equal("CurrentPlan", settings["Smp__Updates__Entitlement"].GetString());
        Assert.Equal(
            """["CurrentPlan","ReleasedDuringCover"]""",
            infrastructure.Root.ParameterDefinition("updatesEntitlement").GetProperty("allowedValues").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal));
        Assert.Equal(14, infrastructure.Root.ParameterValue("linkValidityDays")?.GetInt32());
    }

    [Fact]
    public void App_settings_point_at_the_resources_by_endpoint()
    {
        var settings = AppSettings();

        Assert.Contains("outputs.tableEndpoint.value", settings["Smp__Tables__serviceUri"].GetString(), StringComparison.Ordinal);
        Assert.Contains("outputs.uri.value", settings["Smp__Secrets__VaultUri"].GetString(), StringComparison.Ordinal);
        Assert.Contains("outputs.endpoint.value", settings["Smp__Email__AcsEndpoint"].GetString(), StringComparison.Ordinal);
        Assert.Contains("outputs.senderAddress.value", settings["Smp__SenderAddress"].GetString(), StringComparison.Ordinal);
        Assert.Equal("[format('https://{0}', reference('site').defaultHostName)]", settings["Smp__PublicBaseUrl"].GetString());
    }

    [Fact]
    public void Sender_address_is_donotreply_on_the_linked_domain()
    {
        var communication = infrastructure.Root.AllDeployments().Single(d => d.Template.TryGetProperty("outputs", out var o) && o.TryGetProperty("senderAddress", out _));

        var sender = communication.Outputs["senderAddress"].GetString() ?? "";
        Assert.StartsWith("[format('DoNotReply@{0}', ", sender, StringComparison.Ordinal);
        Assert.Contains("reference('managedDomain').mailFromSenderDomain", sender, StringComparison.Ordinal);
        Assert.Contains("reference('customDomain').mailFromSenderDomain", sender, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_storage_and_telemetry_use_the_managed_identity()
    {
        var settings = AppSettings();

        Assert.False(settings.ContainsKey("AzureWebJobsStorage"), "AzureWebJobsStorage would be a connection string; the host must use the identity.");
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"].GetString());
        Assert.True(settings.ContainsKey("AzureWebJobsStorage__accountName"));
        Assert.True(settings.ContainsKey("AzureWebJobsStorage__clientId"));
        Assert.True(settings.ContainsKey("AZURE_CLIENT_ID"));
        Assert.True(settings.ContainsKey("APPLICATIONINSIGHTS_CONNECTION_STRING"));
        Assert.Equal(
            "[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]",
            AppSettingsResource().Properties.GetProperty("APPLICATIONINSIGHTS_AUTHENTICATION_STRING").GetString());

        // Flex Consumption rejects the classic runtime settings; the runtime lives in functionAppConfig.
        Assert.False(settings.ContainsKey("FUNCTIONS_WORKER_RUNTIME"));
        Assert.False(settings.ContainsKey("FUNCTIONS_EXTENSION_VERSION"));
    }

    [Fact]
    public void No_app_setting_holds_a_key()
    {
        var settings = AppSettingsResource().Properties;

        Assert.All(settings.EnumerateObject(), setting => AssertNoKey($"app setting {setting.Name}", setting.Value.GetRawText()));
    }

    [Fact]
    public void No_output_holds_a_key()
    {
        var outputs = infrastructure.Root.AllDeployments().SelectMany(d => d.Outputs.Select(o => (Deployment: d.Name, Name: o.Key, Value: o.Value)));

        Assert.All(outputs, o => AssertNoKey($"output {o.Name} of '{o.Deployment}'", $"{o.Name} {o.Value.GetRawText()}"));
        Assert.All(outputs, o => Assert.DoesNotMatch(SecretLookingName(), o.Name));
    }

    [Fact]
    public void Template_calls_no_list_function()
    {
        // listKeys(), listConnectionStrings() and their kin return secrets; the deployment needs none.
        Assert.DoesNotMatch(ListFunctionCall(), infrastructure.Json);
    }

    /// <summary>The site's one appsettings config resource (the site has others: authsettingsV2 for staff sign-in).</summary>
    private ArmResource AppSettingsResource() =>
        Assert.Single(infrastructure.Resources, r => r.Type == "Microsoft.Web/sites/config" && r.NameExpression.Contains("'appsettings')", StringComparison.Ordinal));

    private Dictionary<string, JsonElement> AppSettings()
    {
        var config = AppSettingsResource();
        Assert.False(infrastructure.Single("Microsoft.Web/sites").Property("siteConfig").TryGetProperty("appSettings", out _), "App settings are kept in one place: the appsettings config resource.");

        return config.Properties.EnumerateObject().ToDictionary(p => p.Name, p => config.Deployment.Resolve(p.Value), StringComparer.Ordinal);
    }

    private static void AssertNoKey(string what, string text)
    {
        foreach (var fragment in ForbiddenFragments)
        {
            Assert.False(text.Contains(fragment, StringComparison.OrdinalIgnoreCase), $"{what} contains '{fragment}': {text}");
        }
    }

    [GeneratedRegex(@"\blist[A-Za-z]*\(", RegexOptions.IgnoreCase)]
    private static partial Regex ListFunctionCall();

    [GeneratedRegex("(?i)(secret|password|key$|connectionstring)")]
    private static partial Regex SecretLookingName();
}
