using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Reminders;

namespace Smp.Core.Plans;

public sealed record Customer(string Id, string Name);

/// <summary>The activation as the vendor's mail flow reported it; kept verbatim to recognise repeats.</summary>
public sealed record Activation(
    string Product,
    Customer Customer,
    ImmutableArray<EmailAddress> Contacts,
    bool OnSiteTraining,
    Instant EmailSentAt,
    LocalDate EmailSentOn)
{
    /// <summary>True when <paramref name="other"/> asks for exactly this activation (contacts compared as a set).</summary>
    public bool SameRequestAs(Activation other) =>
        string.Equals(Product, other.Product, StringComparison.Ordinal)
        && Customer == other.Customer
        && OnSiteTraining == other.OnSiteTraining
        && EmailSentAt == other.EmailSentAt
        && Contacts.ToHashSet().SetEquals(other.Contacts);
}

/// <summary>A prepaid renewal as recorded: the facts, not the term they produce.</summary>
public sealed record Renewal(string OrderReference, int Months, Instant RecordedAt, LocalDate RecordedOn, Instant? PaidAt);

/// <summary>
/// The state of one license's plan: the facts recorded about it. Terms, expiry and status are
/// derived from these facts by <see cref="PlanRules"/>, so that they can never disagree.
/// </summary>
public sealed record License(
    Serial Serial,
    Activation Activation,
    ImmutableArray<EmailAddress> Contacts,
    LocalDate? TrainingRecordedOn,
    ImmutableArray<Renewal> Renewals)
{
    public string Product => Activation.Product;

    public Customer Customer => Activation.Customer;

    /// <summary>True when on-site training was bought, with the license or later (R3, R5).</summary>
    public bool OnSiteTraining => Activation.OnSiteTraining || TrainingRecordedOn is not null;

    /// <summary>Reminders sent or given up (R9): each (expiresOn, stage) at most once, ever.</summary>
    public ImmutableArray<ReminderRecord> Reminders { get; init; } = [];

    /// <summary>On a license made by a dongle replacement (SPEC section 10): the serial of the dongle it replaced.</summary>
    public Serial? ReplacementOf { get; init; }

    /// <summary>
    /// On a license whose dongle was replaced (SPEC section 10): the new serial. While <see cref="Replacement.Completed"/>
    /// is false this is the write-ahead intent of a replacement under way; once true, the license is
    /// <see cref="PlanStatus.Replaced"/>.
    /// </summary>
    public Replacement? Replacement { get; init; }

    /// <summary>True once the plan has moved to <see cref="Replacement"/>'s serial: never current again.</summary>
    public bool IsReplaced => Replacement is { Completed: true };

    /// <summary>
    /// The plan as a CSV import brought it in (SPEC section 9), or null for a license activated here. When set, it,
    /// not the activation, gives the first term; <see cref="Activation"/> then holds the row's product, customer,
    /// contacts and training, sent on the first covered day.
    /// </summary>
    public ImportedPlan? Imported { get; init; }

    public ImmutableArray<Term> Terms => PlanRules.Terms(this);

    public LocalDate ExpiresOn => Terms[^1].End;

    public PlanStatus StatusOn(LocalDate date) => PlanRules.StatusOn(this, date);
}

/// <summary>
/// The dates of an imported plan (SPEC section 9): its term runs from <see cref="Start"/> to <see cref="ExpiresOn"/> and
/// is covered from <see cref="ActivationEmailSentOn"/> when the row gave it (R4), else from <see cref="Start"/>.
/// </summary>
public sealed record ImportedPlan(LocalDate? ActivationEmailSentOn, LocalDate Start, LocalDate ExpiresOn)
{
    public LocalDate CoveredFrom => ActivationEmailSentOn ?? Start;

    /// <summary>The start of an imported term: <c>planStart</c>, else the R2 start of <c>activationEmailSentOn</c>, else <c>expiresOn</c> minus 12 months.</summary>
    public static LocalDate StartFor(LocalDate? planStart, LocalDate? activationEmailSentOn, LocalDate expiresOn) =>
        planStart ?? (activationEmailSentOn is { } sentOn ? PlanRules.StartFor(sentOn) : expiresOn.PlusMonths(-12));
}

public enum PlanStatus
{
    Current,
    Lapsed,

    /// <summary>The dongle was replaced: the plan lives on under the new serial (SPEC section 10).</summary>
    Replaced,
}

/// <summary>
/// A dongle replacement as recorded on the old license: the new serial, why, and who asked when. The intent is
/// written first (<see cref="Completed"/> false) so that any reader, a repeated request or the next scan can finish it.
/// </summary>
public sealed record Replacement(Serial NewSerial, string? Reason, Instant RequestedAt, string Actor, string CorrelationId, bool Completed, string? ActorId = null)
{
    /// <summary>Who asked for the replacement (R15): every event of it records them, whichever run finishes it.</summary>
    public CommandContext Context => new(Actor, CorrelationId, ActorId);
}
