using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Benchmarks.Scan;

/// <summary>
/// The licenses the scan benchmark stores. The scan runs on <see cref="Today"/>. Exactly
/// <see cref="DueCount"/> licenses have a reminder due that day (one-year plans expiring
/// <see cref="Today"/> + 90 days: their 90-day reminder is due, their 30-day one is not yet); every other
/// license has no reminder due: either its reminders are all in the future, or its plan expired and its
/// reminders were sent long ago, as a scan that ran every day would have left them.
/// </summary>
internal static class ScanData
{
    public const int DueCount = 100;

    /// <summary>Due licenses per customer; they share their contacts, so R10 puts each customer's in one mail.</summary>
    public const int DueLicensesPerCustomer = 4;

    public static readonly DateTimeZone Zone = DateTimeZoneProviders.Tzdb["America/Denver"];

    /// <summary>The scan's business date: the 90-day reminder date of plans that start on 2026-06-01.</summary>
    public static readonly LocalDate Today = new(2027, 3, 3);

    /// <summary>08:00 in Denver on <see cref="Today"/>.</summary>
    public static readonly Instant Now = Instant.FromUtc(2027, 3, 3, 15, 0);

    private static readonly CommandContext Seeder = new("benchmark-seed", "benchmark-seed");

    public static int ExpectedMails => (DueCount + DueLicensesPerCustomer - 1) / DueLicensesPerCustomer;

    public static Serial DueSerial(int k) => Serial.Parse($"D{k:D4}");

    /// <summary>
    /// Due license <paramref name="k"/>: one-year plan activated in May 2026, so it starts 2026-06-01, expires
    /// 2027-06-01 and its 90-day reminder is due on <see cref="Today"/>.
    /// </summary>
    public static (License License, LicenseEvent Event) Due(int k) =>
        Activate(
            DueSerial(k),
            $"DC{k / DueLicensesPerCustomer:D4}",
            new LocalDate(2026, 5, 1).PlusDays(k % 31),
            onSiteTraining: true);

    /// <summary>
    /// Stored license <paramref name="i"/> without a reminder due on <see cref="Today"/>, three per customer:
    /// 45% one-year plans activated June 2026 to February 2027 (first reminder due 2027-04-02 or later),
    /// 15% 30-day plans activated 1-3 March 2027 (reminder due 2027-04-01), 40% one-year plans activated in
    /// 2024-2025 that have expired, their reminders sent.
    /// </summary>
    public static (License License, LicenseEvent Event) Bulk(int i, ReminderSchedule schedule)
    {
        var serial = Serial.Parse($"B{i:D7}");
        var customer = $"C{i / 3:D7}";
        var kind = i % 20;
        if (kind < 9)
        {
            return Activate(serial, customer, new LocalDate(2026, 6, 1).PlusDays((i * 7) % 273), onSiteTraining: true);
        }

        if (kind < 12)
        {
            return Activate(serial, customer, new LocalDate(2027, 3, 1).PlusDays(i % 3), onSiteTraining: false);
        }

        var (license, activated) = Activate(serial, customer, new LocalDate(2024, 1, 1).PlusDays((i * 11) % 730), onSiteTraining: true);
        var sent = schedule.Planned(license)
            .Select(p => new ReminderRecord(p.Stage, p.ExpiresOn, ReminderOutcome.Sent, At(p.DueOn), Guid.NewGuid().ToString("D")))
            .ToImmutableArray();
        return (license with { Reminders = sent }, activated);
    }

    private static (License License, LicenseEvent Event) Activate(Serial serial, string customerId, LocalDate sentOn, bool onSiteTraining)
    {
        var request = new ActivationRequest(
            serial,
            null,
            new Customer(customerId, $"Customer {customerId}"),
            [EmailAddress.Parse($"buyer@{customerId.ToLowerInvariant()}.example.com"), EmailAddress.Parse($"it@{customerId.ToLowerInvariant()}.example.com")],
            onSiteTraining,
            At(sentOn));
        var decision = PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, sentOn, At(sentOn), Seeder);
        return decision is Decision.Change change
            ? (change.License, change.Event)
            : throw new InvalidOperationException($"Activation of {serial} was not a change: {decision}.");
    }

    /// <summary>07:00 in Denver on <paramref name="date"/>.</summary>
    private static Instant At(LocalDate date) => date.At(new LocalTime(7, 0)).InZoneLeniently(Zone).ToInstant();
}
