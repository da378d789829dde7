using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Secrets;

namespace Smp.Core.Updates;

public enum PublishOutcome
{
    /// <summary>The version was not published before.</summary>
    Created,

    /// <summary>The version was published before; its release date or password changed, or nothing did.</summary>
    Updated,
}

public sealed record PublishResult(PublishOutcome Outcome, UpdateRelease Release);

/// <summary>One published update and whether a license is entitled to it today (the license document, R13).</summary>
public sealed record UpdateEntitlement(UpdateRelease Release, bool Entitled);

/// <summary>
/// Publishing updates (R13): the release date in the update store, the password in the secret store. The password is
/// written before the metadata says there is one, so <see cref="UpdateRelease.HasPassword"/> never promises a password
/// that is not stored.
/// </summary>
public sealed class UpdateService(IUpdateStore store, ISecretStore secrets, BusinessCalendar calendar, UpdateOptions options)
{
    /// <summary>How many times a publish is decided again after a concurrent change of the same update.</summary>
    public const int MaxAttempts = 20;

    public EntitlementPolicy Policy => options.Entitlement;

    /// <summary>
    /// Publishes <paramref name="version"/> as released on <paramref name="releasedOn"/>, storing
    /// <paramref name="password"/> first when one is given (it replaces an earlier one). Without a password, an
    /// update not yet known to have one is checked against the secret store, so a password an operator put in Key
    /// Vault directly is found.
    /// </summary>
    public async Task<PublishResult> PublishAsync(UpdateVersion version, LocalDate releasedOn, string? password, CancellationToken cancellationToken)
    {
        if (version.Value is null)
        {
            throw new ArgumentException("The update version is not set.", nameof(version));
        }

        if (password is not null && UpdatePassword.Problem(password) is { } problem)
        {
            throw new ArgumentException(problem, nameof(password));
        }

        var secretName = SecretName.ForUpdate(version);
        if (password is not null)
        {
            await secrets.SetAsync(secretName, password, cancellationToken);
        }

        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var existing = await store.GetAsync(version, cancellationToken);
            var hasPassword = password is not null
                || existing?.Release.HasPassword == true
                || await secrets.GetAsync(secretName, cancellationToken) is not null;
            if (existing is null)
            {
                var release = new UpdateRelease(version, releasedOn, calendar.Now, null, hasPassword);
                if (await store.TryAddAsync(release, cancellationToken))
                {
                    return new PublishResult(PublishOutcome.Created, release);
                }
            }
            else
            {
                var updated = existing.Release with { ReleasedOn = releasedOn, HasPassword = hasPassword };
                if (updated == existing.Release || await store.TryReplaceAsync(existing, updated, cancellationToken))
                {
                    return new PublishResult(PublishOutcome.Updated, updated);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * Math.Min(attempt, 10))), cancellationToken);
        }

        throw new InvalidOperationException($"Update {version} kept changing under the request; retry it.");
    }

    public async Task<UpdateRelease?> GetAsync(UpdateVersion version, CancellationToken cancellationToken) =>
        (await store.GetAsync(version, cancellationToken))?.Release;

    public Task<IReadOnlyList<UpdateRelease>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    /// <summary>Whether <paramref name="license"/> is entitled today to the password of <paramref name="release"/> under the configured policy.</summary>
    public bool IsEntitled(License license, UpdateRelease release) =>
        Entitlement.IsEntitled(license, release, calendar.Today, options.Entitlement);

    /// <summary>Every published update with whether <paramref name="license"/> is entitled to it today (R13).</summary>
    public async Task<IReadOnlyList<UpdateEntitlement>> EntitlementsAsync(License license, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(license);
        var releases = await store.ListAsync(cancellationToken);
        return [.. releases.Select(r => new UpdateEntitlement(r, IsEntitled(license, r)))];
    }
}
