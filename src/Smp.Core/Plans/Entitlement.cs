using NodaTime;

namespace Smp.Core.Plans;

/// <summary>Which licenses get a released update's password (R13, setting <c>Smp:Updates:Entitlement</c>).</summary>
public enum EntitlementPolicy
{
    /// <summary>The license is current (R7) on the day of the request. The vendor's stated rule, and the default.</summary>
    CurrentPlan,

    /// <summary>
    /// The update's release date lies in a covered span of the license: a plan that lapsed keeps the updates
    /// released while it was covered, and never gets those released while it was not.
    /// </summary>
    ReleasedDuringCover,
}

/// <summary>The entitlement rules of R13 as pure functions: the license, the update and the business date are inputs.</summary>
public static class Entitlement
{
    /// <summary>
    /// True when <paramref name="license"/> may have the password of <paramref name="release"/> on
    /// <paramref name="today"/> under <paramref name="policy"/>. An update whose release date is still to come
    /// entitles no one, whatever the policy, and neither does a dongle being replaced or replaced (SPEC section 10: its
    /// plan moves, from the intent on, to the new serial).
    /// </summary>
    public static bool IsEntitled(License license, UpdateRelease release, LocalDate today, EntitlementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(license);
        ArgumentNullException.ThrowIfNull(release);
        return IsEntitled(license, release.ReleasedOn, today, policy);
    }

    /// <inheritdoc cref="IsEntitled(License, UpdateRelease, LocalDate, EntitlementPolicy)"/>
    public static bool IsEntitled(License license, LocalDate releasedOn, LocalDate today, EntitlementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(license);
        if (releasedOn > today || license.Replacement is not null)
        {
            return false;
        }

        return policy switch
        {
            EntitlementPolicy.CurrentPlan => license.StatusOn(today) == PlanStatus.Current,
            EntitlementPolicy.ReleasedDuringCover => PlanRules.IsCovered(license, releasedOn),
            _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown entitlement policy."),
        };
    }

    /// <summary>
    /// Reads the setting's value: <c>CurrentPlan</c> (also when empty) or <c>ReleasedDuringCover</c>, ignoring
    /// case; false for anything else, numbers included.
    /// </summary>
    public static bool TryParsePolicy(string? value, out EntitlementPolicy policy)
    {
        policy = EntitlementPolicy.CurrentPlan;
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed) || string.Equals(trimmed, nameof(EntitlementPolicy.CurrentPlan), StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (string.Equals(trimmed, nameof(EntitlementPolicy.ReleasedDuringCover), StringComparison.OrdinalIgnoreCase))
        {
            policy = EntitlementPolicy.ReleasedDuringCover;
            return true;
        }

        return false;
    }
}
