using System.Collections.Concurrent;
using Smp.Core.Mail;

namespace Smp.Core.Tests.Outbox;

/// <summary>
/// A transport whose answers the test decides. It counts every call per mail id and, like a real provider,
/// remembers the messages it accepted, so a status query about one of them answers <see cref="MailSendResult.Accepted"/>.
/// </summary>
public sealed class ScriptedMailTransport : IMailTransport
{
    private readonly ConcurrentDictionary<string, int> sends = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> statusQueries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> accepted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MailSendResult> statuses = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> sendOrder = new();

    /// <summary>
    /// The answer to the n-th send (1-based) of a mail; it may throw, as an HTTP client does. Accepts everything
    /// unless the test says otherwise.
    /// </summary>
    public Func<OutgoingMail, int, MailSendResult> OnSend { get; set; } = (_, _) => new MailSendResult.Accepted();

    public int TotalSends => sends.Values.Sum();

    public IReadOnlyList<string> SendOrder => [.. sendOrder];

    public int SendsOf(string id) => sends.GetValueOrDefault(id);

    public int StatusQueriesOf(string id) => statusQueries.GetValueOrDefault(id);

    /// <summary>What a status query about <paramref name="id"/> answers, whatever was sent.</summary>
    public void SetStatus(string id, MailSendResult status) => statuses[id] = status;

    public async Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        await Task.Yield();
        var call = sends.AddOrUpdate(mail.Id, 1, (_, n) => n + 1);
        sendOrder.Enqueue(mail.Id);
        var result = OnSend(mail, call);
        if (result is MailSendResult.Accepted or MailSendResult.Delivered)
        {
            accepted.TryAdd(mail.Id, 0);
        }

        return result;
    }

    public async Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        statusQueries.AddOrUpdate(mailId, 1, (_, n) => n + 1);
        if (statuses.TryGetValue(mailId, out var status))
        {
            return status;
        }

        return accepted.ContainsKey(mailId) ? new MailSendResult.Accepted() : new MailSendResult.Unknown();
    }
}
