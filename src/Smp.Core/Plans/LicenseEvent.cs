using System.Collections.Immutable;
using NodaTime;

namespace Smp.Core.Plans;

/// <summary>
/// An append-only audit record on a license (R15). <see cref="Data"/> holds the facts of the change;
/// never a password, key or other secret. <see cref="ActorId"/> is the signed-in person's directory object id when a
/// person caused the event (absent for function keys, timers and customers, and on events recorded before it existed).
/// </summary>
public sealed record LicenseEvent(
    string Type,
    Instant At,
    string Actor,
    string CorrelationId,
    ImmutableSortedDictionary<string, string> Data,
    string? ActorId = null);

public static class LicenseEventTypes
{
    public const string Activated = "activated";

    /// <summary>The license came in through a CSV import (SPEC section 9); always its first event.</summary>
    public const string Imported = "imported";
    public const string TrainingRecorded = "trainingRecorded";
    public const string Renewed = "renewed";
    public const string ContactsChanged = "contactsChanged";
    public const string ReminderSent = "reminderSent";
    public const string ReminderMissed = "reminderMissed";

    /// <summary>A reminder recorded as sent (queued) was left out of its mail before delivery (R9); the mail id and the reason say which and why.</summary>
    public const string ReminderWithdrawn = "reminderWithdrawn";
    public const string QuoteRequested = "quoteRequested";
    public const string TermRequested = "termRequested";
    public const string UpdateAnnounced = "updateAnnounced";
    public const string PasswordReleased = "passwordReleased";
    public const string PasswordLinkRequested = "passwordLinkRequested";

    /// <summary>SPEC section 10, on the old license: a replacement onto another serial was begun (the write-ahead intent).</summary>
    public const string ReplacementStarted = "replacementStarted";

    /// <summary>SPEC section 10, on the old license: the plan moved to the new serial; the old one is replaced.</summary>
    public const string ReplacedBy = "replacedBy";

    /// <summary>SPEC section 10, on the old license: a begun replacement could not finish (the new serial was taken meanwhile) and was undone.</summary>
    public const string ReplacementAbandoned = "replacementAbandoned";

    /// <summary>SPEC section 10, the first event of the new license: the serial whose plan it carries on.</summary>
    public const string ReplacementOf = "replacementOf";
}

/// <summary>
/// Who asked for a change, and the request it belongs to (R15). <see cref="ActorId"/> is a signed-in person's directory
/// object id (SPEC section 7); null for a function key, a timer or a customer.
/// </summary>
public sealed record CommandContext(string Actor, string CorrelationId, string? ActorId = null);
