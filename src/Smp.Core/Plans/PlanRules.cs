using System.Collections.Immutable;
using NodaTime;

namespace Smp.Core.Plans;

/// <summary>
/// The plan rules R2-R7 as pure functions of a license's facts. Nothing here reads a clock or a
/// time zone: callers pass business-zone dates.
/// </summary>
public static class PlanRules
{
    public const int TrialDays = 30;
    public const int DefaultRenewalMonths = 12;
    public const int MinRenewalMonths = 1;
    public const int MaxRenewalMonths = 60;

    /// <summary>R2: the plan starts on the first of the month after the activation email's local date.</summary>
    public static LocalDate StartFor(LocalDate activationEmailSentOn) => Dates.FirstOfNextMonth(activationEmailSentOn);

    /// <summary>
    /// Every term of the plan, oldest first, derived from the facts. The initial term (R2-R5) is
    /// followed by one term per renewal in the order the renewals were recorded (R6).
    /// </summary>
    public static ImmutableArray<Term> Terms(License license)
    {
        var builder = ImmutableArray.CreateBuilder<Term>(1 + license.Renewals.Length);
        var initial = InitialTerm(license);
        builder.Add(initial);

        var expiresOn = initial.End;
        foreach (var renewal in license.Renewals)
        {
            var term = RenewalTerm(expiresOn, renewal.RecordedOn, renewal.Months, renewal.OrderReference);
            builder.Add(term);
            expiresOn = term.End;
        }

        return builder.MoveToImmutable();
    }

    /// <summary>
    /// R6: the term a renewal of <paramref name="months"/> months recorded on <paramref name="recordedOn"/>
    /// adds to a plan that currently expires on <paramref name="expiresOn"/>. Also used to quote the next term (R11).
    /// </summary>
    /// <remarks>
    /// Recorded before expiry, the term starts at <paramref name="expiresOn"/> (no gap, no lost day) and ends exactly
    /// <paramref name="months"/> whole months later, also after a 30-day term (2027-03-03 + 12 months = 2028-03-03).
    /// Recorded on or after expiry, coverage resumes that day and the term starts on the first of the next month.
    /// </remarks>
    public static Term RenewalTerm(LocalDate expiresOn, LocalDate recordedOn, int months, string? orderReference)
    {
        if (months is < MinRenewalMonths or > MaxRenewalMonths)
        {
            throw new ArgumentOutOfRangeException(nameof(months), months, $"A renewal is {MinRenewalMonths}-{MaxRenewalMonths} months.");
        }

        if (recordedOn < expiresOn)
        {
            return new Term(TermKind.Renewal, expiresOn, expiresOn.PlusMonths(months), months, null, TermSource.Renewal, orderReference, expiresOn);
        }

        var start = Dates.FirstOfNextMonth(recordedOn);
        return new Term(TermKind.Renewal, start, start.PlusMonths(months), months, null, TermSource.Renewal, orderReference, recordedOn);
    }

    /// <summary>
    /// R7: current when <paramref name="date"/> lies in a covered span of any term; a license whose dongle was replaced
    /// is <see cref="PlanStatus.Replaced"/> (SPEC section 10: never current, its plan lives on under the new serial).
    /// </summary>
    public static PlanStatus StatusOn(License license, LocalDate date) =>
        license.IsReplaced ? PlanStatus.Replaced
        : license.Terms.Any(t => t.Covers(date)) ? PlanStatus.Current : PlanStatus.Lapsed;

    /// <summary>True when <paramref name="date"/> is covered by the plan (R4, R6, R7).</summary>
    public static bool IsCovered(License license, LocalDate date) => StatusOn(license, date) == PlanStatus.Current;

    /// <summary>
    /// The covered spans of the plan as half-open intervals [from, to), merged where they touch or overlap,
    /// oldest first.
    /// </summary>
    public static ImmutableArray<DateInterval> CoveredSpans(License license)
    {
        var spans = ImmutableArray.CreateBuilder<DateInterval>();
        LocalDate? from = null;
        LocalDate to = default;
        foreach (var term in license.Terms.OrderBy(t => t.CoveredFrom))
        {
            if (from is null)
            {
                (from, to) = (term.CoveredFrom, term.End);
            }
            else if (term.CoveredFrom <= to)
            {
                to = LocalDate.Max(to, term.End);
            }
            else
            {
                spans.Add(new DateInterval(from.Value, to.PlusDays(-1)));
                (from, to) = (term.CoveredFrom, term.End);
            }
        }

        if (from is not null)
        {
            spans.Add(new DateInterval(from.Value, to.PlusDays(-1)));
        }

        return spans.ToImmutable();
    }

    /// <summary>
    /// SPEC section 9: the term of an imported plan, counted in whole months when its dates are whole months apart,
    /// else in days. Training recorded later does not change it (R5 is about the 30-day initial term).
    /// </summary>
    public static Term ImportedTerm(ImportedPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var months = Period.Between(plan.Start, plan.ExpiresOn, PeriodUnits.Months).Months;
        return plan.Start.PlusMonths(months) == plan.ExpiresOn
            ? new Term(TermKind.Imported, plan.Start, plan.ExpiresOn, months, null, TermSource.Import, null, plan.CoveredFrom)
            : new Term(TermKind.Imported, plan.Start, plan.ExpiresOn, null, Period.Between(plan.Start, plan.ExpiresOn, PeriodUnits.Days).Days, TermSource.Import, null, plan.CoveredFrom);
    }

    private static Term InitialTerm(License license)
    {
        if (license.Imported is { } imported)
        {
            return ImportedTerm(imported);
        }

        var activation = license.Activation;
        var start = StartFor(activation.EmailSentOn);
        var coveredFrom = activation.EmailSentOn; // R4: covered from the activation date itself.
        if (license.OnSiteTraining)
        {
            // R3 (bought with the license) or R5 (bought later: one year from the same start, even after a lapse).
            var source = activation.OnSiteTraining ? TermSource.Activation : TermSource.Training;
            return new Term(TermKind.Initial, start, start.PlusYears(1), 12, null, source, null, coveredFrom);
        }

        return new Term(TermKind.Initial, start, start.PlusDays(TrialDays), null, TrialDays, TermSource.Activation, null, coveredFrom);
    }
}
