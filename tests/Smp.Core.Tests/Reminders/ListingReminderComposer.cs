using System.Collections.Concurrent;
using System.Globalization;
using Smp.Core.Mail;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Tests.Reminders;

/// <summary>Composes a plain reminder listing each serial and its expiry, and keeps every batch it was given.</summary>
public sealed class ListingReminderComposer : IReminderMailComposer
{
    private static readonly EmailAddress Sender = EmailAddress.Parse("smp@vendor.example.com");
    private readonly ConcurrentQueue<ReminderBatch> composed = new();

    public IReadOnlyList<ReminderBatch> Composed => [.. composed];

    public OutgoingMail Compose(ReminderBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        composed.Enqueue(batch);
        var lines = batch.Items.Select(i => string.Create(CultureInfo.InvariantCulture, $"{i.License.Serial}: expires {i.Reminder.ExpiresOn:d MMMM yyyy}"));
        var text = string.Join('\n', lines);

        // A fresh id on purpose: the scan must replace it by the batch's content-derived id.
        return new OutgoingMail(Guid.NewGuid().ToString("D"), Sender, batch.Recipients, null, $"Your SMP: {batch.Stage.Name} reminder", text, $"<pre>{text}</pre>");
    }
}
