using System.Text.Json;
using System.Text.RegularExpressions;

namespace Smp.Infra.Tests;

/// <summary>
/// The app's identity (and, when principalId is set, the developer) gets each data role on exactly
/// the one resource it is for, never on the resource group or the subscription.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class RoleAssignmentTests(CompiledInfrastructure infrastructure)
{
    private const string StorageAccount = "Microsoft.Storage/storageAccounts";
    private const string Vault = "Microsoft.KeyVault/vaults";
    private const string Communication = "Microsoft.Communication/communicationServices";
    private const string ApplicationInsights = "Microsoft.Insights/components";

    // role definition ID, role name (for messages), type of the scope resource, module that creates that resource
    public static TheoryData<string, string, string, string> Roles => new()
    {
        { "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner", StorageAccount, "storage" },
        { "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Storage Table Data Contributor", StorageAccount, "storage" },
        { "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Storage Queue Data Contributor", StorageAccount, "storage" },
        { "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer", Vault, "key-vault" },
        { "09976791-48a7-449e-bb21-39d1a415f350", "Communication and Email Service Owner", Communication, "communication" },
        { "3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher", ApplicationInsights, "monitoring" },
    };

    private IEnumerable<ArmResource> Assignments =>
        infrastructure.Resources.Where(r => r.Type == "Microsoft.Authorization/roleAssignments");

    [Theory]
    [MemberData(nameof(Roles))]
    public void App_identity_holds_the_role_on_exactly_its_resource(string roleId, string roleName, string scopeType, string sourceModule)
    {
        var matches = AssignmentsOf(roleId, "ServicePrincipal");
        Assert.True(matches.Count == 1, $"Expected one {roleName} assignment for the app identity, found {matches.Count}.");
        var assignment = matches[0];

        Assert.Null(assignment.Deployment.Condition);
        AssertScopedToSingleResource(assignment, scopeType, sourceModule);
        AssertDeterministicName(assignment, roleId);

        // The principal is the user-assigned identity created by the identity module.
        var principal = assignment.Property("principalId").GetString();
        Assert.NotNull(principal);
        Assert.Contains("'Microsoft.Resources/deployments', 'identity')", principal, StringComparison.Ordinal);
        Assert.Contains(".outputs.principalId.value", principal, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Deploying_user_gets_the_same_role_only_when_opted_in_and_a_principal_id_is_given(string roleId, string roleName, string scopeType, string sourceModule)
    {
        var matches = AssignmentsOf(roleId, "User");
        Assert.True(matches.Count == 1, $"Expected one optional {roleName} assignment for the deploying user, found {matches.Count}.");
        var assignment = matches[0];

        // A principal ID alone (azd always fills it with the signed-in user) grants nothing: the opt-in does.
        Assert.Equal("[and(parameters('grantDeveloperDataRoles'), not(empty(parameters('principalId'))))]", assignment.Deployment.Condition);
        Assert.Equal("[parameters('principalId')]", assignment.Deployment.PassedExpression("principalId"));
        AssertScopedToSingleResource(assignment, scopeType, sourceModule);
        AssertDeterministicName(assignment, roleId);
    }

    [Fact]
    public void No_other_role_assignment_exists()
    {
        var expected = Roles.Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        var all = Assignments.ToList();

        Assert.Equal(expected.Count * 2, all.Count);
        Assert.All(all, a => Assert.Contains(RoleIdOf(a), expected));
    }

    private List<ArmResource> AssignmentsOf(string roleId, string principalType) =>
        Assignments
            .Where(a => RoleIdOf(a) == roleId)
            .Where(a => a.Property("principalType").ValueKind == JsonValueKind.String && a.Property("principalType").GetString() == principalType)
            .ToList();

    private static string RoleIdOf(ArmResource assignment)
    {
        // Either the built-in role alone, or (where a narrower custom role is offered) the built-in role
        // unless the caller passes the custom role's ID: see CustomRoleTests.
        var definition = assignment.Property("roleDefinitionId").GetString() ?? "";
        var match = Regex.Match(
            definition,
            @"^\[(subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions', '(?<id>[0-9a-f-]{36})'\)|if\(empty\(parameters\('customRoleDefinitionId'\)\), subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions', '(?<id>[0-9a-f-]{36})'\), parameters\('customRoleDefinitionId'\)\))\]$");
        Assert.True(match.Success, $"Role definition '{definition}' is not a built-in role referenced by its ID.");
        return match.Groups["id"].Value;
    }

    private static void AssertScopedToSingleResource(ArmResource assignment, string scopeType, string sourceModule)
    {
        // A scope of resourceId('<type>', <one name>) is one top-level resource of that type in the module's
        // resource group: not the group itself (no scope), nor a child resource, nor another type.
        Assert.True(assignment.Element.TryGetProperty("scope", out var scopeElement), "The assignment has no scope: it would apply to the whole resource group.");
        var scope = scopeElement.GetString() ?? "";
        var match = Regex.Match(scope, $@"^\[resourceId\('{Regex.Escape(scopeType)}', parameters\('(?<name>\w+)'\)\)\]$");
        Assert.True(match.Success, $"Scope '{scope}' is not a single {scopeType}.");

        // ...and that name is the one the module creating the resource reports.
        var name = assignment.Deployment.ParameterValue(match.Groups["name"].Value)?.GetString() ?? "";
        Assert.Contains($"'Microsoft.Resources/deployments', '{sourceModule}')", name, StringComparison.Ordinal);
        Assert.Equal("", assignment.Deployment.Parent?.Name);
    }

    private static void AssertDeterministicName(ArmResource assignment, string roleId)
    {
        var name = assignment.NameExpression;
        Assert.StartsWith("[guid(resourceId(", name, StringComparison.Ordinal);
        Assert.Contains("parameters('principalId')", name, StringComparison.Ordinal);
        Assert.Contains(roleId, name, StringComparison.Ordinal);
    }
}
