using System.Reflection;

namespace Smp.Infra.Tests;

/// <summary>Paths the build passes to the tests through assembly metadata.</summary>
internal static class TestEnvironment
{
    public static string RepositoryRoot { get; } = Path.GetFullPath(Metadata("RepositoryRoot"));

    public static string BicepExecutable { get; } = Metadata("BicepExecutable");

    public static string InfraDirectory => Path.Combine(RepositoryRoot, "infra");

    public static string MainBicep => Path.Combine(InfraDirectory, "main.bicep");

    private static string Metadata(string key)
    {
        var value = typeof(TestEnvironment).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == key)?.Value;
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException($"The test assembly carries no '{key}' metadata; see Smp.Infra.Tests.csproj.");
        }

        return value;
    }
}
