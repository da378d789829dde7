using System.Text.Json;
using System.Text.RegularExpressions;

namespace Smp.Infra.Tests;

/// <summary>
/// The CI entry point installs the pinned Azurite once, and the documentation asks for the Node.js
/// version that Azurite itself declares.
/// </summary>
public sealed partial class CiWiringTests
{
    private static string Root => TestEnvironment.RepositoryRoot;

    [Fact]
    public void Ci_run_installs_azurite_once()
    {
        // What `.ci/run` executes: the script itself, then `dotnet test SmpFunctions.sln`, whose build runs
        // every MSBuild file of the repository (project files, Directory.*.props/targets).
        var buildFiles = Directory.EnumerateFiles(Root, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal))
            .Where(f => !IsUnder(f, "node_modules") && !IsUnder(f, "bin") && !IsUnder(f, "obj"));
        var files = buildFiles.Append(Path.Combine(Root, ".ci", "run")).ToList();

        var installs = files
            .SelectMany(f => File.ReadAllLines(f).Select(line => (File: Path.GetRelativePath(Root, f), Line: line)))
            .Where(l => !l.Line.TrimStart().StartsWith('#'))
            .Where(l => NpmInstall().IsMatch(l.Line))
            .ToList();

        Assert.True(
            installs.Count == 1,
            $"Expected one npm install of Azurite per CI run, found {installs.Count}:{Environment.NewLine}{string.Join(Environment.NewLine, installs.Select(i => $"{i.File}: {i.Line.Trim()}"))}");
    }

    [Fact]
    public void Documentation_asks_for_the_node_version_the_pinned_azurite_declares()
    {
        var major = AzuriteNodeMajorVersion();

        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        Assert.Contains($"**Node.js {major} or later", readme, StringComparison.Ordinal);

        // Nowhere that tells a newcomer what to install names an older minimum.
        foreach (var file in new[] { "README.md", "tools/run-local.sh", "tests/Smp.TestSupport/Smp.TestSupport.csproj", ".ci/run" })
        {
            var text = File.ReadAllText(Path.Combine(Root, file));
            foreach (Match stated in NodeMinimum().Matches(text))
            {
                Assert.True(int.Parse(stated.Groups["major"].Value, System.Globalization.CultureInfo.InvariantCulture) >= major, $"{file} says '{stated.Value}', but Azurite declares Node.js {major} or later.");
            }
        }
    }

    private static int AzuriteNodeMajorVersion()
    {
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "tools", "azurite", "package-lock.json")));
        var engines = lockFile.RootElement.GetProperty("packages").GetProperty("node_modules/azurite").GetProperty("engines").GetProperty("node").GetString() ?? "";
        var match = Regex.Match(engines, @"^>=\s*(?<major>\d+)");
        Assert.True(match.Success, $"Unexpected engines.node '{engines}' for azurite.");
        return int.Parse(match.Groups["major"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool IsUnder(string path, string directory) =>
        Path.GetRelativePath(Root, path).Split(Path.DirectorySeparatorChar).Contains(directory, StringComparer.Ordinal);

    // A command that installs packages: a script line that runs npm, or an MSBuild Exec of it.
    [GeneratedRegex(@"(^\s*npm\s+(ci|install|i)\b)|(Command=""[^""]*\bnpm\s+(ci|install|i)\b)")]
    private static partial Regex NpmInstall();

    [GeneratedRegex(@"Node(\.js)?\s+(?<major>\d+)\s+or\s+later")]
    private static partial Regex NodeMinimum();
}
