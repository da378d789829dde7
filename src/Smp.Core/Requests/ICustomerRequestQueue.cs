using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Requests;

/// <summary>The kinds of anonymous customer requests that cause mail.</summary>
public static class CustomerRequestKinds
{
    public const string PasswordLink = "password-link";
    public const string Term = "term";
    public const string Quote = "quote";
}

/// <summary>
/// One customer request, identified by what it asks (<see cref="Key"/>: kind, serial, version or scope, business
/// day), never by an id the caller chose. The actor and correlation id are kept for the audit trail.
/// </summary>
public sealed record CustomerRequest(string Kind, Serial Serial, string? Version, QuoteScope Scope, LocalDate Day, string Actor, string CorrelationId)
{
    public string Key => string.Join('|', Kind, Serial.Value, Version ?? "-", Scope == QuoteScope.Customer ? "customer" : "license", NodaTime.Text.LocalDatePattern.Iso.Format(Day));

    public CommandContext Context => new(Actor, CorrelationId);

    /// <summary>64 bits of SHA-256 of <see cref="Key"/>, as the limits count it.</summary>
    public string Digest => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Key)))[..16];
}

/// <summary>A recorded request waiting for the background work, with the store's version of its row.</summary>
public sealed record PendingCustomerRequest(CustomerRequest Request, string ETag);

/// <summary>
/// Customer requests recorded durably by the request path and acted on in the background, so that the request path
/// does the same storage work whether or not the serial exists (SPEC section 5, no oracle by timing).
/// </summary>
public interface ICustomerRequestQueue
{
    /// <summary>Records the request; false when the same request (same key) is already recorded.</summary>
    Task<bool> RecordAsync(CustomerRequest request, CancellationToken cancellationToken);

    /// <summary>Requests not yet acted on, oldest days first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(int max, CancellationToken cancellationToken);

    /// <summary>Marks a request acted on (it stays until purged, so a repeat of it is recognised).</summary>
    Task MarkDoneAsync(PendingCustomerRequest pending, CancellationToken cancellationToken);

    /// <summary>Removes the requests of the days before <paramref name="day"/>.</summary>
    Task<int> PurgeBeforeAsync(LocalDate day, CancellationToken cancellationToken);
}
