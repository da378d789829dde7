namespace Smp.Azure.Tables;

/// <summary>
/// Runs an asynchronous set-up once per instance, on first use, for every caller at once; a failed or
/// cancelled run is tried again by the next caller instead of being remembered.
/// </summary>
internal sealed class AsyncOnce(Func<CancellationToken, Task> run)
{
    private readonly Lock gate = new();
    private Task? task;

    public Task EnsureAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref task);
        if (current is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        lock (gate)
        {
            if (task is null || task.IsFaulted || task.IsCanceled)
            {
                // Shared by every caller, so no single caller's token may cancel it; each caller stops waiting on its own token.
                task = Task.Run(() => run(CancellationToken.None), CancellationToken.None);
            }

            current = task;
        }

        return current.WaitAsync(cancellationToken);
    }
}
