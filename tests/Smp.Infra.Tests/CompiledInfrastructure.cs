using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>infra/main.bicep compiled once for all the tests of the collection.</summary>
public sealed class CompiledInfrastructure : IDisposable
{
    private readonly JsonDocument? _document;

    public CompiledInfrastructure()
    {
        Build = BicepCli.Run("build", TestEnvironment.MainBicep, "--stdout", "--diagnostics-format", "sarif");
        if (Build.ExitCode == 0)
        {
            Json = Build.StandardOutput;
            _document = JsonDocument.Parse(Json);
        }
    }

    internal BicepRun Build { get; }

    /// <summary>The compiled ARM template as text.</summary>
    internal string Json { get; } = "";

    internal ArmDeployment Root =>
        _document is null
            ? throw new InvalidOperationException($"main.bicep did not compile:{Environment.NewLine}{Build}")
            : ArmDeployment.Root(_document.RootElement);

    internal IReadOnlyList<ArmResource> Resources => Root.AllResources().ToList();

    /// <summary>The one deployed (not "existing") resource of a type.</summary>
    internal ArmResource Single(string type)
    {
        var matches = Resources.Where(r => r.Type == type && !r.IsExisting).ToList();
        Assert.True(matches.Count == 1, $"Expected exactly one {type}, found {matches.Count}.");
        return matches[0];
    }

    public void Dispose() => _document?.Dispose();
}

[CollectionDefinition(Name)]
public sealed class InfrastructureCollection : ICollectionFixture<CompiledInfrastructure>
{
    public const string Name = "Compiled infrastructure";
}
