using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Requests;

/// <summary>
/// Counts customer requests per serial and business day (SPEC section 5: "a few per day"), so that a link
/// in a mail cannot be used to flood a customer's inbox or the renewals desk.
/// </summary>
public interface IRequestRateLimiter
{
    /// <summary>
    /// Takes one of the <paramref name="limitPerDay"/> requests of kind <paramref name="scope"/> that
    /// <paramref name="serial"/> may make on <paramref name="day"/> for request <paramref name="requestId"/>; false,
    /// counting nothing, when they are used up. A request already counted (the same id: the client retried it, or it
    /// runs again after a crash) is allowed again without taking another allowance, so that a request that failed
    /// half-way can finish. Works the same whether or not a license has the serial, so it reveals nothing.
    /// </summary>
    Task<bool> TryAcquireAsync(string scope, Serial serial, LocalDate day, int limitPerDay, string requestId, CancellationToken cancellationToken);
}
