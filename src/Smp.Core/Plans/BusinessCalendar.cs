using NodaTime;

namespace Smp.Core.Plans;

/// <summary>
/// Turns instants into the vendor's business dates. The only place that combines the injected
/// clock with the configured business time zone (SPEC section 2); nothing reads the machine's zone.
/// </summary>
public sealed class BusinessCalendar(IClock clock, DateTimeZone zone)
{
    public DateTimeZone Zone { get; } = zone;

    public Instant Now => clock.GetCurrentInstant();

    public LocalDate Today => DateOf(Now);

    public LocalDate DateOf(Instant instant) => instant.InZone(Zone).Date;
}
