using System.Collections.Concurrent;
using Smp.Core.Mail;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// The mail service, outside the process under test: it counts every hand-over per mail id (a second hand-over of
/// one id is a second delivery, which is what the outbox must prevent) and answers status queries truthfully.
/// It fails only a mail it was told to refuse (<see cref="RefuseOnce"/>), so that staff have a failed mail to
/// retry: the mail transport is not the subject of these tests, storage is.
/// </summary>
internal sealed class MailServiceDouble : IMailTransport
{
    private readonly ConcurrentDictionary<string, int> deliveries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> refusals = new(StringComparer.Ordinal);

    /// <summary>The next hand-over of <paramref name="mailId"/> is refused for good (a permanent failure; not a delivery).</summary>
    public void RefuseOnce(string mailId) => refusals[mailId] = true;

    /// <summary>How many times each mail id was handed over.</summary>
    public IReadOnlyDictionary<string, int> Deliveries => new SortedDictionary<string, int>(deliveries, StringComparer.Ordinal);

    public Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        if (refusals.TryRemove(mail.Id, out _))
        {
            return Task.FromResult<MailSendResult>(new MailSendResult.PermanentFailure("Recipient address rejected."));
        }

        deliveries.AddOrUpdate(mail.Id, 1, (_, n) => n + 1);
        return Task.FromResult<MailSendResult>(new MailSendResult.Accepted());
    }

    public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken) =>
        Task.FromResult<MailSendResult>(deliveries.ContainsKey(mailId) ? new MailSendResult.Delivered() : new MailSendResult.Unknown());
}
