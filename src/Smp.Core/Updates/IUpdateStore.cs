using Smp.Core.Plans;
namespace Smp.Core.Updates;

/// <summary>An update as stored, with the token that refuses a stale replace.</summary>
public sealed record StoredUpdate(UpdateRelease Release, string ConcurrencyToken);

/// <summary>
/// Durable storage of published updates' metadata (never their passwords, which live in the secret store).
/// There are few updates (a handful a year), so listing them all is cheap.
/// </summary>
public interface IUpdateStore
{
    Task<StoredUpdate?> GetAsync(UpdateVersion version, CancellationToken cancellationToken);

    /// <summary>Stores a new update; false, with nothing written, when the version is already stored.</summary>
    Task<bool> TryAddAsync(UpdateRelease release, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces <paramref name="current"/> by <paramref name="updated"/> (same version); false, with nothing written,
    /// when the update changed since <paramref name="current"/> was read.
    /// </summary>
    Task<bool> TryReplaceAsync(StoredUpdate current, UpdateRelease updated, CancellationToken cancellationToken);

    /// <summary>Every published update, by release date, then version.</summary>
    Task<IReadOnlyList<UpdateRelease>> ListAsync(CancellationToken cancellationToken);
}
