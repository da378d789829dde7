using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Azure.Tables;

/// <summary>Names of the tables <see cref="TableLicenseStore"/> uses.</summary>
public sealed class TableLicenseStoreOptions
{
    /// <summary>Licenses and their events: one partition per license.</summary>
    public string LicensesTable { get; init; } = "licenses";

    /// <summary>Secondary indexes of the licenses (by customer, by expiry date, reminders by due date).</summary>
    public string IndexTable { get; init; } = "licenseindex";

    /// <summary>The reminder stages whose pending reminders are indexed by due date.</summary>
    public ReminderSchedule Reminders { get; init; } = ReminderSchedule.Default;

    /// <summary>Licenses read per page (and progress recorded per page) when the reminder index is rebuilt for new offsets.</summary>
    public int ReminderRebuildPageSize { get; init; } = 100;

    /// <summary>
    /// When this host's configuration took effect (null: when the store is created, at host start; a change of app
    /// settings restarts the host). Of two configurations of <c>Smp:Reminders</c> over the same tables, the newer one
    /// takes the reminder index over; see <see cref="TableLicenseStore.EnsureReminderIndexAsync(CancellationToken)"/>.
    /// </summary>
    public NodaTime.Instant? ConfiguredAt { get; init; }
}
