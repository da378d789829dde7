using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Smp.Core.Mail;
using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>One license's reminder that is due on a scan.</summary>
public sealed record DueReminder(License License, PlannedReminder Reminder);

/// <summary>
/// One reminder email (R10): licenses of one customer, of one stage, sharing the same recipients. Its id is
/// derived from its content, so a scan that runs again composes the same mail with the same id.
/// </summary>
public sealed record ReminderBatch(string CustomerId, ReminderStage Stage, ImmutableArray<EmailAddress> Recipients, ImmutableArray<DueReminder> Items)
{
    public string MailId => DeterministicId.From(
        "reminder",
        Stage.Name,
        string.Join(',', Items.Select(i => $"{i.License.Serial.Value}@{i.Reminder.ExpiresOn:yyyy-MM-dd}").Order(StringComparer.Ordinal)));
}

public static class ReminderBatches
{
    /// <summary>
    /// R10: groups due reminders by customer, stage and recipient set (whatever their products) (addresses compared
    /// case-insensitively, order ignored; see <see cref="RecipientGroups"/>). Groups larger than <paramref name="maxPerMail"/> are split in serial order, so one mail
    /// never lists more licenses than one outbox write can claim.
    /// </summary>
    public static ImmutableArray<ReminderBatch> Group(IEnumerable<DueReminder> due, int maxPerMail) =>
        [.. due.GroupBy(d => d.Reminder.Stage)
            .OrderBy(g => g.Key.DaysBefore)
            .SelectMany(stage => RecipientGroups.Group(stage, d => d.License, maxPerMail)
                .Select(g => new ReminderBatch(g.CustomerId, stage.Key, g.Recipients, g.Items)))
            .OrderBy(b => b.CustomerId, StringComparer.Ordinal)
            .ThenBy(b => b.Stage.DaysBefore)];
}

/// <summary>Stable, content-derived ids (formatted as GUIDs) for mail whose repeat must be recognised.</summary>
public static class DeterministicId
{
    public static string From(params string[] parts)
    {
        var text = string.Join('\u001f', parts);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return new Guid(hash.AsSpan(0, 16)).ToString("D");
    }
}
