using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Licenses;

/// <summary>A validated activation (POST /api/activations).</summary>
public sealed record ActivationRequest(
    Serial Serial,
    string? Product,
    Customer Customer,
    ImmutableArray<EmailAddress> Contacts,
    bool OnSiteTraining,
    Instant ActivationEmailSentAt);

/// <summary>A validated renewal (POST /api/licenses/{serial}/renewals).</summary>
public sealed record RenewalRequest(string OrderReference, int Months, Instant? PaidAt);

public enum CommandOutcome
{
    /// <summary>A new license was stored.</summary>
    Created,

    /// <summary>The license changed and an event was recorded.</summary>
    Updated,

    /// <summary>The request repeats one already applied: nothing changed.</summary>
    Unchanged,

    /// <summary>The request contradicts what is stored (same key, different data): nothing changed.</summary>
    Conflict,

    /// <summary>No license has this serial.</summary>
    NotFound,

    /// <summary>The changed license or its event would be larger than the store holds: nothing changed.</summary>
    TooLarge,
}

/// <summary>The result of a license command: the outcome and, unless not found, the license as it now stands.</summary>
public sealed record CommandResult(CommandOutcome Outcome, StoredLicense? License, string? Detail = null);
