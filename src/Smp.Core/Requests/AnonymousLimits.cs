namespace Smp.Core.Requests;

/// <summary>
/// The limits of the anonymous customer routes (SPEC section 5), per business day. Defaults are the
/// documented ones; <c>Smp:AnonymousLimits:*</c> settings change them.
/// </summary>
public sealed record AnonymousLimits
{
    /// <summary>The largest daily cap a setting may give (a counter keeps what it counted, and must stay within one table row).</summary>
    public const int MaxPerDay = 2000;

    /// <summary>
    /// Different requests (kind, serial, version/scope) one serial may have mailed for per kind and day (taken in the
    /// background, only for a request about to mail an existing license).
    /// </summary>
    public int PerSerialPerDay { get; init; } = 3;

    /// <summary><c>Smp:AnonymousLimits:PerClientPerDay</c>: requests one client address may make per route that causes mail.</summary>
    public int PerClientPerDay { get; init; } = 20;

    /// <summary>
    /// <c>Smp:AnonymousLimits:PerNetworkPerDay</c>: requests the IPv6 clients of one /48 allocation may make together
    /// per route that causes mail. One site's allocation holds 65,536 /64 clients, each with its own
    /// <see cref="PerClientPerDay"/>; without this cap one allocation could queue far more requests than the
    /// background work processes and push real requests past their maximum age.
    /// </summary>
    public int PerNetworkPerDay { get; init; } = 200;

    /// <summary><c>Smp:AnonymousLimits:PasswordRequestsPerDay</c>: password-link requests mailed for per day, all callers together (taken in the background, only for an existing license).</summary>
    public int PasswordRequestsPerDay { get; init; } = 500;

    /// <summary><c>Smp:AnonymousLimits:TermRequestsPerDay</c>: term requests mailed for per day, all callers together (taken in the background, only for an existing license).</summary>
    public int TermRequestsPerDay { get; init; } = 500;

    /// <summary><c>Smp:AnonymousLimits:QuoteRequestsPerDay</c>: quote requests mailed for per day, all callers together (taken in the background, only for an existing license).</summary>
    public int QuoteRequestsPerDay { get; init; } = 500;

    /// <summary><c>Smp:AnonymousLimits:PasswordRevealsPerLinkPerDay</c>: how often one password link shows the password per day.</summary>
    public int PasswordRevealsPerLinkPerDay { get; init; } = 20;

    /// <summary>Release events one link adds per day (one per client address, up to this many).</summary>
    public int ReleaseEventsPerLinkPerDay { get; init; } = 3;

    /// <summary>The daily cap of a route, all callers together: the mail it causes for existing licenses.</summary>
    public int GlobalPerDay(string kind) => kind switch
    {
        CustomerRequestKinds.PasswordLink => PasswordRequestsPerDay,
        CustomerRequestKinds.Term => TermRequestsPerDay,
        CustomerRequestKinds.Quote => QuoteRequestsPerDay,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown kind of customer request."),
    };
}
