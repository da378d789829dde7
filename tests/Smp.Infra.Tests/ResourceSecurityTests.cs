using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>Storage, Key Vault, ACS and monitoring are configured for identity-only access.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class ResourceSecurityTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Storage_account_refuses_shared_keys_and_anonymous_blobs()
    {
        var storage = infrastructure.Single("Microsoft.Storage/storageAccounts");

        Assert.Equal(JsonValueKind.False, storage.Property("allowSharedKeyAccess").ValueKind);
        Assert.Equal(JsonValueKind.False, storage.Property("allowBlobPublicAccess").ValueKind);
        Assert.Equal(JsonValueKind.True, storage.Property("supportsHttpsTrafficOnly").ValueKind);
        Assert.Equal("TLS1_2", storage.Property("minimumTlsVersion").GetString());
    }

    [Fact]
    public void Storage_account_has_a_private_deployment_container()
    {
        var container = infrastructure.Single("Microsoft.Storage/storageAccounts/blobServices/containers");

        Assert.Equal("None", container.Property("publicAccess").GetString());
    }

    [Fact]
    public void Key_vault_uses_rbac_with_soft_delete_and_purge_protection()
    {
        var vault = infrastructure.Single("Microsoft.KeyVault/vaults");

        Assert.Equal(JsonValueKind.True, vault.Property("enableRbacAuthorization").ValueKind);
        Assert.Equal(JsonValueKind.True, vault.Property("enableSoftDelete").ValueKind);
        Assert.Equal(JsonValueKind.True, vault.Property("enablePurgeProtection").ValueKind);
        Assert.False(vault.Properties.TryGetProperty("accessPolicies", out _), "An RBAC vault takes no access policies.");

        var retention = vault.Property("softDeleteRetentionInDays").GetInt32();
        Assert.InRange(retention, 7, 90);
        Assert.True(infrastructure.Root.HasParameter("keyVaultSoftDeleteRetentionInDays"));
    }

    [Fact]
    public void Communication_service_refuses_access_keys_and_links_the_azure_managed_domain()
    {
        var acs = infrastructure.Single("Microsoft.Communication/communicationServices");

        Assert.Equal(JsonValueKind.True, acs.Property("disableLocalAuth").ValueKind);
        var linked = acs.Property("linkedDomains").GetString() ?? "";
        Assert.Contains("'AzureManagedDomain')", linked, StringComparison.Ordinal);
    }

    [Fact]
    public void Email_service_has_an_azure_managed_domain_and_an_optional_custom_domain()
    {
        var domains = infrastructure.Resources.Where(r => r.Type == "Microsoft.Communication/emailServices/domains" && !r.IsExisting).ToList();

        var managed = Assert.Single(domains, d => d.Property("domainManagement").GetString() == "AzureManaged");
        Assert.EndsWith("'AzureManagedDomain')]", managed.NameExpression, StringComparison.Ordinal);
        Assert.False(managed.Element.TryGetProperty("condition", out _));

        var custom = Assert.Single(domains, d => d.Property("domainManagement").GetString() == "CustomerManaged");
        Assert.True(custom.Element.TryGetProperty("condition", out _), "The custom domain must exist only when a domain name is given.");
        Assert.All(domains, d => Assert.Equal("Disabled", d.Property("userEngagementTracking").GetString()));
    }

    [Fact]
    public void Each_domain_has_the_donotreply_sender()
    {
        var senders = infrastructure.Resources.Where(r => r.Type == "Microsoft.Communication/emailServices/domains/senderUsernames").ToList();

        Assert.Equal(2, senders.Count);
        Assert.All(senders, s => Assert.EndsWith("'donotreply')]", s.NameExpression, StringComparison.Ordinal));
        Assert.All(senders, s => Assert.Equal("DoNotReply", s.Property("username").GetString()));
    }

    [Fact]
    public void Application_insights_is_workspace_based_and_accepts_only_entra_authenticated_telemetry()
    {
        var insights = infrastructure.Single("Microsoft.Insights/components");
        infrastructure.Single("Microsoft.OperationalInsights/workspaces");

        Assert.Equal(JsonValueKind.True, insights.Property("DisableLocalAuth").ValueKind);
        Assert.Contains("Microsoft.OperationalInsights/workspaces", insights.Property("WorkspaceResourceId").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_app_runs_as_one_user_assigned_identity_and_the_sign_in_identity_is_granted_nothing()
    {
        // Two identities: the app's, and one that staff sign-in alone presents to the app registration (no secret).
        Assert.Equal(2, infrastructure.Resources.Count(r => r.Type == "Microsoft.ManagedIdentity/userAssignedIdentities" && !r.IsExisting));
        var site = infrastructure.Single("Microsoft.Web/sites");

        var identity = site.Element.GetProperty("identity");
        Assert.Equal("UserAssigned", identity.GetProperty("type").GetString());
        Assert.Equal(
            ["[format('{0}', parameters('identityId'))]", "[format('{0}', parameters('signInIdentityId'))]"],
            identity.GetProperty("userAssignedIdentities").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        // The worker's Azure.Identity picks the app's identity; the sign-in identity's principal appears only in the
        // output the federated credential is made from, so no role assignment names it.
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(infrastructure.Json, @"'signin-identity'\), '[0-9-]+'\)\.outputs\.principalId"));
        Assert.True(infrastructure.Root.Outputs.ContainsKey("SMP_SIGNIN_IDENTITY_PRINCIPAL_ID"));
    }
}
