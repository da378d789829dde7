using NodaTime;

namespace Smp.Core.Requests;

/// <summary>What a limit said of one request.</summary>
public enum LimitDecision
{
    /// <summary>The request took one allowance.</summary>
    Counted,

    /// <summary>The same request (the same key) was counted before today: allowed, no second allowance taken.</summary>
    Repeat,

    /// <summary>The allowances of the day are used up; nothing was counted.</summary>
    Refused,
}

/// <summary>
/// Daily counters for what anonymous callers may do (SPEC section 5: per serial, per client address, per route,
/// per link), so that a link in a mail cannot be used to flood a customer's inbox, the renewals desk or the audit
/// trail. Counters belong to a business day and are purged once it is past.
/// </summary>
public interface IRequestRateLimiter
{
    /// <summary>
    /// Takes one of the <paramref name="limitPerDay"/> allowances of <paramref name="counter"/> on
    /// <paramref name="day"/>. With a <paramref name="requestKey"/> (what the request asks, never an id the caller
    /// chose), a key counted before is a <see cref="LimitDecision.Repeat"/> and takes nothing; without one, every
    /// call counts. Works the same whatever the counter names, so it reveals nothing about a serial, and a repeat makes
    /// the same storage calls as a request counted now, so nothing tells whether the same ask was made before.
    /// </summary>
    Task<LimitDecision> TryAcquireAsync(string counter, LocalDate day, int limitPerDay, string? requestKey, CancellationToken cancellationToken);

    /// <summary>Removes the counters of the days before <paramref name="day"/>.</summary>
    Task<int> PurgeBeforeAsync(LocalDate day, CancellationToken cancellationToken);
}
