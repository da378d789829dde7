using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Azure.Tests.Tables;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// The stores tidy up after a committed change (old index rows, old outbox markers) and while reading (stale rows),
/// and promise that a failed tidy-up harms nothing. These tests make storage time out for good at that point, with
/// Azure.Core's retries on as in production, so that the failure arrives as an AggregateException of timeouts.
/// </summary>
public sealed class CleanUpFailureTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = Instant.FromUtc(2027, 1, 1, 13, 0);
    private static CancellationToken Ct => CancellationToken.None;

    private static TableClientOptions Options(Outage outage)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.AddPolicy(outage, HttpPipelinePosition.PerRetry);
        return options;
    }

    private static OutgoingMail Mail() => new(
        Guid.NewGuid().ToString("D"),
        EmailAddress.Parse("DoNotReply@smp.example.com"),
        [EmailAddress.Parse("buyer@example.com")],
        null,
        "Your plan",
        "Hello",
        "<p>Hello</p>");

    [Fact]
    public async Task A_committed_license_change_is_reported_as_stored_when_its_index_clean_up_times_out()
    {
        var outage = new Outage();
        var t = StoreUnderTest.Create(azurite, Options(outage));
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(added.License, added.Event, Ct));
        var read = (await t.Store.GetAsync(added.License.Serial, Ct))!;
        var renewal = TestLicenses.Renew(read.License, "PO-1");

        // Storage stops answering once the license's transaction went through: the old index rows cannot be retired.
        outage.StartAfter(m => IsTransactionOn(m, t.Options.LicensesTable));
        var stored = await t.Store.TryUpdateAsync(read, renewal.License, renewal.Event, Ct);

        Assert.True(stored);
        Assert.True(outage.Failed > 0);
        var after = new TableLicenseStore(azurite.CreateServiceClient(), t.Options);
        Assert.Equal(2, (await after.GetAsync(added.License.Serial, Ct))!.Version);
    }

    [Fact]
    public async Task A_listing_still_answers_when_a_stale_index_row_it_finds_cannot_be_removed()
    {
        var outage = new Outage();
        var t = StoreUnderTest.Create(azurite, Options(outage));
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(added.License, added.Event, Ct));
        var stale = LicenseIndex.ExpiresKey(added.License.ExpiresOn.PlusDays(7), added.License.Serial);
        await t.Index.AddEntityAsync(LicenseEntities.IndexRow(stale, added.License.Serial, version: 1), Ct);

        outage.StartNow(m => m.Request.Method == RequestMethod.Delete);
        var listed = new List<string>();
        await foreach (var license in t.Store.ListExpiringAsync(added.License.ExpiresOn, added.License.ExpiresOn.PlusDays(30), Ct))
        {
            listed.Add(license.License.Serial.Value);
        }

        Assert.Equal([added.License.Serial.Value], listed);
        Assert.True(outage.Failed > 0);
    }

    [Fact]
    public async Task A_committed_outbox_update_is_reported_as_stored_when_its_marker_clean_up_times_out()
    {
        var outage = new Outage();
        var name = AzuriteFixture.UniqueTableName("mailoutbox");
        var outbox = new TableMailOutbox(azurite.CreateServiceClient(Options(outage)), name);
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var read = (await outbox.GetAsync(mail.Id, Ct))!;
        var leased = (await outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, Now, SmpOnTables.Delivery), Ct))!;

        // Storage stops answering once the message is marked sent (with its purge row, in one batch). The batch also
        // removes its due marker, so there is no clean-up left to time out: nothing more is asked of storage.
        outage.StartAfter(m => m.Request.Method == RequestMethod.Post && m.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal));
        var sent = await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, new MailSendResult.Accepted(), Now, SmpOnTables.Delivery), Ct);

        Assert.Equal(MailStatus.Sent, sent?.Message.Status);
        Assert.Equal(0, outage.Failed);
        var after = new TableMailOutbox(azurite.CreateServiceClient(), name);
        Assert.Equal(MailStatus.Sent, (await after.GetAsync(mail.Id, Ct))!.Message.Status);
    }

    [Fact]
    public async Task The_due_list_still_answers_when_a_stale_marker_it_finds_cannot_be_removed()
    {
        var outage = new Outage();
        var name = AzuriteFixture.UniqueTableName("mailoutbox");
        var outbox = new TableMailOutbox(azurite.CreateServiceClient(Options(outage)), name);
        var sentMail = Mail();
        var pendingMail = Mail();
        await outbox.EnqueueAsync(sentMail, MailKinds.Term, [], Now, Ct);
        await outbox.EnqueueAsync(pendingMail, MailKinds.Term, [], Now, Ct);
        var read = (await outbox.GetAsync(sentMail.Id, Ct))!;
        var leased = (await outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, Now, SmpOnTables.Delivery), Ct))!;
        await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, new MailSendResult.Accepted(), Now, SmpOnTables.Delivery), Ct);

        // The sent message's pending marker, as a lost clean-up would have left it.
        await azurite.CreateServiceClient().GetTableClient(name).UpsertEntityAsync(
            new TableEntity(TableMailOutbox.Partition, $"pending|{sentMail.Id}") { ["Version"] = 2L, ["At"] = Now.ToDateTimeOffset() }, TableUpdateMode.Replace, Ct);
        outage.StartNow(m => m.Request.Method == RequestMethod.Delete);

        var due = await outbox.ListDueAsync(Now, 10, Ct);

        Assert.Equal(pendingMail.Id, Assert.Single(due).Message.Id);
        Assert.True(outage.Failed > 0);
    }

    /// <summary>A transaction on <paramref name="table"/> (the index table has transactions of its own).</summary>
    private static bool IsTransactionOn(HttpMessage message, string table)
    {
        if (message.Request.Method != RequestMethod.Post || !message.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal) || message.Request.Content is not { } content)
        {
            return false;
        }

        using var buffer = new MemoryStream();
        content.WriteTo(buffer, CancellationToken.None);
        return System.Text.RegularExpressions.Regex.IsMatch(System.Text.Encoding.UTF8.GetString(buffer.ToArray()), "/" + table + "[^A-Za-z0-9]");
    }

    /// <summary>From a chosen moment on, the calls it hits time out, every attempt, until the test ends.</summary>
    private sealed class Outage : HttpPipelinePolicy
    {
        private Func<HttpMessage, bool> startsAfter = _ => false;
        private Func<HttpMessage, bool> hits = _ => true;
        private volatile bool started;
        private int failed;

        public int Failed => Volatile.Read(ref failed);

        /// <summary>The outage begins once a call matching <paramref name="trigger"/> has gone through; it hits every call.</summary>
        public void StartAfter(Func<HttpMessage, bool> trigger) => startsAfter = trigger;

        /// <summary>The outage begins now, for the calls matching <paramref name="calls"/>.</summary>
        public void StartNow(Func<HttpMessage, bool> calls)
        {
            hits = calls;
            started = true;
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (started && hits(message))
            {
                Interlocked.Increment(ref failed);
                throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout elapsing.", new TimeoutException());
            }

            await ProcessNextAsync(message, pipeline);
            if (startsAfter(message))
            {
                started = true;
            }
        }
    }
}
