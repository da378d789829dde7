using NodaTime;

namespace Smp.Core.Plans;

public enum TermKind
{
    Initial,
    Renewal,

    /// <summary>The term a plan brought in by the CSV import had when it was imported (SPEC section 9).</summary>
    Imported,
}

/// <summary>What created a term.</summary>
public enum TermSource
{
    /// <summary>The activation email (30 days, or one year when training was bought with the license).</summary>
    Activation,

    /// <summary>On-site training recorded after activation turned the initial term into one year (R5).</summary>
    Training,

    /// <summary>A prepaid renewal (R6).</summary>
    Renewal,

    /// <summary>A row of a CSV import (SPEC section 9): the plan as the vendor tracked it before this system.</summary>
    Import,
}

/// <summary>
/// One term of a plan. <see cref="End"/> is the first day no longer covered by this term.
/// <see cref="CoveredFrom"/> is the first covered day: before <see cref="Start"/> when the rounding
/// to the next month is in the customer's favour (R4, R6 after a lapse).
/// Exactly one of <see cref="Months"/> and <see cref="Days"/> is set.
/// </summary>
public sealed record Term(
    TermKind Kind,
    LocalDate Start,
    LocalDate End,
    int? Months,
    int? Days,
    TermSource Source,
    string? OrderReference,
    LocalDate CoveredFrom)
{
    /// <summary>True when the term is at least twelve months long (the 90-day reminder applies, R8).</summary>
    /// An imported term counts by its dates: twelve months or more from its start to its end.
    public bool IsYearOrLonger => Months is >= 12 || (Kind == TermKind.Imported && Start.PlusMonths(12) <= End);

    public bool Covers(LocalDate date) => date >= CoveredFrom && date < End;
}
