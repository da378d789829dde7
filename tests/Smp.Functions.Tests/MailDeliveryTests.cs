using System.Collections.Immutable;
using MimeKit;
using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// The mail timer (SPEC section 4) with the pickup-folder transport: outbox messages become <c>.eml</c> files,
/// once each, at the configured pace.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MailDeliveryTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task DispatchMail_delivers_each_pending_message_as_one_multipart_eml_and_marks_it_sent()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 3, 20));
        await ActivateAsync(api, "VT-1001", new LocalDate(2026, 4, 1), "C-1", ["buyer@example.com", "cad@example.com"]);
        await ActivateAsync(api, "VT-2001", new LocalDate(2026, 4, 1), "C-2", ["owner@example.org"]);
        api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(api);
        var pending = await UndeliveredAsync(api);
        Assert.Equal(2, pending.Count);

        api.Clock.Reset(InDenver(2027, 1, 1, 9));
        await DispatchAsync(api);

        Assert.Equal(pending.Select(m => m.Id + ".eml").Order(StringComparer.Ordinal), PickedUpFiles(api).Select(Path.GetFileName));
        Assert.Empty(await UndeliveredAsync(api));
        foreach (var message in pending)
        {
            var stored = await MessageAsync(api, message.Id);
            Assert.Equal(MailStatus.Sent, stored.Status);
            Assert.Equal(InDenver(2027, 1, 1, 9), stored.SentAt);
            Assert.Equal(1, stored.Attempts);

            var eml = PickedUp(api, message.Id);
            Assert.Equal(message.Mail.Subject, eml.Subject);
            Assert.Equal([Sender.ToLowerInvariant()], Addresses(eml.From));
            Assert.Equal(Addresses(message.Mail.To), Addresses(eml.To));
            Assert.Equal([RenewalsDesk], Addresses(eml.ReplyTo));
            Assert.Empty(eml.Cc);
            Assert.Empty(eml.Bcc);
            Assert.StartsWith(message.Id + "@", eml.MessageId, StringComparison.Ordinal);
            var body = Assert.IsType<MultipartAlternative>(eml.Body);
            Assert.Equal(["text/plain", "text/html"], body.Select(p => p.ContentType.MimeType));
            Assert.Equal(Normalize(message.Mail.PlainText), Normalize(eml.TextBody));
            Assert.Equal(Normalize(message.Mail.Html), Normalize(eml.HtmlBody));
            Assert.Contains("1 April 2027", eml.TextBody, StringComparison.Ordinal);
        }

        Assert.Contains("VT-1001", PickedUp(api, pending.Single(m => m.Mail.To.Length == 2).Id).TextBody, StringComparison.Ordinal);
        Assert.Contains("VT-2001", PickedUp(api, pending.Single(m => m.Mail.To.Length == 1).Id).TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DispatchMail_run_again_writes_no_second_file_and_leaves_the_messages_sent()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1));
        var ids = await EnqueueAsync(api, 3);
        await DispatchAsync(api);
        var written = PickedUpFiles(api).ToDictionary(f => f, File.ReadAllBytes);

        api.Clock.Advance(Duration.FromMinutes(1));
        await DispatchAsync(api);
        api.Clock.Advance(Duration.FromHours(2));
        await DispatchAsync(api);

        var files = PickedUpFiles(api);
        Assert.Equal(written.Keys.Order(StringComparer.Ordinal), files);
        Assert.All(files, f => Assert.Equal(written[f], File.ReadAllBytes(f)));
        foreach (var id in ids)
        {
            var message = await MessageAsync(api, id);
            Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts));
        }
    }

    [Fact]
    public async Task DispatchMail_hands_over_at_most_MaxPerMinute_messages_per_run_oldest_first()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1), new Dictionary<string, string?> { ["Smp:Email:MaxPerMinute"] = "2" });
        var ids = await EnqueueAsync(api, 5);

        var delivered = new List<int>();
        for (var run = 0; run < 4; run++)
        {
            api.Clock.Advance(Duration.FromMinutes(1));
            await DispatchAsync(api);
            delivered.Add(PickedUpFiles(api).Count);
        }

        Assert.Equal([2, 4, 5, 5], delivered);
        Assert.Equal(ids.Select(id => id + ".eml").Order(StringComparer.Ordinal), PickedUpFiles(api).Select(Path.GetFileName));
        Assert.Empty(await UndeliveredAsync(api));
    }

    [Fact]
    public async Task DispatchMail_with_a_cap_of_2_delivers_the_2_oldest_of_5_pending_messages_in_one_run()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1), new Dictionary<string, string?> { ["Smp:Email:MaxPerMinute"] = "2" });
        var ids = await EnqueueAsync(api, 5);

        await DispatchAsync(api);

        Assert.Equal(ids.Take(2).Select(id => id + ".eml").Order(StringComparer.Ordinal), PickedUpFiles(api).Select(Path.GetFileName));
        Assert.Equal(ids.Skip(2).Order(StringComparer.Ordinal), (await UndeliveredAsync(api)).Select(m => m.Id).Order(StringComparer.Ordinal));
        Assert.All((await UndeliveredAsync(api)).Select(m => m.Status), s => Assert.Equal(MailStatus.Pending, s));
    }

    [Fact]
    public async Task Concurrent_dispatchers_in_two_hosts_hand_each_message_to_the_transport_once()
    {
        var shared = new Dictionary<string, string?>
        {
            ["Smp:TablePrefix"] = ApiHarness.UniqueTablePrefix(),
            ["Smp:Email:PickupDirectory"] = Path.Combine(Path.GetTempPath(), "smp-test-pickup-" + Guid.NewGuid().ToString("N")),
        };
        var transport = new ObservedTransport();
        using var first = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1), shared, s => s.Decorate<IMailTransport>((t, _) => transport.Around(t)));
        using var second = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1, 9), shared, s => s.Decorate<IMailTransport>((t, _) => transport.Around(t)));
        try
        {
            var ids = await EnqueueAsync(first, 12);

            await Task.WhenAll(
                Task.Run(() => DispatchAsync(first)),
                Task.Run(() => DispatchAsync(second)),
                Task.Run(() => DispatchAsync(first)),
                Task.Run(() => DispatchAsync(second)));

            // Term mail is customer-request mail: each run lists and sends only its share, so runs that overlap may
            // leave some of it for the next run. One more run in each host takes what is left.
            await DispatchAsync(first);
            await DispatchAsync(second);

            Assert.Equal(ids.Order(StringComparer.Ordinal), transport.Sent.Order(StringComparer.Ordinal));
            Assert.Equal(ids.Count, Directory.GetFiles(shared["Smp:Email:PickupDirectory"]!).Length);
            foreach (var id in ids)
            {
                Assert.Equal((MailStatus.Sent, 1), ((await MessageAsync(second, id)).Status, (await MessageAsync(second, id)).Attempts));
            }
        }
        finally
        {
            Directory.Delete(shared["Smp:Email:PickupDirectory"]!, recursive: true);
        }
    }

    [Fact]
    public async Task A_dispatcher_that_dies_after_handing_a_message_over_is_reconciled_from_the_pickup_folder_not_sent_again()
    {
        var transport = new ObservedTransport();
        var outbox = new CrashingOutbox();
        using var api = OneMessageApi(transport, outbox);
        var id = Assert.Single(await EnqueueAsync(api, 1));

        outbox.CrashOnOutcome = true;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => DispatchAsync(api));
        Assert.Equal(MailStatus.Sending, (await MessageAsync(api, id)).Status);

        // Within its lease nobody touches the message; after it, the dispatcher asks the transport what happened.
        await DispatchAsync(api);
        Assert.Equal(MailStatus.Sending, (await MessageAsync(api, id)).Status);
        api.Clock.Advance(Duration.FromMinutes(6));
        await DispatchAsync(api);

        var message = await MessageAsync(api, id);
        Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts));
        Assert.Equal([id], transport.Sent);
        Assert.Equal([id + ".eml"], PickedUpFiles(api).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_dispatcher_that_dies_after_leasing_before_sending_has_the_message_sent_once_after_the_lease()
    {
        var transport = new ObservedTransport { CrashOnNextSend = true };
        using var api = OneMessageApi(transport, outbox: null);
        var id = Assert.Single(await EnqueueAsync(api, 1));

        await Assert.ThrowsAsync<SimulatedCrashException>(() => DispatchAsync(api));
        Assert.Empty(PickedUpFiles(api));

        // The hand-over was recorded: the first run after the lease finds no file and records that; the next run (the
        // timer's, a minute later) finds none again and sends.
        api.Clock.Advance(Duration.FromMinutes(6));
        await DispatchAsync(api);
        Assert.Empty(transport.Sent);
        api.Clock.Advance(Duration.FromMinutes(1));
        await DispatchAsync(api);

        var message = await MessageAsync(api, id);
        Assert.Equal((MailStatus.Sent, 2), (message.Status, message.Attempts));
        Assert.Equal([id], transport.Sent);
        Assert.Equal([id + ".eml"], PickedUpFiles(api).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Section4_a_dispatcher_that_dies_after_leasing_before_recording_the_hand_over_has_the_message_sent_by_the_first_run_after_the_lease()
    {
        var transport = new ObservedTransport();
        var outbox = new CrashingOutbox { CrashOnHandOver = true };
        using var api = OneMessageApi(transport, outbox);
        var id = Assert.Single(await EnqueueAsync(api, 1));

        await Assert.ThrowsAsync<SimulatedCrashException>(() => DispatchAsync(api));
        Assert.Equal(MailStatus.Sending, (await MessageAsync(api, id)).Status);

        api.Clock.Advance(Duration.FromMinutes(6));
        await DispatchAsync(api);

        // The lease that died before its hand-over reached nobody: the message was tried once.
        var message = await MessageAsync(api, id);
        Assert.Equal((MailStatus.Sent, 1), (message.Status, message.Attempts));
        Assert.Equal([id], transport.Sent);
        Assert.Equal([id + ".eml"], PickedUpFiles(api).Select(Path.GetFileName));
    }

    /// <summary>The app on 2027-01-01 in Denver, its mail transport observed and, when given, its outbox able to die.</summary>
    private ApiHarness OneMessageApi(ObservedTransport transport, CrashingOutbox? outbox) =>
        new(azurite.ConnectionString, InDenver(2027, 1, 1), services: s =>
        {
            s.Decorate<IMailTransport>((t, _) => transport.Around(t));
            if (outbox is not null)
            {
                s.Decorate<IMailOutbox>((o, _) => outbox.Around(o));
            }
        });

    /// <summary>Puts <paramref name="count"/> messages in the outbox, one a second, and returns their ids oldest first.</summary>
    internal static async Task<IReadOnlyList<string>> EnqueueAsync(ApiHarness api, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = Guid.NewGuid().ToString("D");
            var mail = new OutgoingMail(
                id,
                EmailAddress.Parse(Sender),
                ImmutableArray.Create(EmailAddress.Parse($"customer{i}@example.com")),
                EmailAddress.Parse(RenewalsDesk),
                $"Test message {i}",
                $"Plain text of message {i}.",
                $"<p>HTML of message {i}.</p>");
            Assert.IsType<EnqueueResult.Enqueued>(await Outbox(api).EnqueueAsync(mail, MailKinds.Term, [], api.Clock.GetCurrentInstant(), CancellationToken.None));
            ids.Add(id);
            api.Clock.Advance(Duration.FromSeconds(1));
        }

        return ids;
    }

    /// <summary>Records what reaches the real transport; can die once instead of sending.</summary>
    private sealed class ObservedTransport
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> sent = new();

        public bool CrashOnNextSend { get; set; }

        public IReadOnlyList<string> Sent => [.. sent];

        public IMailTransport Around(IMailTransport inner) => new Wrapper(this, inner);

        private sealed class Wrapper(ObservedTransport owner, IMailTransport inner) : IMailTransport
        {
            public Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
            {
                if (owner.CrashOnNextSend)
                {
                    owner.CrashOnNextSend = false;
                    throw new SimulatedCrashException();
                }

                owner.sent.Enqueue(mail.Id);
                return inner.SendAsync(mail, cancellationToken);
            }

            public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken) => inner.GetStatusAsync(mailId, cancellationToken);
        }
    }

    /// <summary>
    /// The real outbox, except that it can die once just before recording a transport's answer (the write after the
    /// recorded hand-over), or once just before recording the hand-over.
    /// </summary>
    private sealed class CrashingOutbox
    {
        public bool CrashOnOutcome { get; set; }

        public bool CrashOnHandOver { get; set; }

        public IMailOutbox Around(IMailOutbox inner) => new Wrapper(this, inner);

        private sealed class Wrapper(CrashingOutbox owner, IMailOutbox inner) : ForwardingMailOutbox(inner)
        {
            public override Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken)
            {
                if (owner.CrashOnOutcome && current.Message is { Status: MailStatus.Sending, HandedOverAt: not null })
                {
                    owner.CrashOnOutcome = false;
                    throw new SimulatedCrashException();
                }

                if (owner.CrashOnHandOver && current.Message is { Status: MailStatus.Sending, HandedOverAt: null } && updated.HandedOverAt is not null)
                {
                    owner.CrashOnHandOver = false;
                    throw new SimulatedCrashException();
                }

                return base.TryUpdateAsync(current, updated, cancellationToken);
            }
        }
    }

    private sealed class SimulatedCrashException() : Exception("Simulated crash of the dispatcher.");

    /// <summary>Line endings as a mail file carries them (CRLF) compared with the stored text, and no trailing break.</summary>
    private static string Normalize(string? text) => (text ?? string.Empty).ReplaceLineEndings("\n").TrimEnd('\n');
}
