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
    /// The clock that dates this host's configuration of <c>Smp:Reminders</c> (first seen, last seen) for the ownership
    /// of the reminder index (null: the system clock; wall-clock time, not the business clock); see
    /// <see cref="TableLicenseStore.EnsureReminderIndexAsync(CancellationToken)"/>.
    /// </summary>
    public NodaTime.IClock? Clock { get; init; }
}
