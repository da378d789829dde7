using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Smp.TestSupport;

/// <summary>
/// A real Azurite table server running as a child process on a free loopback port, holding its data in
/// memory. Disposing it kills the process tree. <see cref="GetSharedAsync"/> gives one instance per
/// test process, killed when the process exits.
/// </summary>
public sealed class AzuriteProcess : IDisposable, IAsyncDisposable
{
    /// <summary>The emulator's well-known development account (public, documented by Microsoft).</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's well-known development key (public, documented by Microsoft).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string StartedMarker = "successfully started";
    private const int MaxStartAttempts = 5;
    private const int MaxLogChars = 16 * 1024;

    private static readonly Lock SharedLock = new();
    private static Task<AzuriteProcess>? shared;

    private readonly Process process;
    private readonly string workingDirectory;
    private readonly StringBuilder output = new();
    private readonly StringBuilder errors = new();
    private volatile bool startedMarkerSeen;
    private int disposed;

    private AzuriteProcess(Process process, int port, string workingDirectory)
    {
        this.process = process;
        this.workingDirectory = workingDirectory;
        Port = port;
    }

    /// <summary>How long a start may take before it is reported as failed (the machine may be busy building).</summary>
    public static TimeSpan DefaultStartTimeout { get; } = TimeSpan.FromSeconds(60);

    public int Port { get; }

    public Uri TableEndpoint => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{AccountName}");

    /// <summary>A shared-key connection string for the table endpoint (the SDK refuses bearer tokens over http).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};TableEndpoint={TableEndpoint};";

    /// <summary>What Azurite wrote to standard error so far (the last few KiB).</summary>
    public string StandardError
    {
        get
        {
            lock (errors)
            {
                return errors.ToString();
            }
        }
    }

    /// <summary>What Azurite wrote to standard output so far (the last few KiB).</summary>
    public string StandardOutput
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>The path of the pinned <c>azurite-table</c> launcher under <c>tools/azurite</c>.</summary>
    public static string ExecutablePath(string repositoryRoot) =>
        Path.Combine(repositoryRoot, "tools", "azurite", "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite-table.cmd" : "azurite-table");

    /// <summary>
    /// The Azurite instance of this test process, started on first call and killed when the process exits.
    /// A failed start is reported to every caller with the same message.
    /// </summary>
    public static Task<AzuriteProcess> GetSharedAsync()
    {
        lock (SharedLock)
        {
            if (shared is null)
            {
                shared = StartSharedAsync();
            }

            return shared;
        }
    }

    /// <summary>Starts a new Azurite table server that the caller owns and must dispose.</summary>
    public static async Task<AzuriteProcess> StartAsync(string? repositoryRoot = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var executable = ExecutablePath(repositoryRoot ?? RepositoryRoot.Path);
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed at '{executable}'. Building tests/Smp.TestSupport installs it (npm ci in tools/azurite); " +
                "or run 'npm ci' in tools/azurite yourself.");
        }

        var deadline = DateTime.UtcNow + (timeout ?? DefaultStartTimeout);
        for (var attempt = 1; ; attempt++)
        {
            var candidate = Launch(executable, FreeLoopbackPort());
            bool ready;
            try
            {
                ready = await candidate.WaitUntilReadyAsync(deadline, cancellationToken);
            }
            catch
            {
                candidate.Dispose();
                throw;
            }

            if (ready)
            {
                return candidate;
            }

            var stderr = candidate.StandardError;
            var stdout = candidate.StandardOutput;
            var exited = candidate.process.HasExited;
            var exitCode = exited ? candidate.process.ExitCode.ToString(CultureInfo.InvariantCulture) : "none (still running)";
            candidate.Dispose();

            // Another process may take the free port between our probe and Azurite's bind: try another one.
            if (exited && stderr.Contains("EADDRINUSE", StringComparison.Ordinal) && attempt < MaxStartAttempts && DateTime.UtcNow < deadline)
            {
                continue;
            }

            throw new InvalidOperationException(
                $"Azurite ('{executable}') did not answer on 127.0.0.1:{candidate.Port.ToString(CultureInfo.InvariantCulture)} " +
                $"within {(timeout ?? DefaultStartTimeout).TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (attempt {attempt.ToString(CultureInfo.InvariantCulture)}); " +
                $"exit code: {exitCode}. Its standard error:{Environment.NewLine}{(stderr.Length == 0 ? "(empty)" : stderr)}" +
                $"{Environment.NewLine}Its standard output:{Environment.NewLine}{(stdout.Length == 0 ? "(empty)" : stdout)}");
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        finally
        {
            process.Dispose();
            TryDeleteWorkingDirectory();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task<AzuriteProcess> StartSharedAsync()
    {
        var azurite = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.Dispose();
        return azurite;
    }

    private static AzuriteProcess Launch(string executable, int port)
    {
        // Azurite keeps its data in memory; a private working folder keeps anything else it writes out of the repository.
        var workingDirectory = Directory.CreateTempSubdirectory("smp-azurite-").FullName;
        var startInfo = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            CreateNoWindow = true,
        };
        foreach (var argument in new[]
        {
            "--tableHost", "127.0.0.1",
            "--tablePort", port.ToString(CultureInfo.InvariantCulture),
            "--inMemoryPersistence",
            "--disableTelemetry",
            "--loose",
            "--skipApiVersionCheck",
            "--silent",
        })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var azurite = new AzuriteProcess(process, port, workingDirectory);
        process.OutputDataReceived += (_, e) => azurite.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => Append(azurite.errors, e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            azurite.Dispose();
            throw new InvalidOperationException($"Could not start Azurite ('{executable}'): {e.Message}. Node.js must be on the PATH.", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return azurite;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
            if (log.Length > MaxLogChars)
            {
                log.Remove(0, log.Length - MaxLogChars);
            }
        }
    }

    private void OnOutput(string? line)
    {
        if (line is not null && line.Contains(StartedMarker, StringComparison.OrdinalIgnoreCase))
        {
            startedMarkerSeen = true;
        }

        Append(output, line);
    }

    /// <summary>True once Azurite said it listens on our port and the port accepts a connection; false if it exited or time ran out.</summary>
    private async Task<bool> WaitUntilReadyAsync(DateTime deadline, CancellationToken cancellationToken)
    {
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // Flushes the redirected streams, so that stderr is complete.
                return false;
            }

            if (startedMarkerSeen && await PortAnswersAsync(cancellationToken))
            {
                return !process.HasExited;
            }

            await Task.Delay(50, cancellationToken);
        }

        return false;
    }

    private async Task<bool> PortAnswersAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, Port, attempt.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private void TryDeleteWorkingDirectory()
    {
        try
        {
            Directory.Delete(workingDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
