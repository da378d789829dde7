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
/// day), never by an id the caller chose. The actor, their id (a signed-in person asking from the console) and the
/// correlation id are kept for the audit trail. <see cref="FromStaff"/> marks a request a signed-in staff member made
/// from the console: the anonymous limits (the serial's allowance, the route's daily cap) do not apply to it.
/// </summary>
/// <see cref="StaffResend"/> marks a staff member's request made after an anonymous request with the same key had
/// already been acted on: its mail is a new one (<see cref="MailKey"/>), sent on purpose by a signed-in person.
public sealed record CustomerRequest(string Kind, Serial Serial, string? Version, QuoteScope Scope, LocalDate Day, string Actor, string CorrelationId, string? ActorId = null, bool FromStaff = false, bool StaffResend = false)
{
    public string Key => string.Join('|', Kind, Serial.Value, Version ?? "-", Scope == QuoteScope.Customer ? "customer" : "license", NodaTime.Text.LocalDatePattern.Iso.Format(Day));

    /// <summary>
    /// What the request's mail ids are composed from: <see cref="Key"/>, so a repeat or a run again after a crash sends
    /// no second copy; for a <see cref="StaffResend"/> the key marked as the staff's, so its mail is not taken for the
    /// anonymous request's, and is still sent once.
    /// </summary>
    public string MailKey => StaffResend ? Key + "|staff" : Key;

    public CommandContext Context => new(Actor, CorrelationId, ActorId);

    /// <summary>64 bits of SHA-256 of <see cref="Key"/>, as the limits count it.</summary>
    public string Digest => DigestOf(Key);

    /// <summary>64 bits of SHA-256 of a limit key, as hex: what the limits count for any ask.</summary>
    public static string DigestOf(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..16];
}

/// <summary>
/// A recorded request waiting for the background work, with the store's version of its row and how many attempts at
/// it have failed so far.
/// </summary>
public sealed record PendingCustomerRequest(CustomerRequest Request, string ETag, int FailedAttempts = 0);

/// <summary>
/// Customer requests recorded durably by the request path and acted on in the background, so that the request path
/// does the same storage work whether or not the serial exists (SPEC section 5, no oracle by timing).
/// </summary>
public interface ICustomerRequestQueue
{
    /// <summary>Records the request; false when the same request (same key) is already recorded.</summary>
    Task<bool> RecordAsync(CustomerRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Records a signed-in staff member's request (<see cref="CustomerRequest.FromStaff"/>), in one conditional write
    /// per attempt: a new row when none has the key; an anonymous request with the key not yet acted on is taken over
    /// (marked as the staff's, with their actor, so the anonymous limits no longer hold it back, and its mail ids kept,
    /// so a run acting on it meanwhile sends no second copy); an anonymous request with the key already acted on or
    /// given up is recorded again as pending, as a <see cref="CustomerRequest.StaffResend"/>. False when a staff
    /// request with the key was recorded before: it is acted on once.
    /// </summary>
    Task<bool> RecordFromStaffAsync(CustomerRequest request, CancellationToken cancellationToken) =>
        RecordAsync(request, cancellationToken);

    /// <summary>
    /// Requests not yet acted on nor given up whose next attempt is due at <paramref name="now"/>, at most
    /// <paramref name="max"/>: those never tried first, in the order they were recorded (first come, first served: a
    /// request made later never pushes back one made earlier), then those failed before, longest due first. A request
    /// whose last attempt failed is not listed before the time <see cref="RecordFailureAsync"/> set, so requests that
    /// keep failing never hide the ones behind them.
    /// </summary>
    Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ListPendingAsync(Instant, int, CancellationToken)"/>; a stored request that cannot be read (a row
    /// no version of the app could act on) is removed, so it neither stays forever nor stops the others, and is
    /// reported to <paramref name="onUnreadable"/>.
    /// </summary>
    Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, CancellationToken cancellationToken) =>
        ListPendingAsync(now, max, cancellationToken);

    /// <summary>
    /// As <see cref="ListPendingAsync(Instant, int, Action{UnreadableCustomerRequest}, CancellationToken)"/>, and tells
    /// <paramref name="onBacklog"/> how many requests are pending in all (due or not) and the day of the oldest.
    /// </summary>
    Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, Action<PendingBacklog> onBacklog, CancellationToken cancellationToken) =>
        ListPendingAsync(now, max, onUnreadable, cancellationToken);

    /// <summary>Marks a request acted on (it stays until purged, so a repeat of it is recognised).</summary>
    Task MarkDoneAsync(PendingCustomerRequest pending, CancellationToken cancellationToken);

    /// <summary>
    /// Records a failed attempt at the request: it is listed again from <paramref name="retryAt"/> on, or never again
    /// when that is null (given up; it stays until purged, so a repeat of it is recognised). Does nothing when the row
    /// changed since it was listed (another run acted on it).
    /// </summary>
    Task RecordFailureAsync(PendingCustomerRequest pending, Instant? retryAt, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the requests of the days before <paramref name="day"/> that were acted on or given up. A pending
    /// request is never removed: it waits for the background work, which acts on it or gives it up, never silently.
    /// </summary>
    Task<int> PurgeBeforeAsync(LocalDate day, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="PurgeBeforeAsync(LocalDate, CancellationToken)"/>, but quote requests acted on are kept from
    /// <paramref name="quotesFrom"/> on (the renewals desk's digest lists those of the last 14 days, SPEC section 11).
    /// </summary>
    Task<int> PurgeBeforeAsync(LocalDate day, LocalDate quotesFrom, CancellationToken cancellationToken) =>
        PurgeBeforeAsync(day < quotesFrom ? day : quotesFrom, cancellationToken);

    /// <summary>
    /// The quote requests acted on (mailed to the desk, or found to name no license) whose day lies in
    /// [<paramref name="from"/>, <paramref name="to"/>], read from the days' rows only: the renewals desk's digest
    /// (SPEC section 11). Their number is bounded by the daily limits of the quote route, not by the licenses stored.
    /// </summary>
    Task<IReadOnlyList<CustomerRequest>> ListQuoteRequestsAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This request queue keeps no quote requests for the digest.");
}

/// <summary>
/// A stored request that could not be read: its day and key as stored (what it asked, no secret) and the kind of
/// error (never the stored data).
/// </summary>
public sealed record UnreadableCustomerRequest(string Day, string Key, string Reason);

/// <summary>The requests waiting for the background work: how many (due or not), and the day of the oldest (null when none).</summary>
public sealed record PendingBacklog(int Pending, LocalDate? OldestDay);
