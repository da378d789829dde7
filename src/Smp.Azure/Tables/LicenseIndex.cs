using NodaTime;
using NodaTime.Text;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Azure.Tables;

/// <summary>The key of one secondary-index row in the index table.</summary>
internal readonly record struct IndexKey(string PartitionKey, string RowKey);

/// <summary>
/// The secondary indexes of a license: which index rows its current state needs. The write path keeps
/// the index table in step with this one function (rows of the new state are added before the license is
/// written, rows of the old state that no longer apply are removed after), and readers keep an index
/// row only while it is among the keys of the license's current state. A new index (reminders due, for
/// instance) is a new kind of key here, without any change to the write or read path.
/// </summary>
internal static class LicenseIndex
{
    /// <summary>Partition of the expiry index: one range scan answers any [from, to] query.</summary>
    public const string ExpiresPartition = "expires";

    private const string CustomerPartitionPrefix = "customer|";
    private const char Separator = '|';

    private static readonly LocalDatePattern IsoDate = LocalDatePattern.Iso;

    /// <summary>Partition of the reminder index: one row per pending reminder, by due date (R9).</summary>
    public const string RemindersPartition = "reminders";

    public static IReadOnlySet<IndexKey> KeysFor(License license, ReminderSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(license);
        ArgumentNullException.ThrowIfNull(schedule);
        var keys = new HashSet<IndexKey>
        {
            CustomerKey(license.Customer.Id, license.Serial),
            ExpiresKey(license.ExpiresOn, license.Serial),
        };
        foreach (var reminder in schedule.Pending(license))
        {
            keys.Add(ReminderKey(reminder, license.Serial));
        }

        keys.UnionWith(LicenseSearchKeys.KeysFor(license));
        return keys;
    }

    /// <summary>
    /// Row keys <c>dueOn|SERIAL|expiresOn|days</c> sort by due date, so the reminders due on or before a date are
    /// one row-key range. A row disappears when its reminder is recorded, superseded or moved by a renewal, so
    /// the scan reads the reminders still to send, not the licenses stored.
    /// </summary>
    public static IndexKey ReminderKey(PlannedReminder reminder, Serial serial) =>
        new(RemindersPartition, string.Join(
            Separator,
            IsoDate.Format(reminder.DueOn),
            TableKey.Encode(serial.Value),
            IsoDate.Format(reminder.ExpiresOn),
            reminder.Stage.DaysBefore.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Exclusive upper bound of the reminder rows due on or before <paramref name="date"/>.</summary>
    public static string RemindersUpperBound(LocalDate date) => IsoDate.Format(date) + '}';

    /// <summary>All licenses of a customer share one partition: listing them reads that partition only.</summary>
    public static string CustomerPartition(string customerId) => CustomerPartitionPrefix + TableKey.Encode(customerId);

    public static IndexKey CustomerKey(string customerId, Serial serial) =>
        new(CustomerPartition(customerId), TableKey.Encode(serial.Value));

    /// <summary>
    /// Row keys <c>yyyy-MM-dd|SERIAL</c> sort by date, so the rows of [from, to] are the row-key range
    /// [<see cref="ExpiresLowerBound"/>(from), <see cref="ExpiresUpperBound"/>(to)).
    /// </summary>
    public static IndexKey ExpiresKey(LocalDate expiresOn, Serial serial) =>
        new(ExpiresPartition, IsoDate.Format(expiresOn) + Separator + TableKey.Encode(serial.Value));

    /// <summary>The place in the expiry order of an expiry row of <paramref name="serial"/>; null for any other row.</summary>
    public static ExpiryPosition? TryReadExpiresKey(string partitionKey, string rowKey, Serial serial) =>
        partitionKey == ExpiresPartition && rowKey.IndexOf(Separator, StringComparison.Ordinal) is > 0 and var end
            && IsoDate.Parse(rowKey[..end]) is { Success: true } date
            ? new ExpiryPosition(date.Value, serial)
            : null;

    /// <summary>Inclusive lower bound of the expiry rows dated on or after <paramref name="from"/>.</summary>
    public static string ExpiresLowerBound(LocalDate from) => IsoDate.Format(from) + Separator;

    /// <summary>Exclusive upper bound of the expiry rows dated on or before <paramref name="to"/> ('}' sorts just after '|').</summary>
    public static string ExpiresUpperBound(LocalDate to) => IsoDate.Format(to) + '}';
}
