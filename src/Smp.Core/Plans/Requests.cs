using System.Collections.Immutable;
using NodaTime;

namespace Smp.Core.Plans;

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
