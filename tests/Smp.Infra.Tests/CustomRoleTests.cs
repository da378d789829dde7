using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>
/// Where a built-in role is broader than the app needs (Key Vault Secrets Officer; Communication and
/// Email Service Owner), a custom role holding only what the app uses is offered behind the
/// useNarrowCustomRoles parameter, and the data roles of the deploying person are an explicit opt-in.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class CustomRoleTests(CompiledInfrastructure infrastructure)
{
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    private const string CommunicationAndEmailServiceOwner = "09976791-48a7-449e-bb21-39d1a415f350";

    [Fact]
    public void Narrow_custom_roles_are_off_unless_asked_for()
    {
        Assert.False(infrastructure.Root.ParameterValue("useNarrowCustomRoles")?.GetBoolean());
        Assert.Equal("${SMP_NARROW_CUSTOM_ROLES=false}", ParameterFileValue("useNarrowCustomRoles"));

        var definitions = CustomRoleDefinitions();
        Assert.Equal(2, definitions.Count);
        Assert.All(definitions, d => Assert.Equal("[parameters('useNarrowCustomRoles')]", d.Deployment.Condition));
    }

    [Fact]
    public void Developer_data_roles_are_an_explicit_opt_in_off_by_default()
    {
        Assert.False(infrastructure.Root.ParameterValue("grantDeveloperDataRoles")?.GetBoolean());
        Assert.Equal("${SMP_DEVELOPER_DATA_ROLES=false}", ParameterFileValue("grantDeveloperDataRoles"));
    }

    [Fact]
    public void Narrow_key_vault_role_reads_lists_and_sets_secrets_and_nothing_else()
    {
        var role = CustomRoleWithDataActions();

        Assert.Equal(
            [
                "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                "Microsoft.KeyVault/vaults/secrets/setSecret/action",
            ],
            Strings(role, "dataActions"));
        Assert.Empty(Strings(role, "actions"));
        AssertAssignableOnlyInTheResourceGroup(role);
    }

    [Fact]
    public void Narrow_mail_role_holds_only_what_sending_mail_with_an_entra_token_needs()
    {
        var role = Assert.Single(CustomRoleDefinitions(), d => Strings(d, "dataActions").Length == 0);

        Assert.Equal(
            [
                "Microsoft.Communication/CommunicationServices/Read",
                "Microsoft.Communication/CommunicationServices/Write",
                "Microsoft.Communication/EmailServices/write",
            ],
            Strings(role, "actions"));
        Assert.DoesNotContain(Strings(role, "actions"), a => a.Contains('*', StringComparison.Ordinal) || a.Contains("listKeys", StringComparison.OrdinalIgnoreCase));
        AssertAssignableOnlyInTheResourceGroup(role);
    }

    [Theory]
    [InlineData(KeyVaultSecretsOfficer, "keyVaultRoleId")]
    [InlineData(CommunicationAndEmailServiceOwner, "communicationRoleId")]
    public void Assignments_take_the_narrow_role_when_asked_and_the_built_in_role_otherwise(string builtInRoleId, string customRoleOutput)
    {
        var assignments = infrastructure.Resources
            .Where(r => r.Type == "Microsoft.Authorization/roleAssignments")
            .Where(r => (r.Properties.GetProperty("roleDefinitionId").GetString() ?? "").Contains(builtInRoleId, StringComparison.Ordinal))
            .ToList();
        Assert.Equal(2, assignments.Count); // the app identity and the optional developer

        foreach (var assignment in assignments)
        {
            Assert.Equal(
                $"[if(empty(parameters('customRoleDefinitionId')), subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{builtInRoleId}'), parameters('customRoleDefinitionId'))]",
                assignment.Properties.GetProperty("roleDefinitionId").GetString());

            var passed = assignment.Deployment.PassedExpression("customRoleDefinitionId") ?? "";
            Assert.StartsWith("[if(parameters('useNarrowCustomRoles'), createObject('value', ", passed, StringComparison.Ordinal);
            Assert.Contains("'Microsoft.Resources/deployments', 'custom-roles')", passed, StringComparison.Ordinal);
            Assert.Contains($".outputs.{customRoleOutput}.value", passed, StringComparison.Ordinal);
            Assert.EndsWith("createObject('value', ''))]", passed, StringComparison.Ordinal);

            // The assignment's name follows the role, so switching roles creates a new assignment instead of
            // failing to update the old one in place.
            Assert.Contains("parameters('customRoleDefinitionId')", assignment.NameExpression, StringComparison.Ordinal);
        }
    }

    private List<ArmResource> CustomRoleDefinitions() =>
        infrastructure.Resources.Where(r => r.Type == "Microsoft.Authorization/roleDefinitions" && !r.IsExisting).ToList();

    private ArmResource CustomRoleWithDataActions() =>
        Assert.Single(CustomRoleDefinitions(), d => Strings(d, "dataActions").Length > 0);

    private static string[] Strings(ArmResource role, string permission)
    {
        var permissions = role.Property("permissions");
        Assert.Equal(1, permissions.GetArrayLength());
        return permissions[0].TryGetProperty(permission, out var values)
            ? values.EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal).ToArray()
            : [];
    }

    private static void AssertAssignableOnlyInTheResourceGroup(ArmResource role)
    {
        Assert.Equal("CustomRole", role.Property("type").GetString());
        var scopes = role.Property("assignableScopes");
        Assert.Equal(1, scopes.GetArrayLength());
        Assert.Equal("[subscriptionResourceId('Microsoft.Resources/resourceGroups', format('rg-{0}', parameters('environmentName')))]", role.Deployment.Resolve(scopes[0]).GetString());

        // Role names are unique in the tenant: each environment's roles carry its resource token.
        Assert.Contains("parameters('resourceToken')", role.Property("roleName").GetString() ?? "", StringComparison.Ordinal);
        Assert.Equal("[variables('resourceToken')]", role.Deployment.PassedExpression("resourceToken"));
    }

    private static string? ParameterFileValue(string name)
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.InfraDirectory, "main.parameters.json")));
        var parameters = file.RootElement.GetProperty("parameters");
        return parameters.TryGetProperty(name, out var parameter) ? parameter.GetProperty("value").GetString() : null;
    }
}
