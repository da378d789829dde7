using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>
/// Composes the reminder email of a batch (R10): From the sender, to the licenses' registered contacts, Reply-To
/// the renewals desk (the mail invites a reply to ask for a quotation), with a link to request a quotation.
/// </summary>
public sealed class ReminderMailComposer(MailSettings settings, ReminderSchedule schedule) : IReminderMailComposer
{
    public OutgoingMail Compose(ReminderBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var first = batch.Items[0].License;
        var content = ReminderMail.Render(new ReminderMailModel(
            MailProducts.Name(batch.Items.Select(i => i.License.Product)),
            first.Customer.Name,
            batch.Stage == schedule.Stages[^1] ? ReminderWording.Final : ReminderWording.Early,
            [.. batch.Items.Select(i => new PlanExpiry(i.License.Serial, i.Reminder.ExpiresOn, i.License.Product))],
            CustomerLinks.QuoteRequestPage(settings.PublicBaseUrl, first.Serial, allOfCustomer: batch.Items.Length > 1),
            settings.RenewalsDesk));
        return new OutgoingMail(batch.MailId, settings.Sender, batch.Recipients, settings.RenewalsDesk, content.Subject, content.PlainText, content.Html);
    }
}
