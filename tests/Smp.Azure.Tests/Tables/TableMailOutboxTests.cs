using System.Collections.Immutable;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>The outbox against Azurite: atomic enqueue with claims, optimistic updates, and markers that survive crashes.</summary>
public sealed class TableMailOutboxTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = Instant.FromUtc(2027, 1, 1, 13, 0);
    private static readonly DeliveryOptions Delivery = new();
    private static CancellationToken Ct => CancellationToken.None;

    private (TableMailOutbox Outbox, TableClient Table) Create()
    {
        var name = AzuriteFixture.UniqueTableName("mailoutbox");
        return (new TableMailOutbox(azurite.CreateServiceClient(), name), azurite.CreateServiceClient().GetTableClient(name));
    }

    private static OutgoingMail Mail(string? id = null, string body = "Hello") => new(
        id ?? Guid.NewGuid().ToString("D"),
        EmailAddress.Parse("DoNotReply@smp.example.com"),
        [EmailAddress.Parse("buyer@example.com"), EmailAddress.Parse("cad@example.com")],
        EmailAddress.Parse("renewals@vendor.example.com"),
        "VTube-LASER maintenance plan VT-1 expires on 1 April 2027",
        body,
        $"<p>{body}</p>");

    private static MailClaim Claim(string serial, int days = 90) =>
        MailClaim.Reminder(Serial.Parse(serial), new LocalDate(2027, 4, 1), new ReminderStage(days));

    [Fact]
    public async Task An_enqueued_message_round_trips_exactly_and_is_due_at_once()
    {
        var (outbox, _) = Create();
        var mail = Mail(body: new string('x', 150_000)); // several content chunks

        Assert.IsType<EnqueueResult.Enqueued>(await outbox.EnqueueAsync(mail, MailKinds.Reminder, [Claim("VT-1")], Now, Ct));

        var stored = await outbox.GetAsync(mail.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(MailStatus.Pending, stored.Message.Status);
        Assert.Equal(MailKinds.Reminder, stored.Message.Kind);
        Assert.Equal(mail.Subject, stored.Message.Mail.Subject);
        Assert.Equal(mail.PlainText, stored.Message.Mail.PlainText);
        Assert.Equal(mail.Html, stored.Message.Mail.Html);
        Assert.Equal(mail.To.Select(a => a.Value), stored.Message.Mail.To.Select(a => a.Value));
        Assert.Equal(mail.ReplyTo, stored.Message.Mail.ReplyTo);
        Assert.Equal(mail.Id, Assert.Single(await outbox.ListDueAsync(Now, 10, Ct)).Message.Id);
        Assert.Equal(mail.Id, (await outbox.FindClaimsAsync([Claim("VT-1")], Ct))[Claim("VT-1")]);
    }

    [Fact]
    public async Task The_same_message_enqueued_again_is_recognised_and_writes_nothing()
    {
        var (outbox, table) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Reminder, [Claim("VT-1"), Claim("VT-2")], Now, Ct);
        var before = await RowsAsync(table);

        var again = await outbox.EnqueueAsync(mail, MailKinds.Reminder, [Claim("VT-1"), Claim("VT-2")], Now, Ct);

        Assert.IsType<EnqueueResult.AlreadyEnqueued>(again);
        Assert.Equal(before, await RowsAsync(table));
    }

    [Fact]
    public async Task A_message_whose_claim_is_held_by_another_is_refused_whole_and_names_the_holder()
    {
        var (outbox, table) = Create();
        var first = Mail();
        await outbox.EnqueueAsync(first, MailKinds.Reminder, [Claim("VT-1")], Now, Ct);
        var before = await RowsAsync(table);

        var second = await outbox.EnqueueAsync(Mail(), MailKinds.Reminder, [Claim("VT-2"), Claim("VT-1")], Now, Ct);

        var taken = Assert.IsType<EnqueueResult.ClaimsTaken>(second);
        Assert.Equal(first.Id, Assert.Single(taken.TakenBy).Value);
        Assert.Equal(before, await RowsAsync(table)); // neither the message nor VT-2's claim was written
    }

    [Fact]
    public async Task Concurrent_enqueues_of_overlapping_claims_let_each_claim_land_in_exactly_one_message()
    {
        var (outbox, _) = Create();
        var claims = Enumerable.Range(1, 5).Select(i => Claim($"VT-{i}")).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Task.Run(() => outbox.EnqueueAsync(Mail(), MailKinds.Reminder, claims, Now, Ct))));

        Assert.Single(results, r => r is EnqueueResult.Enqueued);
        var holders = await outbox.FindClaimsAsync(claims, Ct);
        Assert.Single(holders.Values.Distinct());
        Assert.Single(await outbox.ListDueAsync(Now, 100, Ct));
    }

    [Fact]
    public async Task An_update_from_a_stale_read_is_refused()
    {
        var (outbox, _) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var read = (await outbox.GetAsync(mail.Id, Ct))!;

        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, Now, Delivery), Ct))));

        Assert.Single(leases, l => l is not null);
    }

    [Fact]
    public async Task Sent_messages_leave_the_due_list_and_failed_ones_appear_in_the_failed_list()
    {
        var (outbox, table) = Create();
        var sent = Mail();
        var failed = Mail();
        await outbox.EnqueueAsync(sent, MailKinds.Term, [], Now, Ct);
        await outbox.EnqueueAsync(failed, MailKinds.Term, [], Now, Ct);

        foreach (var (mail, result) in new (OutgoingMail, MailSendResult)[] { (sent, new MailSendResult.Accepted()), (failed, new MailSendResult.PermanentFailure("550 mailbox unknown")) })
        {
            var read = (await outbox.GetAsync(mail.Id, Ct))!;
            var leased = (await outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, Now, Delivery), Ct))!;
            Assert.NotNull(await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, result, Now, Delivery), Ct));
        }

        Assert.Empty(await outbox.ListDueAsync(Now + Duration.FromDays(1), 10, Ct));
        var failedList = await outbox.ListFailedAsync(Ct);
        Assert.Equal(failed.Id, Assert.Single(failedList).Message.Id);
        Assert.Equal("550 mailbox unknown", failedList[0].Message.LastError);
        var markers = (await RowsAsync(table)).Where(r => !r.RowKey.StartsWith("msg|", StringComparison.Ordinal) && !r.RowKey.StartsWith("claim|", StringComparison.Ordinal)).Select(r => r.RowKey);
        Assert.Equal([$"failed|{failed.Id}", $"purge|{Now.ToUnixTimeTicks():D19}|{sent.Id}"], markers);
    }

    [Fact]
    public async Task Spec5_sent_bodies_are_purged_after_the_retention_reading_only_those_messages_and_the_metadata_stays()
    {
        var counter = new PointReadCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, global::Azure.Core.HttpPipelinePosition.PerCall);
        var name = AzuriteFixture.UniqueTableName("mailoutbox");
        var outbox = new TableMailOutbox(azurite.CreateServiceClient(options), name);
        var table = azurite.CreateServiceClient().GetTableClient(name);
        var old = Mail(body: "Open https://smp.example.com/api/updates/1.96/password?sig=k1.old-link");
        var recent = Mail(body: "recent link");
        var pending = Mail(body: "pending link");
        var failed = Mail(body: "failed link");
        await outbox.EnqueueAsync(old, MailKinds.PasswordLink, [], Now, Ct);
        await outbox.EnqueueAsync(pending, MailKinds.PasswordLink, [], Now, Ct);
        await outbox.EnqueueAsync(failed, MailKinds.PasswordLink, [], Now, Ct);
        await outbox.EnqueueAsync(recent, MailKinds.PasswordLink, [], Now + Duration.FromDays(20), Ct);
        await DeliverAsync(outbox, old.Id, Now, new MailSendResult.Accepted());
        await DeliverAsync(outbox, failed.Id, Now, new MailSendResult.PermanentFailure("550 mailbox unknown"));
        await DeliverAsync(outbox, recent.Id, Now + Duration.FromDays(20), new MailSendResult.Accepted());
        var purgeAt = Now + Duration.FromDays(31);

        counter.Reads = 0;
        var purged = await outbox.PurgeSentBodiesAsync(purgeAt - Delivery.SentBodyRetention, max: 100, Ct);

        Assert.Equal(1, purged);
        Assert.Equal(1, counter.Reads); // the one message purged: not every message ever sent
        var kept = (await outbox.GetAsync(old.Id, Ct))!.Message;
        Assert.True(kept.BodyPurged);
        Assert.Equal((string.Empty, string.Empty), (kept.Mail.PlainText, kept.Mail.Html));
        Assert.Equal(
            (old.Id, MailKinds.PasswordLink, MailStatus.Sent, Now, (Instant?)Now, old.Subject, string.Join(",", old.To), old.ReplyTo),
            (kept.Id, kept.Kind, kept.Status, kept.CreatedAt, kept.SentAt, kept.Mail.Subject, string.Join(",", kept.Mail.To), kept.Mail.ReplyTo));
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            rows.Add(row);
        }

        Assert.DoesNotContain(rows, r => ((IDictionary<string, object>)r).Values.OfType<byte[]>().Any(b => System.Text.Encoding.UTF8.GetString(b).Contains("old-link", StringComparison.Ordinal)));
        Assert.DoesNotContain(rows, r => r.RowKey.StartsWith("purge|", StringComparison.Ordinal) && r.RowKey.EndsWith(old.Id, StringComparison.Ordinal));

        // Not yet due, not sent, or failed (staff may retry it, so it keeps what it would send): bodies stay.
        Assert.Equal("recent link", (await outbox.GetAsync(recent.Id, Ct))!.Message.Mail.PlainText);
        Assert.Equal("pending link", (await outbox.GetAsync(pending.Id, Ct))!.Message.Mail.PlainText);
        var failedListed = Assert.Single(await outbox.ListFailedAsync(Ct));
        Assert.Equal((failed.Id, "failed link"), (failedListed.Message.Id, failedListed.Message.Mail.PlainText));

        counter.Reads = 0;
        Assert.Equal(0, await outbox.PurgeSentBodiesAsync(purgeAt - Delivery.SentBodyRetention, max: 100, Ct));
        Assert.Equal(0, counter.Reads);

        // Much later the recent one goes too; the first stays purged.
        Assert.Equal(1, await outbox.PurgeSentBodiesAsync(Now + Duration.FromDays(21), max: 100, Ct));
        Assert.True((await outbox.GetAsync(recent.Id, Ct))!.Message.BodyPurged);
        Assert.Equal("pending link", (await outbox.GetAsync(pending.Id, Ct))!.Message.Mail.PlainText);
    }

    [Fact]
    public async Task Spec5_the_purge_row_is_written_with_the_sent_state_and_an_unfinished_purge_is_finished_by_the_next_run()
    {
        var (outbox, table) = Create();
        var mails = Enumerable.Range(0, 3).Select(_ => Mail(body: "a link")).ToArray();
        foreach (var (mail, n) in mails.Select((m, n) => (m, n)))
        {
            await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now + Duration.FromMinutes(n), Ct);
            await DeliverAsync(outbox, mail.Id, Now + Duration.FromMinutes(n), new MailSendResult.Accepted());
        }

        // A send whose state change was refused (a stale read) leaves no purge row behind.
        var stale = (await outbox.GetAsync(mails[0].Id, Ct))!;
        await outbox.TryUpdateAsync(stale, stale.Message with { Note = "first" }, Ct);
        Assert.Null(await outbox.TryUpdateAsync(stale, stale.Message with { Note = "second" }, Ct));
        Assert.Equal(3, (await RowsAsync(table)).Count(r => r.RowKey.StartsWith("purge|", StringComparison.Ordinal)));

        // At most `max` a run; the next run finishes, oldest first.
        var due = Now + Duration.FromDays(1);
        Assert.Equal(2, await outbox.PurgeSentBodiesAsync(due, max: 2, Ct));
        var purgedFlags = await Task.WhenAll(mails.Select(async m => (await outbox.GetAsync(m.Id, Ct))!.Message.BodyPurged));
        Assert.Equal(new[] { true, true, false }, purgedFlags);
        Assert.Equal(1, await outbox.PurgeSentBodiesAsync(due, max: 2, Ct));
        var rowKeys = (await RowsAsync(table)).Select(r => r.RowKey).ToList();
        Assert.DoesNotContain(rowKeys, k => k.StartsWith("purge|", StringComparison.Ordinal));
        Assert.All(mails, m => Assert.Contains("msg|" + m.Id, rowKeys));
    }

    private static async Task DeliverAsync(TableMailOutbox outbox, string id, Instant at, MailSendResult result)
    {
        var read = (await outbox.GetAsync(id, Ct))!;
        var leased = (await outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, at, Delivery), Ct))!;
        Assert.NotNull(await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, result, at, Delivery), Ct));
    }

    [Fact]
    public async Task A_crash_between_the_marker_and_the_state_loses_nothing()
    {
        var (outbox, table) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var read = (await outbox.GetAsync(mail.Id, Ct))!;
        var leased = (await outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, Now, Delivery), Ct))!;
        var failed = (await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, new MailSendResult.PermanentFailure("bounced"), Now, Delivery), Ct))!;

        // Staff retry crashes after writing the new pending marker and before the message itself changes.
        await table.UpsertEntityAsync(new TableEntity(TableMailOutbox.Partition, $"pending|{mail.Id}") { ["Version"] = 4L, ["At"] = Now.ToDateTimeOffset() }, TableUpdateMode.Replace, Ct);

        // A reader sees a pending marker for a failed message: it must not delete it (a writer of version 4 may still commit).
        Assert.Empty(await outbox.ListDueAsync(Now, 10, Ct));
        Assert.NotNull(await outbox.TryUpdateAsync(failed, DeliveryPolicy.Requeue(failed.Message, Now), Ct));

        Assert.Equal(mail.Id, Assert.Single(await outbox.ListDueAsync(Now, 10, Ct)).Message.Id);
        Assert.Empty(await outbox.ListFailedAsync(Ct));
    }

    [Fact]
    public async Task A_stale_marker_left_by_a_crash_after_the_state_change_is_skipped_and_removed()
    {
        var (outbox, table) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var read = (await outbox.GetAsync(mail.Id, Ct))!;
        var leased = (await outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, Now, Delivery), Ct))!;
        await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, new MailSendResult.Accepted(), Now, Delivery), Ct);

        // The clean-up of the pending marker was lost: put back the marker of version 2.
        await table.UpsertEntityAsync(new TableEntity(TableMailOutbox.Partition, $"pending|{mail.Id}") { ["Version"] = 2L, ["At"] = Now.ToDateTimeOffset() }, TableUpdateMode.Replace, Ct);

        Assert.Empty(await outbox.ListDueAsync(Now, 10, Ct));
        Assert.DoesNotContain(await RowsAsync(table), r => r.RowKey.StartsWith("pending|", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Storage_a_stale_writer_never_lowers_the_marker_of_a_newer_state()
    {
        var (outbox, table, read) = await EnqueuedAsync();
        var leased = (await LeaseAsync(outbox, read, Now))!;
        var retry = (await outbox.TryUpdateAsync(leased, DeliveryPolicy.After(leased.Message, new MailSendResult.Throttled(TimeSpan.FromMinutes(1)), Now, Delivery), Ct))!;

        // A dispatcher that read version 1 long ago leases it only now: it writes its marker (for version 2), then loses.
        Assert.Null(await LeaseAsync(outbox, read, Now + Duration.FromDays(1)));

        // The marker still is version 3's: due when the message is, and safe from a late clean-up of version 2.
        var marker = (await table.GetEntityAsync<TableEntity>(TableMailOutbox.Partition, DueKey(MailLane.CustomerRequests, retry.Message.NextAttemptAt, read.Message.Id), cancellationToken: Ct)).Value;
        Assert.Equal(3L, marker.GetInt64("Version"));
        Assert.Equal([read.Message.Id], await DueIdsAsync(outbox, retry.Message.NextAttemptAt));
    }

    [Fact]
    public async Task Storage_a_writer_that_loses_the_same_version_leaves_the_winners_marker()
    {
        var (outbox, _, read) = await EnqueuedAsync();
        var winner = (await LeaseAsync(outbox, read, Now))!;

        Assert.Null(await LeaseAsync(outbox, read, Now + Duration.FromDays(1)));

        // The winner's lease runs out: the message is due again then, not when the loser's lease would have.
        Assert.Equal([read.Message.Id], await DueIdsAsync(outbox, winner.Message.NextAttemptAt));
    }

    [Fact]
    public async Task Storage_a_marker_written_first_by_a_writer_that_then_lost_does_not_delay_the_winner()
    {
        var (outbox, table, read) = await EnqueuedAsync();

        // Another dispatcher read version 1 too, wrote its marker for version 2 first, and then lost (or crashed).
        await table.UpsertEntityAsync(new TableEntity(TableMailOutbox.Partition, $"pending|{read.Message.Id}") { ["Version"] = 2L, ["At"] = (Now + Duration.FromDays(1)).ToDateTimeOffset() }, TableUpdateMode.Replace, Ct);
        var winner = (await LeaseAsync(outbox, read, Now))!;

        Assert.Equal([read.Message.Id], await DueIdsAsync(outbox, winner.Message.NextAttemptAt));
    }

    /// <summary>A new outbox holding one pending message, as read.</summary>
    private async Task<(TableMailOutbox Outbox, TableClient Table, StoredOutboxMessage Read)> EnqueuedAsync()
    {
        var (outbox, table) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        return (outbox, table, (await outbox.GetAsync(mail.Id, Ct))!);
    }

    private static Task<StoredOutboxMessage?> LeaseAsync(TableMailOutbox outbox, StoredOutboxMessage read, Instant at) =>
        outbox.TryUpdateAsync(read, DeliveryPolicy.Lease(read.Message, at, Delivery), Ct);

    private static async Task<string[]> DueIdsAsync(TableMailOutbox outbox, Instant at) =>
        [.. (await outbox.ListDueAsync(at, 10, Ct)).Select(m => m.Message.Id)];

    [Fact]
    public async Task The_due_list_reads_only_messages_due_now_earliest_first_up_to_the_maximum()
    {
        var counter = new PointReadCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, global::Azure.Core.HttpPipelinePosition.PerCall);
        var name = AzuriteFixture.UniqueTableName("mailoutbox");
        var outbox = new TableMailOutbox(azurite.CreateServiceClient(options), name);
        var later = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var mail = Mail();
            await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now + Duration.FromMinutes(i), Ct);
            if (i >= 3)
            {
                later.Add(mail.Id);
            }
        }

        counter.Reads = 0;
        var due = await outbox.ListDueAsync(Now + Duration.FromMinutes(2), max: 2, Ct);

        Assert.Equal(2, due.Count);
        Assert.True(due[0].Message.NextAttemptAt <= due[1].Message.NextAttemptAt);
        Assert.DoesNotContain(due, m => later.Contains(m.Message.Id));
        Assert.Equal(2, counter.Reads); // the two messages returned, not the six pending
    }

    [Fact]
    public async Task Section5_a_reminder_goes_out_in_the_next_run_however_much_customer_request_mail_was_due_before_it()
    {
        var (outbox, _) = Create();
        var flood = Now - Duration.FromHours(1); // 60 term mails due an hour before the reminder
        for (var i = 0; i < 60; i++)
        {
            await outbox.EnqueueAsync(Mail(), MailKinds.Term, [], flood, Ct);
        }

        var reminder = Mail();
        await outbox.EnqueueAsync(reminder, MailKinds.Reminder, [Claim("VT-1")], Now, Ct);
        var clock = new NodaTime.Testing.FakeClock(Now + Duration.FromMinutes(1));
        var pickup = Path.Combine(Path.GetTempPath(), "smp-lanes-" + Guid.NewGuid().ToString("N"));
        try
        {
            var transport = new Smp.Azure.Mail.PickupFolderTransport(pickup, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Smp.Azure.Mail.PickupFolderTransport>.Instance);
            var report = await new MailDispatcher(outbox, transport, clock, Delivery with { MaxPerMinute = 25, CustomerRequestSharePerMinute = 5 }).RunAsync(Ct);

            Assert.Equal(MailStatus.Sent, (await outbox.GetAsync(reminder.Id, Ct))!.Message.Status);
            Assert.Equal(6, report.Sent); // the reminder and the customer-request share
        }
        finally
        {
            if (Directory.Exists(pickup))
            {
                Directory.Delete(pickup, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Section5_a_pending_marker_written_before_markers_carried_the_lane_still_lists_its_message_in_its_lane()
    {
        var (outbox, table) = Create();
        var term = Mail();
        await outbox.EnqueueAsync(term, MailKinds.Term, [], Now, Ct);

        // The marker as the oldest stored outboxes hold it: one row per message, keyed by its id, without the lane.
        await table.DeleteEntityAsync(TableMailOutbox.Partition, DueKey(MailLane.CustomerRequests, Now, term.Id), cancellationToken: Ct);
        await table.AddEntityAsync(new TableEntity(TableMailOutbox.Partition, "pending|" + term.Id) { ["Version"] = 1L, ["At"] = Now.ToDateTimeOffset() }, Ct);

        Assert.Equal(term.Id, Assert.Single(await outbox.ListDueAsync(Now, 10, MailLane.CustomerRequests, Ct)).Message.Id);
        Assert.Empty(await outbox.ListDueAsync(Now, 10, MailLane.Reminders, Ct));
    }

    [Fact]
    public async Task Section5_pending_markers_of_the_layout_before_due_markers_are_moved_to_due_markers_and_their_mail_is_still_sent()
    {
        var (outbox, table) = Create();
        var reminder = Mail();
        var term = Mail();
        await outbox.EnqueueAsync(reminder, MailKinds.Reminder, [Claim("VT-1")], Now, Ct);
        await outbox.EnqueueAsync(term, MailKinds.Term, [], Now + Duration.FromMinutes(5), Ct);

        // Both as older code stored them: pending|ID, with the time and lane as columns.
        foreach (var (mail, lane, at) in new[] { (reminder, MailLane.Reminders, Now), (term, MailLane.CustomerRequests, Now + Duration.FromMinutes(5)) })
        {
            await table.DeleteEntityAsync(TableMailOutbox.Partition, DueKey(lane, at, mail.Id), cancellationToken: Ct);
            await table.AddEntityAsync(new TableEntity(TableMailOutbox.Partition, "pending|" + mail.Id) { ["Version"] = 1L, ["At"] = at.ToDateTimeOffset(), ["Lane"] = lane.ToString() }, Ct);
        }

        Assert.Equal([reminder.Id], (await outbox.ListDueAsync(Now, 10, Ct)).Select(m => m.Message.Id));

        var markers = (await RowsAsync(table)).Select(r => r.RowKey).Where(k => !k.StartsWith("msg|", StringComparison.Ordinal) && !k.StartsWith("claim|", StringComparison.Ordinal));
        Assert.Equal([DueKey(MailLane.CustomerRequests, Now + Duration.FromMinutes(5), term.Id), DueKey(MailLane.Reminders, Now, reminder.Id)], markers);
        Assert.Equal([term.Id], (await outbox.ListDueAsync(Now + Duration.FromMinutes(5), 10, MailLane.CustomerRequests, Ct)).Select(m => m.Message.Id));
    }

    /// <summary>The due marker's row key: <c>due|LANE|TICKS|ID</c>, ticks since the Unix epoch, 19 digits.</summary>
    private static string DueKey(MailLane lane, Instant at, string id) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"due|{lane}|{at.ToUnixTimeTicks():D19}|{id}");

    /// <summary>Counts point reads of outbox messages (GETs addressed to one entity).</summary>
    private sealed class PointReadCounter : global::Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public int Reads;

        public override void OnSendingRequest(global::Azure.Core.HttpMessage message)
        {
            var path = Uri.UnescapeDataString(message.Request.Uri.Path);
            if (message.Request.Method == global::Azure.Core.RequestMethod.Get && path.Contains("RowKey='msg|", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref Reads);
            }
        }
    }

    [Fact]
    public async Task More_claims_than_one_transaction_holds_are_refused_before_any_write()
    {
        var (outbox, _) = Create();
        var claims = Enumerable.Range(0, outbox.MaxClaimsPerMessage + 1).Select(i => Claim($"VT-{i}")).ToArray();

        await Assert.ThrowsAsync<ArgumentException>(() => outbox.EnqueueAsync(Mail(), MailKinds.Reminder, claims, Now, Ct));
    }

    [Fact]
    public async Task A_message_with_the_most_claims_one_transaction_holds_is_stored_atomically()
    {
        var (outbox, _) = Create();
        var claims = Enumerable.Range(0, outbox.MaxClaimsPerMessage).Select(i => Claim($"VT-{i}")).ToImmutableArray();

        Assert.IsType<EnqueueResult.Enqueued>(await outbox.EnqueueAsync(Mail(), MailKinds.Reminder, claims, Now, Ct));
        Assert.Equal(claims.Length, (await outbox.FindClaimsAsync(claims, Ct)).Count);
    }

    private static async Task<List<(string RowKey, string ETag)>> RowsAsync(TableClient table)
    {
        var rows = new List<(string, string)>();
        await foreach (var row in table.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            rows.Add((row.RowKey, row.ETag.ToString()));
        }

        return [.. rows.Order()];
    }

    [Fact]
    public async Task R9_a_message_keeps_its_claims_and_delivery_facts_and_a_superseded_one_is_listed_for_staff_and_never_due()
    {
        var (outbox, _) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Reminder, [Claim("VT-1"), Claim("VT-2")], Now, Ct);
        var stored = await outbox.GetAsync(mail.Id, Ct);
        Assert.Equal([Claim("VT-1"), Claim("VT-2")], stored!.Message.Claims);
        Assert.True(stored.Message.Claims[0].TryParseReminder(out var serial, out var expiresOn, out var stage));
        Assert.Equal(("VT-1", new LocalDate(2027, 4, 1), 90), (serial.Value, expiresOn, stage.DaysBefore));

        var leased = await outbox.TryUpdateAsync(stored, DeliveryPolicy.Lease(stored.Message, Now, Delivery), Ct);
        var unknown = await outbox.TryUpdateAsync(leased!, DeliveryPolicy.After(leased!.Message, new MailSendResult.TransientFailure("timeout"), Now, Delivery), Ct);
        var reread = (await outbox.GetAsync(mail.Id, Ct))!.Message;
        Assert.True(reread.OutcomeUnknown);
        Assert.Equal(Now, reread.FirstAttemptAt);
        Assert.Equal(unknown!.Message.Claims, reread.Claims);

        await outbox.TryUpdateAsync(unknown, DeliveryPolicy.Supersede(unknown.Message, "VT-1 and VT-2 renewed", Now), Ct);

        var listed = Assert.Single(await outbox.ListSupersededAsync(Ct));
        Assert.Equal(MailStatus.Superseded, listed.Message.Status);
        Assert.Equal("VT-1 and VT-2 renewed", listed.Message.Note);
        Assert.Empty(await outbox.ListDueAsync(Now + Duration.FromDays(30), 10, Ct));
        Assert.Empty(await outbox.ListFailedAsync(Ct));
    }

    [Fact]
    public async Task Section4_a_lease_keeps_its_recorded_hand_over_and_the_first_unknown_answer_and_a_new_lease_clears_them()
    {
        var (outbox, _) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var stored = await outbox.GetAsync(mail.Id, Ct);
        var leased = await outbox.TryUpdateAsync(stored!, DeliveryPolicy.Lease(stored!.Message, Now, Delivery), Ct);
        Assert.False((await outbox.GetAsync(mail.Id, Ct))!.Message.InDoubt); // leased, never handed over

        var handedOver = await outbox.TryUpdateAsync(leased!, DeliveryPolicy.HandOver(leased!.Message, Now + Duration.FromSeconds(1)), Ct);
        var reread = (await outbox.GetAsync(mail.Id, Ct))!;
        Assert.Equal((MailStatus.Sending, Now + Duration.FromSeconds(1)), (reread.Message.Status, reread.Message.HandedOverAt));
        Assert.True(reread.Message.InDoubt);
        Assert.Null(await outbox.TryUpdateAsync(leased, leased.Message, Ct)); // the lease's token is spent by the hand-over

        var later = Now + Delivery.Lease + Duration.FromMinutes(1);
        var unknown = await outbox.TryUpdateAsync(handedOver!, DeliveryPolicy.UnknownOnce(handedOver!.Message, later), Ct);
        reread = (await outbox.GetAsync(mail.Id, Ct))!;
        Assert.Equal((later, true), (reread.Message.UnknownAnswerAt, reread.Message.OutcomeUnknown));
        Assert.Equal(mail.Id, Assert.Single(await outbox.ListDueAsync(later, 10, Ct)).Message.Id); // still due

        await outbox.TryUpdateAsync(unknown!, DeliveryPolicy.Lease(unknown!.Message, later + Duration.FromMinutes(1), Delivery), Ct);
        reread = (await outbox.GetAsync(mail.Id, Ct))!;
        Assert.Equal(((Instant?)null, (Instant?)null, true), (reread.Message.HandedOverAt, reread.Message.UnknownAnswerAt, reread.Message.OutcomeUnknown));
    }

    [Fact]
    public async Task Section4_a_lease_written_before_hand_overs_were_recorded_is_read_as_in_doubt()
    {
        var (outbox, table) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var stored = await outbox.GetAsync(mail.Id, Ct);
        await outbox.TryUpdateAsync(stored!, DeliveryPolicy.Lease(stored!.Message, Now, Delivery), Ct);

        // The row as older code leaves a lease: nothing says whether its dispatcher handed the mail over.
        await RewriteAsOlderCodeLeftItAsync(table, mail.Id, clearOutcomeUnknown: false);

        var reread = (await outbox.GetAsync(mail.Id, Ct))!.Message;
        Assert.Equal(MailStatus.Sending, reread.Status);
        Assert.True(reread.InDoubt);
    }

    [Fact]
    public async Task Section4_a_message_failed_with_its_outcome_unknown_by_older_code_is_read_as_in_doubt_so_a_staff_retry_asks_first()
    {
        var (outbox, table) = Create();
        var mail = Mail();
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, Ct);
        var stored = await outbox.GetAsync(mail.Id, Ct);
        var leased = await outbox.TryUpdateAsync(stored!, DeliveryPolicy.Lease(stored!.Message, Now, Delivery), Ct);
        await outbox.TryUpdateAsync(leased!, leased!.Message with { Status = MailStatus.Failed, LastError = "Outcome unknown: ACS 503 Service Unavailable." }, Ct);

        // The row as older code left it: failed with its outcome unknown, without marking the doubt or hand-overs.
        await RewriteAsOlderCodeLeftItAsync(table, mail.Id, clearOutcomeUnknown: true);

        var reread = (await outbox.GetAsync(mail.Id, Ct))!;
        Assert.Equal(MailStatus.Failed, reread.Message.Status);
        Assert.True(reread.Message.InDoubt);

        // A staff retry keeps the doubt: the next attempt asks the provider before it sends.
        var requeued = await outbox.TryUpdateAsync(reread, DeliveryPolicy.Requeue(reread.Message, Now), Ct);
        Assert.True(requeued!.Message.InDoubt);

        // A message failed for another reason by older code is not in doubt.
        var other = Mail();
        await outbox.EnqueueAsync(other, MailKinds.Term, [], Now, Ct);
        var otherStored = await outbox.GetAsync(other.Id, Ct);
        await outbox.TryUpdateAsync(otherStored!, otherStored!.Message with { Status = MailStatus.Failed, LastError = "ACS 400 Bad Request: the recipient is invalid." }, Ct);
        await RewriteAsOlderCodeLeftItAsync(table, other.Id, clearOutcomeUnknown: false);
        Assert.False((await outbox.GetAsync(other.Id, Ct))!.Message.InDoubt);

        // A message older code left pending or failed after an attempt whose answer it lost, in its own words (a timeout
        // on the last attempt, the mark cleared by a later answer): in doubt too, asked about once before it is sent.
        foreach (var status in new[] { MailStatus.Pending, MailStatus.Failed })
        {
            var timedOut = Mail();
            await outbox.EnqueueAsync(timedOut, MailKinds.Term, [], Now, Ct);
            var timedOutStored = await outbox.GetAsync(timedOut.Id, Ct);
            var timedOutLeased = await outbox.TryUpdateAsync(timedOutStored!, DeliveryPolicy.Lease(timedOutStored!.Message, Now, Delivery), Ct);
            await outbox.TryUpdateAsync(timedOutLeased!, timedOutLeased!.Message with { Status = status, LastError = "ACS did not answer within 30 s." }, Ct);
            await RewriteAsOlderCodeLeftItAsync(table, timedOut.Id, clearOutcomeUnknown: true);
            Assert.True((await outbox.GetAsync(timedOut.Id, Ct))!.Message.InDoubt, $"An older {status} row after an attempt is in doubt.");
        }
    }

    /// <summary>
    /// Rewrites a message's row as code from before hand-overs were recorded left it: without <c>HandOverRecorded</c> and
    /// <c>HandedOverAt</c>, and with <paramref name="clearOutcomeUnknown"/>, <c>OutcomeUnknown</c> false (older code
    /// said the doubt in the last error only).
    /// </summary>
    private static async Task RewriteAsOlderCodeLeftItAsync(TableClient table, string messageId, bool clearOutcomeUnknown)
    {
        var row = (await table.GetEntityAsync<TableEntity>(TableMailOutbox.Partition, "msg|" + messageId, cancellationToken: Ct)).Value;
        row.Remove("HandOverRecorded");
        row.Remove("HandedOverAt");
        if (clearOutcomeUnknown)
        {
            row["OutcomeUnknown"] = false;
        }

        await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, Ct);
    }
}
