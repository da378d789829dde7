using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>
/// What the platform leaves open is closed: no basic publishing credentials and no FTP(S) on the site,
/// audit and access logs of the vault, the tables and the app sent to the Log Analytics workspace,
/// and no local (shared key) authentication on that workspace.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class PlatformHardeningTests(CompiledInfrastructure infrastructure)
{
    private const string DiagnosticSettings = "Microsoft.Insights/diagnosticSettings";

    [Theory]
    [InlineData("ftp")]
    [InlineData("scm")]
    public void Site_refuses_basic_publishing_credentials(string policy)
    {
        var policies = infrastructure.Resources
            .Where(r => r.Type == "Microsoft.Web/sites/basicPublishingCredentialsPolicies" && !r.IsExisting)
            .Where(r => r.NameExpression.EndsWith($"'{policy}')]", StringComparison.Ordinal))
            .ToList();

        var single = Assert.Single(policies);
        Assert.Null(single.Element.TryGetProperty("condition", out var condition) ? condition.ToString() : null);
        Assert.Equal(JsonValueKind.False, single.Property("allow").ValueKind);
        Assert.Contains("parameters('name')", single.NameExpression, StringComparison.Ordinal);
    }

    [Fact]
    public void Site_disables_ftps()
    {
        var site = infrastructure.Single("Microsoft.Web/sites");

        Assert.Equal("Disabled", site.Property("siteConfig", "ftpsState").GetString());
    }

    [Fact]
    public void Log_analytics_workspace_refuses_local_authentication()
    {
        var workspace = infrastructure.Single("Microsoft.OperationalInsights/workspaces");

        Assert.Equal(JsonValueKind.True, workspace.Property("features", "disableLocalAuth").ValueKind);
    }

    [Fact]
    public void Key_vault_audit_events_go_to_the_workspace()
    {
        var setting = DiagnosticSettingOn("Microsoft.KeyVault/vaults");

        Assert.Equal(["AuditEvent"], EnabledLogCategories(setting));
        AssertSendsToTheWorkspace(setting);
    }

    [Fact]
    public void Table_service_reads_writes_and_deletes_go_to_the_workspace()
    {
        var setting = DiagnosticSettingOn("Microsoft.Storage/storageAccounts/tableServices");

        Assert.Equal(["StorageDelete", "StorageRead", "StorageWrite"], EnabledLogCategories(setting));
        AssertSendsToTheWorkspace(setting);
        infrastructure.Single("Microsoft.Storage/storageAccounts/tableServices");
    }

    [Fact]
    public void Function_app_logs_go_to_the_workspace()
    {
        var setting = DiagnosticSettingOn("Microsoft.Web/sites");

        Assert.Equal(["FunctionAppLogs"], EnabledLogCategories(setting));
        AssertSendsToTheWorkspace(setting);
    }

    [Fact]
    public void Every_diagnostic_setting_is_unconditional_and_scoped_to_a_resource()
    {
        var settings = infrastructure.Resources.Where(r => r.Type == DiagnosticSettings).ToList();

        Assert.Equal(3, settings.Count);
        Assert.All(settings, s => Assert.False(s.Element.TryGetProperty("condition", out _), $"{s.NameExpression} is conditional."));
        Assert.All(settings, s => Assert.True(s.Element.TryGetProperty("scope", out _), $"{s.NameExpression} has no scope."));
    }

    private ArmResource DiagnosticSettingOn(string scopeType)
    {
        var matches = infrastructure.Resources
            .Where(r => r.Type == DiagnosticSettings)
            .Where(r => r.Element.TryGetProperty("scope", out var scope) && (scope.GetString() ?? "").StartsWith($"[resourceId('{scopeType}', parameters('name')", StringComparison.Ordinal))
            .ToList();
        Assert.True(matches.Count == 1, $"Expected one diagnostic setting scoped to one {scopeType}, found {matches.Count}.");
        return matches[0];
    }

    private static string[] EnabledLogCategories(ArmResource setting) =>
        setting.Property("logs").EnumerateArray()
            .Where(l => l.GetProperty("enabled").ValueKind == JsonValueKind.True)
            .Select(l => l.GetProperty("category").GetString()!)
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static void AssertSendsToTheWorkspace(ArmResource setting)
    {
        // The workspace ID is the one the monitoring module reports, handed down through module parameters.
        var workspace = setting.Property("workspaceId").GetString() ?? "";
        Assert.Contains("'Microsoft.Resources/deployments', 'monitoring')", workspace, StringComparison.Ordinal);
        Assert.Contains(".outputs.workspaceId.value", workspace, StringComparison.Ordinal);
    }
}
