using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Core.Reminders;

/// <summary>
/// R9 at send time: a reminder mail says "your plan expires on X". Just before it goes out, each license it lists is
/// read again; a license whose <c>expiresOn</c> is no longer X (a renewal or training moved it; or it is gone) is
/// dropped. None left: the mail is superseded and never sent. Some left: the mail is composed again for those only,
/// under the same id. Other kinds of mail, and reminders stored without their claims, go out as stored.
/// </summary>
public sealed class ReminderSendCheck(ILicenseStore store, IReminderMailComposer composer) : IMailSendCheck
{
    public async Task<SendDecision> CheckAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Kind != MailKinds.Reminder || message.Claims.Count == 0)
        {
            return new SendDecision.Unchanged();
        }

        var due = new List<(MailClaim Claim, DueReminder Item)>();
        var overtaken = new List<string>();
        foreach (var claim in message.Claims)
        {
            if (!claim.TryParseReminder(out var serial, out var expiresOn, out var stage))
            {
                return new SendDecision.Unchanged(); // Not a claim this check understands: leave the mail alone.
            }

            var license = (await store.GetAsync(serial, cancellationToken))?.License;
            if (license is null || license.ExpiresOn != expiresOn)
            {
                overtaken.Add(license is null
                    ? $"{serial.Value} (no longer stored)"
                    : $"{serial.Value} (now expires on {license.ExpiresOn:yyyy-MM-dd}, not {expiresOn:yyyy-MM-dd})");
                continue;
            }

            due.Add((claim, new DueReminder(license, new PlannedReminder(stage, expiresOn.PlusDays(-stage.DaysBefore), expiresOn))));
        }

        if (overtaken.Count == 0)
        {
            return new SendDecision.Unchanged();
        }

        var reason = $"Superseded before delivery: {string.Join("; ", overtaken)}.";
        if (due.Count == 0)
        {
            return new SendDecision.Superseded(reason);
        }

        var first = due[0].Item.License;
        var batch = new ReminderBatch(first.Customer.Id, due[0].Item.Reminder.Stage, message.Mail.To, [.. due.Select(d => d.Item)]);
        var mail = composer.Compose(batch) with { Id = message.Id };
        return new SendDecision.Narrowed(mail, [.. due.Select(d => d.Claim)], $"{reason} Sent for the others.");
    }
}
