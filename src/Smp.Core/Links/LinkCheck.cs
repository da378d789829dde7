using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Links;

/// <summary>
/// The verdict on a customer link. Closed: exactly these three cases. None of them carries the
/// signature or the key, so printing a verdict never leaks either.
/// </summary>
public abstract record LinkCheck
{
    private LinkCheck()
    {
    }

    /// <summary>Genuine and not yet expired: the link may be honoured.</summary>
    public sealed record Valid(Serial Serial, UpdateVersion Version, Instant ExpiresAt) : LinkCheck;

    /// <summary>
    /// Not made by us for these fields (tampered, forged or malformed), expired or not. Says nothing about
    /// whether the serial exists (SPEC section 5: a 403).
    /// </summary>
    public sealed record BadSignature : LinkCheck;

    /// <summary>Genuine, but its validity ended (SPEC section 5: a 410 that tells how to ask for a new one).</summary>
    public sealed record Expired(Serial Serial, UpdateVersion Version, Instant ExpiredAt) : LinkCheck;
}
