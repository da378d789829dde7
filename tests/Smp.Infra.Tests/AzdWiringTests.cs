using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>azure.yaml, the parameter file and main.bicep agree with each other and with azd's conventions.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class AzdWiringTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Azure_yaml_deploys_the_functions_project_as_service_api()
    {
        var lines = File.ReadAllLines(Path.Combine(TestEnvironment.RepositoryRoot, "azure.yaml"))
            .Select(l => l.Trim())
            .ToList();

        Assert.Contains("provider: bicep", lines);
        Assert.Contains("path: infra", lines);
        Assert.Contains("module: main", lines);
        Assert.Contains("api:", lines);
        Assert.Contains("project: ./src/Smp.Functions", lines);
        Assert.Contains("language: dotnet", lines);
        Assert.Contains("host: function", lines);
        Assert.True(File.Exists(Path.Combine(TestEnvironment.RepositoryRoot, "src", "Smp.Functions", "Smp.Functions.csproj")));
    }

    [Fact]
    public void Main_template_creates_the_azd_resource_group_at_subscription_scope()
    {
        Assert.Contains("subscriptionDeploymentTemplate.json", infrastructure.Root.Template.GetProperty("$schema").GetString(), StringComparison.Ordinal);

        var group = infrastructure.Single("Microsoft.Resources/resourceGroups");
        Assert.Equal("[format('rg-{0}', parameters('environmentName'))]", group.NameExpression);
        Assert.Equal("[variables('tags')]", group.Element.GetProperty("tags").GetString());
        Assert.Equal(
            "[parameters('environmentName')]",
            infrastructure.Root.Template.GetProperty("variables").GetProperty("tags").GetProperty("azd-env-name").GetString());
    }

    [Fact]
    public void Parameter_file_feeds_azd_environment_values_to_existing_parameters()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.InfraDirectory, "main.parameters.json")));
        var parameters = file.RootElement.GetProperty("parameters");

        Assert.All(parameters.EnumerateObject(), p => Assert.True(infrastructure.Root.HasParameter(p.Name), $"main.bicep has no parameter {p.Name}."));
        Assert.Equal("${AZURE_ENV_NAME}", parameters.GetProperty("environmentName").GetProperty("value").GetString());
        Assert.Equal("${AZURE_LOCATION}", parameters.GetProperty("location").GetProperty("value").GetString());
        Assert.Equal("${AZURE_PRINCIPAL_ID}", parameters.GetProperty("principalId").GetProperty("value").GetString());
    }

    [Fact]
    public void Only_the_renewals_desk_mailbox_is_left_for_azd_to_ask()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.InfraDirectory, "main.parameters.json")));
        var supplied = file.RootElement.GetProperty("parameters").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

        var unanswered = infrastructure.Root.Template.GetProperty("parameters").EnumerateObject()
            .Where(p => !p.Value.TryGetProperty("defaultValue", out _) && !supplied.Contains(p.Name))
            .Select(p => p.Name);

        Assert.Equal(["renewalsDeskEmail"], unanswered);
    }

    [Fact]
    public void Outputs_give_azd_and_operators_what_they_need()
    {
        var outputs = infrastructure.Root.Outputs;

        foreach (var name in new[]
        {
            "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_APP_NAME",
            "AZURE_FUNCTION_APP_HOST_NAME", "SERVICE_API_NAME", "AZURE_KEY_VAULT_URI", "AZURE_KEY_VAULT_NAME",
            "AZURE_COMMUNICATION_ENDPOINT", "SMP_SENDER_ADDRESS", "AZURE_STORAGE_TABLE_ENDPOINT",
        })
        {
            Assert.True(outputs.ContainsKey(name), $"Output {name} is missing.");
        }
    }
}
