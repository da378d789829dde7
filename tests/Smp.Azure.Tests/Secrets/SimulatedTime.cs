using Microsoft.Extensions.Time.Testing;

namespace Smp.Azure.Tests.Secrets;

/// <summary>
/// A fake clock that never waits in real time: once every participant is waiting on a timer of this provider (a
/// <c>Task.Delay</c>) or has finished, the clock jumps to the earliest due time, as if the wait had passed. Work in
/// flight (an HTTP round trip) takes no simulated time, and the clock never jumps over it, so the order of events
/// by this clock is one that real time could produce. Time only moves forward; a test can measure how long the code
/// under test chose to wait.
/// </summary>
/// <remarks>
/// One participant unless the test says otherwise (<see cref="Participants"/>); each participant that ends calls
/// <see cref="Finished"/>.
/// </remarks>
public sealed class SimulatedTime() : FakeTimeProvider(StartTime)
{
    /// <summary>Where the clock starts: a fixed instant, never the machine's clock.</summary>
    public static readonly DateTimeOffset StartTime = new(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);

    private readonly Lock gate = new();
    private readonly List<DateTimeOffset> waiting = [];
    private int participants = 1;

    /// <summary>How far the clock has moved since <see cref="StartTime"/>.</summary>
    public TimeSpan Elapsed => GetUtcNow() - StartTime;

    /// <summary>How many callers run concurrently on this clock; the clock moves only when all of them wait or are done.</summary>
    public int Participants
    {
        get { lock (gate) { return participants; } }
        set { lock (gate) { participants = value; } }
    }

    /// <summary>A participant is done and will start no further timer.</summary>
    public void Finished()
    {
        lock (gate)
        {
            participants--;
        }

        ThreadPool.QueueUserWorkItem(_ => Advance());
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (gate)
            {
                waiting.Add(GetUtcNow() + dueTime);
            }

            // Off the caller's thread: the timer must be handed back before its callback may run.
            ThreadPool.QueueUserWorkItem(_ => Advance());
        }

        return timer;
    }

    private void Advance()
    {
        lock (gate)
        {
            if (waiting.Count == 0 || waiting.Count < participants)
            {
                return;
            }

            var due = waiting.Min();
            waiting.RemoveAll(d => d <= due);
            if (GetUtcNow() < due)
            {
                SetUtcNow(due);
            }
        }
    }
}
