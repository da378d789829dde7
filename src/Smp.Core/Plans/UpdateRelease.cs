using NodaTime;

namespace Smp.Core.Plans;

/// <summary>
/// A published software update (R13): its version, the day it is released to customers, when staff
/// published it, and when it was first announced (R14). The password itself lives in the secret store,
/// never here; <see cref="HasPassword"/> only records that it was stored.
/// </summary>
/// <param name="Version">The update's version, normalized.</param>
/// <param name="ReleasedOn">The business date from which the update is released; before it, no one gets its password.</param>
/// <param name="PublishedAt">When the update was first published (its first <c>PUT</c>).</param>
/// <param name="AnnouncedAt">When it was first announced; null while it has not been.</param>
/// <param name="HasPassword">True once its password is in the secret store.</param>
public sealed record UpdateRelease(UpdateVersion Version, LocalDate ReleasedOn, Instant PublishedAt, Instant? AnnouncedAt, bool HasPassword = false)
{
    /// <summary>True when the update is released on <paramref name="today"/>: its release date is today or earlier.</summary>
    public bool IsReleasedOn(LocalDate today) => ReleasedOn <= today;
}
