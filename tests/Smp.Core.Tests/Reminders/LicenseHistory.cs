using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Tests.Reminders;

/// <summary>A renewal as the desk records it: on a business date, for a number of months.</summary>
public readonly record struct RenewalFact(LocalDate RecordedOn, int Months);

/// <summary>
/// What is recorded about one license over time: the activation (with or without training) and its renewals,
/// in the order and on the dates they were recorded. <see cref="States"/>[k] is the license after k renewals.
/// </summary>
public sealed class LicenseHistory
{
    public LicenseHistory(LocalDate activatedOn, bool training, IEnumerable<RenewalFact> renewals)
    {
        ActivatedOn = activatedOn;
        Training = training;
        Renewals = [.. renewals];
        var states = ImmutableArray.CreateBuilder<License>(Renewals.Length + 1);
        states.Add(LicenseFactory.Activated(activatedOn, training));
        foreach (var renewal in Renewals)
        {
            states.Add(states[^1].RenewedOn(renewal.RecordedOn, renewal.Months));
        }

        States = states.MoveToImmutable();
    }

    public LocalDate ActivatedOn { get; }

    public bool Training { get; }

    public ImmutableArray<RenewalFact> Renewals { get; }

    public ImmutableArray<License> States { get; }

    public License Final => States[^1];

    /// <summary>The license as it stands at the end of <paramref name="date"/>: every renewal recorded on or before it applied.</summary>
    public License KnownOn(LocalDate date) => States[Renewals.Count(r => r.RecordedOn <= date)];

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"activated {ActivatedOn:yyyy-MM-dd}, training {Training}, renewals [{string.Join(", ", Renewals.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.RecordedOn:yyyy-MM-dd}+{r.Months}m")))}] -> expires {Final.ExpiresOn:yyyy-MM-dd}");
}

/// <summary>A reminder configuration under test (<c>Smp:Reminders</c>).</summary>
public sealed class ReminderOffsets(params int[] offsets)
{
    public ImmutableArray<int> Values { get; } = [.. offsets];

    public ReminderSchedule Schedule { get; } = new(offsets);

    public override string ToString() => $"offsets [{string.Join(", ", Values)}]";
}

/// <summary>FsCheck generators for license histories and reminder configurations.</summary>
public static class ReminderArbitraries
{
    private static readonly LocalDate FirstActivation = new(2024, 1, 1);
    private static readonly LocalDate LastActivation = new(2030, 12, 31);

    /// <summary>
    /// Activations from 2024 to 2030, with or without training, and 0-3 renewals recorded after the activation
    /// on non-decreasing dates: some before expiry, some after a lapse, sometimes two on one day.
    /// </summary>
    public static Arbitrary<LicenseHistory> Histories()
    {
        var months = Gen.Frequency(
            (3, Gen.Constant(12)),
            (2, Gen.Elements(1, 6, 11, 13, 24)),
            (1, Gen.Choose(1, 60)));
        var laterGap = Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, 800)));
        var renewals =
            from count in Gen.Choose(0, 3)
            from firstGap in Gen.Choose(1, 800)
            from laterGaps in laterGap.ArrayOf(Math.Max(0, count - 1))
            from lengths in months.ArrayOf(count)
            select (count, gaps: laterGaps.Prepend(firstGap).ToArray(), lengths);
        var histories =
            from activationDay in Gen.Choose(0, Period.DaysBetween(FirstActivation, LastActivation))
            from training in Gen.Elements(true, false)
            from planned in renewals
            select Build(FirstActivation.PlusDays(activationDay), training, planned.count, planned.gaps, planned.lengths);
        return Arb.From(histories, Shrink);
    }

    /// <summary>The default offsets most of the time, otherwise one to four offsets of 1-366 days.</summary>
    public static Arbitrary<ReminderOffsets> Offsets()
    {
        var custom =
            from count in Gen.Choose(1, 4)
            from offsets in Gen.Choose(1, 366).ArrayOf(count)
            select new ReminderOffsets(offsets);
        return Arb.From(Gen.Frequency((3, Gen.Constant(new ReminderOffsets([.. ReminderSchedule.DefaultOffsets]))), (1, custom)));
    }

    private static LicenseHistory Build(LocalDate activatedOn, bool training, int count, int[] gaps, int[] months)
    {
        var renewals = new List<RenewalFact>();
        var on = activatedOn;
        for (var i = 0; i < count; i++)
        {
            on = on.PlusDays(gaps[i]);
            renewals.Add(new RenewalFact(on, months[i]));
        }

        return new LicenseHistory(activatedOn, training, renewals);
    }

    private static IEnumerable<LicenseHistory> Shrink(LicenseHistory history)
    {
        if (history.Renewals.Length > 0)
        {
            yield return new LicenseHistory(history.ActivatedOn, history.Training, history.Renewals.RemoveAt(history.Renewals.Length - 1));
        }

        if (history.Training)
        {
            yield return new LicenseHistory(history.ActivatedOn, false, history.Renewals);
        }
    }
}
