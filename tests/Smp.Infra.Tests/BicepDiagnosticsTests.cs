namespace Smp.Infra.Tests;

/// <summary>The templates compile and lint without a single error or warning.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class BicepDiagnosticsTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Main_template_builds_without_errors_or_warnings()
    {
        Assert.True(infrastructure.Build.ExitCode == 0, infrastructure.Build.ToString());

        // With --stdout the template goes to standard output and the SARIF log of diagnostics to standard error.
        var diagnostics = BicepCli.ParseSarif(infrastructure.Build.StandardError);
        Assert.True(diagnostics.Count == 0, Describe(diagnostics));
    }

    [Fact]
    public void Main_template_and_its_modules_lint_clean()
    {
        var lint = BicepCli.Run("lint", TestEnvironment.MainBicep, "--diagnostics-format", "sarif");
        Assert.True(lint.ExitCode == 0, lint.ToString());

        var diagnostics = BicepCli.ParseSarif(lint.StandardOutput);
        Assert.True(diagnostics.Count == 0, Describe(diagnostics));
        Assert.True(string.IsNullOrWhiteSpace(lint.StandardError), lint.ToString());
    }

    [Fact]
    public void Every_module_file_is_used_by_main()
    {
        var modules = Directory.GetFiles(Path.Combine(TestEnvironment.InfraDirectory, "modules"), "*.bicep");
        var main = File.ReadAllText(TestEnvironment.MainBicep);

        Assert.NotEmpty(modules);
        Assert.All(modules, module => Assert.Contains($"'modules/{Path.GetFileName(module)}'", main, StringComparison.Ordinal));
    }

    [Fact]
    public void Templates_use_no_registry_modules()
    {
        // The public module registry is out of reach of the build machines; every module is local.
        var files = Directory.GetFiles(TestEnvironment.InfraDirectory, "*.bicep", SearchOption.AllDirectories);
        Assert.All(files, file => Assert.DoesNotContain("br/", File.ReadAllText(file), StringComparison.Ordinal));
        Assert.All(files, file => Assert.DoesNotContain("br:", File.ReadAllText(file), StringComparison.Ordinal));
    }

    private static string Describe(IReadOnlyList<BicepDiagnostic> diagnostics) =>
        $"Bicep reported {diagnostics.Count} diagnostic(s):{Environment.NewLine}{string.Join(Environment.NewLine, diagnostics)}";
}
