using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Smp.TestSupport;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>The facts about the machine that a reader needs to weigh the numbers.</summary>
internal static class MachineInfo
{
    public static string Describe(DateTimeOffset started)
    {
        var text = new StringBuilder();
        Line(text, "Run started (UTC)", started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
        Line(text, "Logical CPUs", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        Line(text, "CPU", CpuModel() ?? "unknown");
        Line(text, "Memory", Memory() ?? "unknown");
        Line(text, "OS", RuntimeInformation.OSDescription);
        Line(text, ".NET", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}), {Configuration()} build, workstation GC");
        Line(text, "Node.js", Run("node", "--version") ?? "unknown");
        Line(text, "Azurite", AzuriteVersion() ?? "unknown");
        Line(text, "Load average (1/5/15 min) at start", LoadAverage() ?? "unknown");
        return text.ToString();
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux): how busy the machine was with other work.</summary>
    public static string? LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return parts.Length >= 3 ? $"{parts[0]} / {parts[1]} / {parts[2]}" : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Line(StringBuilder text, string name, string value) => text.Append("- ").Append(name).Append(": ").AppendLine(value);

    private static string Configuration() =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string? CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo")
                .Where(l => l.StartsWith("model name", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
                .FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Memory()
    {
        try
        {
            var info = File.ReadLines("/proc/meminfo")
                .Select(l => l.Split(':', 2))
                .Where(p => p.Length == 2)
                .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
            return info.TryGetValue("MemTotal", out var total) && info.TryGetValue("MemAvailable", out var available)
                ? $"{Gib(total)} total, {Gib(available)} available at start"
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        static string Gib(string kb) =>
            long.TryParse(kb.Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? (value / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB"
                : kb;
    }

    private static string? AzuriteVersion()
    {
        var manifest = Path.Combine(RepositoryRoot.Path, "tools", "azurite", "node_modules", "azurite", "package.json");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(manifest));
            return document.RootElement.TryGetProperty("version", out var version) ? version.GetString() + " (in memory, tools/azurite)" : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Run(string program, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(5000);
            return output.Length == 0 ? null : output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
