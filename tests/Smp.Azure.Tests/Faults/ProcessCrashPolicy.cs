using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Smp.Azure.Tests.Faults;

/// <summary>Whether a simulated crash comes just before a write is sent, or just after the service carried it out.</summary>
public enum CrashTiming
{
    BeforeWrite,
    AfterWrite,
}

/// <summary>The process died: thrown by <see cref="ProcessCrashPolicy"/>; no production code handles it.</summary>
public sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException()
    {
    }

    public SimulatedCrashException(string message)
        : base(message)
    {
    }

    public SimulatedCrashException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Counts the storage writes a use case makes (every request but reads and table creation), and can stop the
/// "process" at one of them: just before it is sent, or just after the service carried it out (its answer lost
/// with the process). From then on every call fails, as nothing runs in a dead process: a clean-up that swallows
/// storage errors cannot go on writing. A test then starts a new process (new clients over the same tables) and
/// runs the use case again.
/// </summary>
public sealed class ProcessCrashPolicy : HttpPipelinePolicy
{
    private int writes;
    private int crashAt;
    private CrashTiming timing;
    private volatile bool crashed;

    /// <summary>Writes seen since the last <see cref="Arm"/> or <see cref="Reset"/>.</summary>
    public int Writes => Volatile.Read(ref writes);

    public bool Crashed => crashed;

    /// <summary>Crashes at write number <paramref name="write"/> (1-based), counted from now.</summary>
    public void Arm(int write, CrashTiming when)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(write, 1);
        Volatile.Write(ref writes, 0);
        crashAt = write;
        timing = when;
    }

    /// <summary>Counts from zero again, without a crash.</summary>
    public void Reset()
    {
        Volatile.Write(ref writes, 0);
        crashAt = 0;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var crashAfter = Before(message);
        ProcessNext(message, pipeline);
        After(crashAfter);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var crashAfter = Before(message);
        await ProcessNextAsync(message, pipeline);
        After(crashAfter);
    }

    private static bool IsWrite(HttpMessage message)
    {
        if (message.Request.Method == RequestMethod.Get)
        {
            return false;
        }

        // CreateIfNotExists on first use of a table: set-up, not a step of the use case.
        return !(message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("/Tables", StringComparison.Ordinal));
    }

    /// <summary>
    /// A write that does not go through a storage pipeline (a secret written to the local secret folder, see
    /// <see cref="CrashingSecretStore"/>), counted with the storage writes: throws if the process is dead or dies
    /// now; true when it is to die once this write is done (then call <see cref="AfterWrite"/>).
    /// </summary>
    public bool BeforeWrite(string description) => Before(isWrite: true, description);

    /// <summary>Throws if the process is dead (a read that does not go through a storage pipeline).</summary>
    public void BeforeRead() => Before(isWrite: false, string.Empty);

    /// <summary>Dies now when <see cref="BeforeWrite"/> said so.</summary>
    public void AfterWrite(bool crashNow) => After(crashNow);

    /// <summary>Throws if the process is dead or dies now; true when it is to die once this write is done.</summary>
    private bool Before(HttpMessage message) => Before(IsWrite(message), $"{message.Request.Method} {message.Request.Uri.Path}");

    private bool Before(bool isWrite, string description)
    {
        if (crashed)
        {
            throw new SimulatedCrashException("The process has crashed; nothing runs any more.");
        }

        if (!isWrite)
        {
            return false;
        }

        var n = Interlocked.Increment(ref writes);
        if (n != crashAt)
        {
            return false;
        }

        if (timing == CrashTiming.BeforeWrite)
        {
            crashed = true;
            throw new SimulatedCrashException(string.Create(CultureInfo.InvariantCulture, $"Crashed before write {n} ({description})."));
        }

        return true;
    }

    private void After(bool crashNow)
    {
        if (crashNow)
        {
            crashed = true;
            throw new SimulatedCrashException(string.Create(CultureInfo.InvariantCulture, $"Crashed after write {crashAt}, before its answer was used."));
        }
    }
}
