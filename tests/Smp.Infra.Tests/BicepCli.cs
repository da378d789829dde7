using System.Diagnostics;
using System.Text.Json;

namespace Smp.Infra.Tests;

/// <summary>Output of one run of the Bicep CLI.</summary>
internal sealed record BicepRun(string Arguments, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() =>
        $"bicep {Arguments} exited {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{StandardOutput}{Environment.NewLine}stderr:{Environment.NewLine}{StandardError}";
}

/// <summary>One diagnostic (error, warning, linter finding) reported by Bicep.</summary>
internal sealed record BicepDiagnostic(string RuleId, string Message, string File, int Line)
{
    public override string ToString() => $"{File}({Line}): {RuleId}: {Message}";
}

/// <summary>Runs the Bicep CLI restored from the Azure.Bicep.CommandLine.linux-x64 package.</summary>
internal static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static BicepRun Run(params string[] arguments)
    {
        var executable = TestEnvironment.BicepExecutable;
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException("The Bicep CLI is missing; restore the test project.", executable);
        }

        EnsureExecutable(executable);

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestEnvironment.InfraDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"Could not start {executable}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout}.");
        }

        return new BicepRun(string.Join(' ', arguments), process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Reads the results of a SARIF log, the format asked for with --diagnostics-format sarif.</summary>
    public static IReadOnlyList<BicepDiagnostic> ParseSarif(string sarif)
    {
        if (string.IsNullOrWhiteSpace(sarif))
        {
            return [];
        }

        using var document = JsonDocument.Parse(sarif);
        var diagnostics = new List<BicepDiagnostic>();
        foreach (var run in document.RootElement.GetProperty("runs").EnumerateArray())
        {
            foreach (var result in run.GetProperty("results").EnumerateArray())
            {
                var file = "";
                var line = 0;
                if (result.TryGetProperty("locations", out var locations) && locations.GetArrayLength() > 0)
                {
                    var physical = locations[0].GetProperty("physicalLocation");
                    file = physical.GetProperty("artifactLocation").GetProperty("uri").GetString() ?? "";
                    line = physical.GetProperty("region").GetProperty("startLine").GetInt32();
                }

                diagnostics.Add(new BicepDiagnostic(
                    result.GetProperty("ruleId").GetString() ?? "",
                    result.GetProperty("message").GetProperty("text").GetString() ?? "",
                    file,
                    line));
            }
        }

        return diagnostics;
    }

    // NuGet extracts packages without keeping file modes everywhere; the CLI needs its execute bit.
    private static void EnsureExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & UnixFileMode.UserExecute) == 0)
        {
            File.SetUnixFileMode(path, mode | execute);
        }
    }
}
