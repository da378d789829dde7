using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Requests;
using Smp.Core.Updates;
using Smp.TestSupport;
using Xunit.Abstractions;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// Crash consistency: each use case is stopped at every one of its storage writes, once just before the write is
/// sent and once just after storage carried it out (its answer lost with the process), then run again by a new
/// process over the same tables. The final state must equal the state after one uninterrupted run: no write lost,
/// none doubled, no mail delivered twice, no event recorded twice, no request counted twice.
/// Every stored license change also writes, just before its transaction, its row among the latest events (the
/// console's dashboard): one write per license change more than the lists below name.
/// </summary>
public sealed class CrashConsistencyTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    /// <summary>2026-03-14 09:00 in Denver: activations this day start 2026-04-01.</summary>
    private static readonly Instant Start = Instant.FromUtc(2026, 3, 14, 16, 0);

    private static readonly CommandContext Staff = new("crash-tests", "corr-staff");
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public Task An_activation_interrupted_at_any_write_and_run_again_stores_the_license_and_its_search_rows_once() =>
        SweepAsync(new UseCase(
            // The first use of a new store records which reminder offsets its index is built for: a one-off write
            // that is not the activation's, so it happens here.
            Arrange: s => s.Store.GetAsync(Serial.Parse("CR-ACT-0"), Ct),
            Act: s => s.Licenses.ActivateAsync(Activation("CR-ACT-1", "ACME", onSiteTraining: true), Staff, Ct),

            // One request per partition written ahead: the customer row, the expiry row, the 90-day and 30-day reminder
            // rows (one batch), the six search rows (one batch: serial, customer id, the two words of the customer's
            // name, the two contacts), the latest-events row; then the license with its event; then the reminder rows
            // confirmed (one batch).
            Writes: 7,
            Customers: ["ACME"]));

    [Fact]
    public Task A_conflicting_activation_interrupted_at_any_write_and_made_again_leaves_the_stored_license_and_its_rows_as_they_were() =>
        SweepAsync(new UseCase(
            Arrange: s => s.Licenses.ActivateAsync(Activation("CR-ACT-2", "ACME", onSiteTraining: true), Staff, Ct),

            // The same serial with another customer, made again after a crash: added without a read first, the search
            // partition first; its batch is refused (the serial's own search row exists), the summary is found, and the
            // add stops there having written nothing; then the license is read and the conflict decided.
            Act: s => s.Licenses.ActivateAsync(Activation("CR-ACT-2", "GLOBEX"), Staff, Ct),

            // The refused search batch (serial, customer id, the name's two words, the two contacts), and no other write.
            Writes: 1,
            Customers: ["ACME", "GLOBEX"]));

    [Fact]
    public Task The_same_activation_made_again_later_interrupted_at_any_write_and_made_again_leaves_every_row_as_it_was() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-ACT-3", "ACME", onSiteTraining: true), Staff, Ct);
                s.Clock.Advance(Duration.FromHours(1));
            },

            // The activation mail flow reports the same activation again an hour later (and once more after a crash).
            Act: s => s.Licenses.ActivateAsync(Activation("CR-ACT-3", "ACME", onSiteTraining: true), Staff, Ct),

            // The search rows' batch of six, refused since they all exist; the summary is then found (a read), so the add
            // stops before any other row is written, and the license is read and found unchanged.
            Writes: 1,
            Customers: ["ACME"]));

    [Fact]
    public Task A_renewal_interrupted_at_any_write_and_run_again_adds_one_term_and_moves_every_index_row() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-REN-1", "ACME", onSiteTraining: true), Staff, Ct);
                s.Clock.Reset(Instant.FromUtc(2026, 6, 1, 16, 0));
            },
            Act: s => s.Licenses.RenewAsync(Serial.Parse("CR-REN-1"), new RenewalRequest("PO-4711", 12, null), new CommandContext("renewals-desk", "corr-po-4711"), Ct),

            // The reminder rows (the new term's two added and the old term's unconfirmed: one batch), the new expiry row,
            // the latest-events row, the license with its event, the reminder rows confirmed and removed (one batch), the
            // old expiry row retired.
            Writes: 6,
            Customers: ["ACME"]));

    [Fact]
    public Task A_reminder_scan_interrupted_at_any_write_and_run_again_mails_each_reminder_once_and_records_it() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                // Two plans of one customer with the same contacts (one mail for both) and one of another customer.
                await s.Licenses.ActivateAsync(Activation("CR-REM-1", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-REM-2", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-REM-3", "GLOBEX"), Staff, Ct);

                // The 30-day plans start 2026-04-01, which is when their 30-day reminder is due.
                s.Clock.Reset(Instant.FromUtc(2026, 4, 1, 15, 0));
            },
            Act: s => s.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan"), Ct),

            // Per license listed, the proof of its reminder row's copy (a merge of nothing under the copied ETag); per
            // mail, the outbox transaction (message, marker, claims); per license, its reminder rows unconfirmed (one
            // batch), its latest-events row, its record, and its rows confirmed with the sent one removed (one batch).
            Writes: 17,
            Customers: ["ACME", "GLOBEX"]));

    [Fact]
    public Task A_dispatch_run_interrupted_at_any_write_and_run_again_after_the_lease_delivers_each_mail_once() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Outbox.EnqueueAsync(Mail("11111111-1111-4111-8111-111111111111"), MailKinds.Term, [], s.Clock.GetCurrentInstant(), Ct);
                await s.Outbox.EnqueueAsync(Mail("22222222-2222-4222-8222-222222222222"), MailKinds.Term, [], s.Clock.GetCurrentInstant(), Ct);
            },
            Act: s => s.Dispatcher.RunAsync(Ct),

            // Per mail: the lease, the recorded hand-over, the outcome (each one transaction: the message with its markers).
            Writes: 6,

            // A message leased by the dead process is worked on again once its lease has run out. One it had handed over,
            // which the mail service does not know, is sent by the run after the one that first asks (the timer runs
            // each minute).
            RerunAfter: SmpOnTables.Delivery.Lease + Duration.FromMinutes(1),
            Customers: [],
            Rerun: async s =>
            {
                await s.Dispatcher.RunAsync(Ct);
                s.Clock.Advance(Duration.FromMinutes(1));
                await s.Dispatcher.RunAsync(Ct);
            }));

    [Fact]
    public Task A_term_request_interrupted_at_any_write_and_run_again_counts_mails_and_records_it_once() =>
        SweepAsync(new UseCase(
            Arrange: s => s.Licenses.ActivateAsync(Activation("CR-TERM-1", "ACME"), Staff, Ct),

            // Run again means the customer's request arrives again: the same request, the same correlation id.
            Act: s => s.RequestAsync(CustomerRequestKinds.Term, Serial.Parse("CR-TERM-1"), QuoteScope.License, new CommandContext("term-requests", "corr-term-1"), Ct),

            // The client's and the serial's counts, the recorded request; then the route's daily count, the mail,
            // the event, and the request marked done.
            Writes: 10,
            Customers: ["ACME"]));

    [Fact]
    public Task A_quote_request_for_a_customer_interrupted_at_any_write_and_run_again_counts_mails_and_records_it_once() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-QUO-1", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-QUO-2", "ACME"), Staff, Ct);
            },
            Act: s => s.RequestAsync(CustomerRequestKinds.Quote, Serial.Parse("CR-QUO-1"), QuoteScope.Customer, new CommandContext("quote-requests", "corr-quote-1"), Ct),

            // The client's count and the recorded request; then the serial's and the route's daily counts, the
            // desk's mail, the customer's acknowledgement, the requester's event, the other license's daily allowance
            // and its event, and the request marked done.
            Writes: 16,
            Customers: ["ACME"]));

    [Fact]
    public Task A_password_link_request_interrupted_at_any_write_and_run_again_counts_mails_and_records_it_once() =>
        SweepAsync(new UseCase(
            Arrange: ArrangeReleasedUpdateAsync("CR-PWL-1"),
            Act: s => s.RequestAsync(CustomerRequestKinds.PasswordLink, Serial.Parse("CR-PWL-1"), QuoteScope.License, new CommandContext("password-requests", "corr-pwl-1"), Ct, Version),

            // The client's count and the recorded request; then the serial's and the route's daily counts, the link
            // mail, the license's record of it, and the request marked done.
            Writes: 10,
            Customers: ["ACME"]));

    [Fact]
    public Task A_term_request_whose_background_run_is_interrupted_at_any_write_is_done_once_by_the_next_run() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-TBG-1", "ACME"), Staff, Ct);
                await s.AcceptAsync(CustomerRequestKinds.Term, Serial.Parse("CR-TBG-1"), QuoteScope.License, new CommandContext("term-requests", "corr-tbg-1"), Ct);
            },

            // Run again means the timer's next run: the request is not made again.
            Act: s => s.ProcessRequestsAsync(Ct),

            // The serial's and the route's daily counts, the mail, the event, the request marked done.
            Writes: 8,
            Customers: ["ACME"]));

    [Fact]
    public Task A_quote_request_whose_background_run_is_interrupted_at_any_write_is_done_once_by_the_next_run() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-QBG-1", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-QBG-2", "ACME"), Staff, Ct);
                await s.AcceptAsync(CustomerRequestKinds.Quote, Serial.Parse("CR-QBG-1"), QuoteScope.Customer, new CommandContext("quote-requests", "corr-qbg-1"), Ct);
            },
            Act: s => s.ProcessRequestsAsync(Ct),

            // The serial's and the route's daily counts, the desk's mail, the acknowledgement, the requester's event,
            // the other license's daily allowance and its event, the request marked done.
            Writes: 14,
            Customers: ["ACME"]));

    [Fact]
    public Task A_password_link_request_whose_background_run_is_interrupted_at_any_write_is_done_once_by_the_next_run() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await ArrangeReleasedUpdateAsync("CR-PBG-1")(s);
                await s.AcceptAsync(CustomerRequestKinds.PasswordLink, Serial.Parse("CR-PBG-1"), QuoteScope.License, new CommandContext("password-requests", "corr-pbg-1"), Ct, Version);
            },
            Act: s => s.ProcessRequestsAsync(Ct),

            // The serial's and the route's daily counts, the link mail, the license's record of it, the request marked
            // done.
            Writes: 8,
            Customers: ["ACME"]));

    [Fact]
    public Task R14_an_announcement_interrupted_at_any_write_and_run_again_mails_each_license_once_and_records_it() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                // Two licenses of one customer with the same contacts (one mail for both) and one of another customer.
                await s.Licenses.ActivateAsync(Activation("CR-ANN-2", "ACME", onSiteTraining: true), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-ANN-3", "GLOBEX", onSiteTraining: true), Staff, Ct);
                await ArrangeReleasedUpdateAsync("CR-ANN-1")(s);
            },
            Act: async s => Assert.IsType<AnnouncementResult.Announced>(await s.Announcer.AnnounceAsync(UpdateVersion.Parse(Version), new CommandContext("announcements", "corr-announce"), Ct)),

            // Per mail, the outbox transaction (message, marker, claims); per license, its record; then the update marked announced.
            Writes: 15,
            Customers: ["ACME", "GLOBEX"]));

    [Fact]
    public Task R13_a_password_release_interrupted_at_any_write_and_opened_again_records_it_once_and_counts_two_openings() =>
        SweepAsync(new UseCase(
            Arrange: ArrangeReleasedUpdateAsync("CR-REL-1"),

            // Run again means the customer opens the same link again from the same address.
            Act: async s =>
            {
                var serial = Serial.Parse("CR-REL-1");
                var version = UpdateVersion.Parse(Version);
                var link = await s.Links.CreatePasswordLinkAsync(serial, version, Ct);
                var query = System.Web.HttpUtility.ParseQueryString(link.Url.Query);
                var release = await s.Passwords.RevealAsync(serial, version, link.ExpiresAt, query["sig"], "client-hash-1", new CommandContext("customer", "corr-release-1"), Ct);
                Assert.IsType<PasswordRelease.Released>(release);
            },

            // The link's count of openings, its count of release events, then the license's record of the release.
            // The reveal limit counts openings, not passwords shown: the opening that died was one (it bounds what a
            // caller can try); the release itself is recorded once either way.
            Writes: 6,
            Customers: ["ACME"],
            InterruptedRunCounts: true));

    [Fact]
    public Task A_staff_retry_of_a_failed_mail_interrupted_at_any_write_and_made_again_delivers_it_once() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                var mail = Mail("33333333-3333-4333-8333-333333333333");
                await s.Outbox.EnqueueAsync(mail, MailKinds.Term, [], s.Clock.GetCurrentInstant(), Ct);
                s.MailService.RefuseOnce(mail.Id);
                await s.Dispatcher.RunAsync(Ct);
                Assert.Equal(MailStatus.Failed, (await s.Outbox.GetAsync(mail.Id, Ct))!.Message.Status);
            },

            // Staff retry the mail (POST /api/mail/{id}/retry), then the dispatcher's timer runs; after a crash, staff
            // retry again (the mail may already be pending again) and the timer runs again.
            Act: async s =>
            {
                await s.Dispatcher.RetryAsync("33333333-3333-4333-8333-333333333333", Ct);
                await s.Dispatcher.RunAsync(Ct);
            },

            // The mail requeued, then the lease, the recorded hand-over, the outcome: each one transaction (the message
            // with its markers).
            Writes: 4,
            RerunAfter: SmpOnTables.Delivery.Lease + Duration.FromMinutes(1),
            Customers: [],

            // A mail handed over by the dead process, which the mail service does not know, is sent by the timer's run
            // after the one that first asks.
            Rerun: async s =>
            {
                await s.Dispatcher.RetryAsync("33333333-3333-4333-8333-333333333333", Ct);
                await s.Dispatcher.RunAsync(Ct);
                s.Clock.Advance(Duration.FromMinutes(1));
                await s.Dispatcher.RunAsync(Ct);
            }));

    [Fact]
    public Task R9_a_reminder_narrowed_at_dispatch_interrupted_at_any_write_and_run_again_is_stored_narrowed_and_delivered_once() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await ArrangeReminderAsync(s, "CR-NAR-1", "CR-NAR-2");

                // One of the two licenses is renewed before the mail goes out: the reminder still holds for the other.
                await s.Licenses.RenewAsync(Serial.Parse("CR-NAR-1"), new RenewalRequest("PO-NAR-1", 12, null), Staff, Ct);
            },
            Act: async s =>
            {
                await s.Dispatcher.RunAsync(Ct);
                await AssertWithdrawnOnceAsync(s, withdrawn: ["CR-NAR-1"], kept: ["CR-NAR-2"]);
            },

            // The lease, the dropped license's withdrawal (R15: license with its event), the narrowed mail stored before
            // it goes out, the recorded hand-over, the outcome: each outbox change one transaction (the message with its
            // markers).
            Writes: 8,
            RerunAfter: SmpOnTables.Delivery.Lease + Duration.FromMinutes(1),
            Customers: ["ACME"],

            // A mail handed over by the dead process, which the mail service does not know, is sent by the timer's run
            // after the one that first asks.
            Rerun: async s =>
            {
                await s.Dispatcher.RunAsync(Ct);
                s.Clock.Advance(Duration.FromMinutes(1));
                await s.Dispatcher.RunAsync(Ct);
                await AssertWithdrawnOnceAsync(s, withdrawn: ["CR-NAR-1"], kept: ["CR-NAR-2"]);
            }));

    [Fact]
    public Task R9_a_reminder_superseded_at_dispatch_interrupted_at_any_write_and_run_again_is_dropped_and_never_sent() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await ArrangeReminderAsync(s, "CR-SUP-1", "CR-SUP-2");
                await s.Licenses.RenewAsync(Serial.Parse("CR-SUP-1"), new RenewalRequest("PO-SUP-1", 12, null), Staff, Ct);
                await s.Licenses.RenewAsync(Serial.Parse("CR-SUP-2"), new RenewalRequest("PO-SUP-2", 12, null), Staff, Ct);
            },
            Act: async s =>
            {
                await s.Dispatcher.RunAsync(Ct);
                await AssertWithdrawnOnceAsync(s, withdrawn: ["CR-SUP-1", "CR-SUP-2"], kept: []);
            },

            // The lease, each license's withdrawal (R15: license with its event), the mail marked superseded: each
            // outbox change one transaction (the message with its markers).
            Writes: 10,
            RerunAfter: SmpOnTables.Delivery.Lease + Duration.FromMinutes(1),
            Customers: ["ACME"]));

    [Fact]
    public Task R9_a_reminder_of_a_stage_since_removed_from_the_offsets_interrupted_at_any_write_and_run_again_is_withdrawn_once_and_never_sent() =>
        SweepAsync(new UseCase(
            Arrange: s => ArrangeReminderAsync(s, "CR-RMV-1", "CR-RMV-2"),

            // The dispatcher of a process deployed again without the 30-day stage (Smp:Reminders).
            Act: async s =>
            {
                var reconfigured = s.Reconfigured(OnlyNinetyDays);
                await reconfigured.Dispatcher.RunAsync(Ct);
                await AssertWithdrawnOnceAsync(reconfigured, withdrawn: ["CR-RMV-1", "CR-RMV-2"], kept: []);
            },

            // The new configuration of Smp:Reminders recorded (first seen), the lease, each license's withdrawal (its
            // latest-events row, the license with its event), the mail marked superseded: each outbox change one
            // transaction (the message with its markers); and each license's 30-day reminder row for the offsets the
            // index is still built for (90,30): a reminder withdrawn only because its stage is not configured is pending
            // again for offsets that have the stage (R9), so it is indexed for them.
            Writes: 11,
            RerunAfter: SmpOnTables.Delivery.Lease + Duration.FromMinutes(1),
            Customers: ["ACME"],
            ReadReminders: OnlyNinetyDays));

    [Fact]
    public Task R9_a_reminder_index_rebuild_for_new_offsets_interrupted_at_any_write_and_run_again_ends_built_for_them() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-IDX-1", "ACME", onSiteTraining: true), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-IDX-2", "ACME", onSiteTraining: true), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-IDX-3", "GLOBEX", onSiteTraining: true), Staff, Ct);
            },

            // Deployed again with other offsets (Smp:Reminders), rebuilding two licenses a page.
            Act: s => s.Reconfigured(NewOffsets, rebuildPageSize: 2).Store.EnsureReminderIndexAsync(Ct),

            // The new configuration of Smp:Reminders recorded (first seen); the rebuild started; per page, each license's
            // new reminder rows and the progress; the index built for the new offsets.
            Writes: 11,
            Customers: ["ACME", "GLOBEX"],
            ReadReminders: NewOffsets));

    [Fact]
    public Task R13_publishing_an_update_interrupted_at_any_write_and_made_again_stores_its_password_and_release_once() =>
        SweepAsync(new UseCase(
            Arrange: s => s.Licenses.ActivateAsync(Activation("CR-PUB-1", "ACME", onSiteTraining: true), Staff, Ct),

            // Staff publish the update again after a crash (PUT /api/updates/{version}, the same body).
            Act: s => s.Updates.PublishAsync(UpdateVersion.Parse("2026.2"), new LocalDate(2026, 3, 14), "Pw-2026.2-first", Ct),

            // The password in the secret store first, then the update's row saying it has one.
            Writes: 2,
            Customers: ["ACME"]));

    [Fact]
    public Task R13_publishing_an_update_again_with_a_new_password_interrupted_at_any_write_and_made_again_stores_the_new_one() =>
        SweepAsync(new UseCase(
            Arrange: s => s.Updates.PublishAsync(UpdateVersion.Parse("2026.3"), new LocalDate(2026, 3, 14), "Pw-2026.3-first", Ct),

            // A corrected release date and a new password for the same version.
            Act: s => s.Updates.PublishAsync(UpdateVersion.Parse("2026.3"), new LocalDate(2026, 3, 16), "Pw-2026.3-second", Ct),

            // The new password replacing the old one, then the update's row with its new release date.
            Writes: 2,
            Customers: []));

    [Fact]
    public Task R5_training_recorded_and_interrupted_at_any_write_and_recorded_again_is_stored_once() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                // A 30-day plan bought without training.
                await s.Licenses.ActivateAsync(Activation("CR-TRN-1", "ACME"), Staff, Ct);
                s.Clock.Reset(Instant.FromUtc(2026, 4, 20, 16, 0));
            },
            // POST /api/licenses/{serial}/training, made again unchanged after a crash: the 30-day term becomes a full one.
            Act: s => s.Licenses.RecordTrainingAsync(Serial.Parse("CR-TRN-1"), new CommandContext("training-desk", "corr-train-1"), Ct),

            // The reminder rows (the longer term's two added, the 30-day term's one unconfirmed: one batch), the expiry
            // row, the latest-events row, the license with its event, the reminder rows confirmed and the old one removed
            // (one batch), the 30-day term's expiry row retired.
            Writes: 6,
            Customers: ["ACME"]));

    [Fact]
    public Task A_contact_change_interrupted_at_any_write_and_made_again_stores_the_new_contacts_once_and_moves_their_search_rows() =>
        SweepAsync(new UseCase(
            Arrange: s => s.Licenses.ActivateAsync(Activation("CR-CON-1", "ACME", onSiteTraining: true), Staff, Ct),

            // PUT /api/licenses/{serial}/contacts, made again unchanged after a crash.
            Act: s => s.Licenses.ReplaceContactsAsync(
                Serial.Parse("CR-CON-1"),
                [EmailAddress.Parse("it@acme.example"), EmailAddress.Parse("boss@acme.example")],
                new CommandContext("contacts-desk", "corr-contacts-1"),
                Ct),

            // The reminder row unconfirmed, the new contacts' search rows, the latest-events row, the license with its
            // event, the reminder row confirmed, the old contacts' search rows retired.
            Writes: 8,
            Customers: ["ACME"]));

    [Fact]
    public Task Section8_a_search_index_backfill_interrupted_at_any_write_and_run_again_ends_built_with_every_license_findable() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-SRC-1", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-SRC-2", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-SRC-3", "GLOBEX"), Staff, Ct);

                // As stored before search existed: no search rows, no record of the search index.
                var client = azurite.CreateServiceClient();
                var index = client.GetTableClient(s.Tables.Index);
                await foreach (var row in index.QueryAsync<global::Azure.Data.Tables.TableEntity>(select: ["PartitionKey", "RowKey"]))
                {
                    if (row.PartitionKey.StartsWith("search-", StringComparison.Ordinal))
                    {
                        await index.DeleteEntityAsync(row.PartitionKey, row.RowKey);
                    }
                }

                await client.GetTableClient(s.Tables.Licenses).DeleteEntityAsync("~meta", "search-terms-index");
            },

            // The first search after the upgrade, two licenses a page.
            Act: s => s.Reconfigured(s.Reminders, rebuildPageSize: 2).Store.EnsureBuiltAsync(Ct),

            // The process's configuration of Smp:Reminders seen again (its lease, at start-up); per page, each license's
            // six search rows and the progress; then the index recorded as built.
            Writes: 22,
            Customers: ["ACME", "GLOBEX"]));

    [Fact]
    public Task Section8_a_move_of_the_search_rows_from_the_first_layout_interrupted_at_any_write_and_run_again_ends_built_with_every_license_findable() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-SLM-1", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-SLM-2", "ACME"), Staff, Ct);
                await s.Licenses.ActivateAsync(Activation("CR-SLM-3", "GLOBEX"), Staff, Ct);

                // As the first search layout stored them: a partition per kind and first character (row key TERM|SERIAL),
                // and the search index recorded as built, with no record of the layout.
                var client = azurite.CreateServiceClient();
                var index = client.GetTableClient(s.Tables.Index);
                await foreach (var row in index.QueryAsync<global::Azure.Data.Tables.TableEntity>(global::Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {"search-terms"}")))
                {
                    var kindEnd = row.RowKey.IndexOf('|', StringComparison.Ordinal);
                    var rest = row.RowKey[(kindEnd + 1)..];
                    var old = new global::Azure.Data.Tables.TableEntity($"search-{row.RowKey[..kindEnd]}|{rest[..(rest[0] == '~' ? 5 : 1)]}", rest)
                    {
                        ["Serial"] = row.GetString("Serial"),
                        ["Version"] = row.GetInt64("Version"),
                    };
                    await index.AddEntityAsync(old);
                    await index.DeleteEntityAsync(row.PartitionKey, row.RowKey);
                }

                var licenses = client.GetTableClient(s.Tables.Licenses);
                await licenses.DeleteEntityAsync("~meta", "search-terms-index");
                await licenses.UpsertEntityAsync(new global::Azure.Data.Tables.TableEntity("~meta", "search-index") { ["Built"] = true }, global::Azure.Data.Tables.TableUpdateMode.Replace);
            },

            // The one-off search-layout step after the upgrade: the rows rebuilt in the current layout, then the first
            // layout's deleted. Run again, it resumes.
            Act: async s =>
            {
                var move = new global::Smp.Azure.Tables.SearchLayoutMigration(s.Service, s.Tables.Licenses, s.Tables.Index);
                await move.RebuildAsync(null, Ct);
                await move.RunAsync(null, Ct);
            },

            // Each license's six search rows, the progress after the one page and the index recorded as built; then the
            // first layout's rows deleted, a transaction per old partition.
            Writes: 28,
            Customers: ["ACME", "GLOBEX"]));

    [Fact]
    public Task Section10_a_dongle_replacement_interrupted_at_any_write_converges_and_never_shows_a_plan_with_two_current_licenses_or_none() =>
        SweepAsync(new UseCase(
            Arrange: async s =>
            {
                await s.Licenses.ActivateAsync(Activation("CR-RPL-1", "ACME", onSiteTraining: true), Staff, Ct);
                s.Clock.Reset(Instant.FromUtc(2026, 9, 15, 16, 0));
            },

            // POST /api/licenses/{serial}/replacement, made again unchanged after a crash.
            Act: s => s.Licenses.ReplaceAsync(Serial.Parse("CR-RPL-1"), Serial.Parse("CR-RPL-2"), "broken", new CommandContext("support", "corr-replace-1"), Ct),

            // The old license's intent (its pending row, the license with its event, its expiry and two reminder rows
            // retired); the new license (one request per partition written ahead: customer, expiry, the two reminder
            // rows, the six search rows; the license with its first event; its reminder rows confirmed); the old license
            // marked replaced and its pending row retired.
            Writes: 16,
            Customers: ["ACME"],
            Interrupted: AssertOneCurrentLicenseForThePlanAsync));

    [Fact]
    public async Task Section10_two_replacements_of_one_serial_onto_different_serials_at_once_exactly_one_wins()
    {
        for (var round = 0; round < 5; round++)
        {
            var system = SmpOnTables.Create(azurite, Start);
            var old = Serial.Parse($"CR-RACE-{round}");
            await system.Licenses.ActivateAsync(Activation(old.Value, "ACME", onSiteTraining: true), Staff, Ct);
            var second = system.Restart();
            Serial[] targets = [Serial.Parse($"CR-RACE-{round}-A"), Serial.Parse($"CR-RACE-{round}-B")];

            using var start = new Barrier(2);
            var results = await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); return system.Licenses.ReplaceAsync(old, targets[0], null, Staff, Ct); }),
                Task.Run(() => { start.SignalAndWait(); return second.Licenses.ReplaceAsync(old, targets[1], null, Staff, Ct); }));

            var winner = Assert.Single(results, r => r.Outcome == CommandOutcome.Created);
            Assert.Single(results, r => r.Outcome == CommandOutcome.Conflict);
            var replaced = (await system.Store.GetAsync(old, Ct))!.License;
            Assert.Equal(winner.License!.License.Serial, replaced.Replacement!.NewSerial);
            Assert.True(replaced.IsReplaced);
            var loser = targets.Single(t => t != winner.License.License.Serial);
            Assert.Null(await system.Store.GetAsync(loser, Ct));
            var listed = await system.Licenses.ListByCustomerAsync("ACME", Ct);
            Assert.Single(listed, l => l.License.StatusOn(new LocalDate(2026, 9, 15)) == PlanStatus.Current);
        }
    }

    /// <summary>
    /// SPEC section 10, after a crash at any point of a replacement and before anything runs again: every reader of the
    /// new process (the look-up of either serial, the customer's listing, the expiring report) sees the plan under
    /// exactly one current license, on every date it covers.
    /// </summary>
    private static async Task AssertOneCurrentLicenseForThePlanAsync(SmpOnTables s)
    {
        LocalDate[] dates = [new(2026, 9, 15), new(2027, 1, 1), new(2027, 3, 31)];
        var listed = await s.Licenses.ListByCustomerAsync("ACME", Ct);
        var looked = new[] { await s.Licenses.GetAsync(Serial.Parse("CR-RPL-1"), Ct), await s.Licenses.GetAsync(Serial.Parse("CR-RPL-2"), Ct) }.OfType<StoredLicense>().ToList();
        var report = await s.Licenses.ListExpiringPageAsync(new LocalDate(2027, 1, 1), new LocalDate(2027, 12, 31), null, 10, Ct);
        foreach (var date in dates)
        {
            Assert.Single(listed, l => l.License.StatusOn(date) == PlanStatus.Current);
            Assert.Single(looked, l => l.License.StatusOn(date) == PlanStatus.Current);
        }

        Assert.Single(report.Licenses);
    }

    private static readonly ReminderSchedule NewOffsets = new([60, 14]);

    private static readonly ReminderSchedule OnlyNinetyDays = new([90]);

    /// <summary>
    /// R15: each license left out of the reminder mail before delivery keeps its <c>reminderSent</c> event and has
    /// exactly one <c>reminderWithdrawn</c> event naming that mail; the others have none.
    /// </summary>
    private static async Task AssertWithdrawnOnceAsync(SmpOnTables s, string[] withdrawn, string[] kept)
    {
        foreach (var serial in withdrawn.Concat(kept))
        {
            var events = await s.Store.GetEventsAsync(Serial.Parse(serial), Ct);
            var sent = Assert.Single(events, e => e.Type == LicenseEventTypes.ReminderSent);
            var withdrawals = events.Where(e => e.Type == LicenseEventTypes.ReminderWithdrawn).ToList();
            if (withdrawn.Contains(serial))
            {
                Assert.Equal(sent.Data["mailId"], Assert.Single(withdrawals).Data["mailId"]);
            }
            else
            {
                Assert.Empty(withdrawals);
            }
        }
    }

    private const string Version = "2026.1";

    /// <summary>A license of ACME current on 2026-04-10, the day update <see cref="Version"/> is released with a password.</summary>
    private static Func<SmpOnTables, Task> ArrangeReleasedUpdateAsync(string serial) => async s =>
    {
        await s.Licenses.ActivateAsync(Activation(serial, "ACME", onSiteTraining: true), Staff, Ct);
        s.Clock.Reset(Instant.FromUtc(2026, 4, 10, 16, 0));
        await s.PublishUpdateAsync(Version, new LocalDate(2026, 4, 10), Ct);
    };

    /// <summary>Two 30-day plans of ACME with the same contacts, and the scan that enqueued their one 30-day reminder on 2026-04-01.</summary>
    private static async Task ArrangeReminderAsync(SmpOnTables s, string first, string second)
    {
        await s.Licenses.ActivateAsync(Activation(first, "ACME"), Staff, Ct);
        await s.Licenses.ActivateAsync(Activation(second, "ACME"), Staff, Ct);
        s.Clock.Reset(Instant.FromUtc(2026, 4, 1, 15, 0));
        await s.Scan.RunAsync(new CommandContext("reminder-scan", "corr-scan"), Ct);
        Assert.Single(await s.Outbox.ListDueAsync(s.Clock.GetCurrentInstant(), 10, Ct), m => m.Message.Kind == MailKinds.Reminder);
    }

    private static ActivationRequest Activation(string serial, string customerId, bool onSiteTraining = false) => new(
        Serial.Parse(serial),
        null,
        new Customer(customerId, customerId + " Inc."),
        [EmailAddress.Parse($"buyer@{customerId.ToLowerInvariant()}.example"), EmailAddress.Parse($"cad@{customerId.ToLowerInvariant()}.example")],
        onSiteTraining,
        Start - Duration.FromHours(2));

    private static OutgoingMail Mail(string id) => new(
        id,
        SmpOnTables.MailSettings.Sender,
        [EmailAddress.Parse("buyer@acme.example")],
        SmpOnTables.MailSettings.RenewalsDesk,
        "Your maintenance plan",
        "Your plan runs until 1 May 2026.",
        "<p>Your plan runs until 1 May 2026.</p>");

    private async Task SweepAsync(UseCase useCase)
    {
        // The reference: one uninterrupted run, which also tells how many writes the use case makes.
        var counter = new ProcessCrashPolicy();
        var reference = SmpOnTables.Create(azurite, Start, policies: counter);
        await useCase.Arrange(reference);
        counter.Reset();
        await useCase.Act(reference);
        var writes = counter.Writes;
        var expected = await reference.ReadStateAsync(useCase.Customers, useCase.ReadReminders);

        // Where the interrupted run itself legitimately counts once its first write is made, the state after it and
        // a rerun may also be that of two uninterrupted runs.
        var alsoExpected = expected;
        if (useCase.InterruptedRunCounts)
        {
            await useCase.Act(reference);
            alsoExpected = await reference.ReadStateAsync(useCase.Customers, useCase.ReadReminders);
        }

        output.WriteLine($"{writes} writes; {2 * writes} interrupted runs");
        Assert.Equal(useCase.Writes, writes);

        var failures = new List<string>();
        for (var write = 1; write <= writes; write++)
        {
            foreach (var timing in Enum.GetValues<CrashTiming>())
            {
                var crash = new ProcessCrashPolicy();
                var system = SmpOnTables.Create(azurite, Start, policies: crash);
                await useCase.Arrange(system);
                crash.Arm(write, timing);

                var thrown = await Record.ExceptionAsync(() => useCase.Act(system));

                var where = $"crash {timing} write {write} of {writes}";
                if (!crash.Crashed || !IsCrash(thrown))
                {
                    failures.Add($"{where}: the use case did not stop ({thrown?.GetType().Name ?? "no exception"}).");
                    continue;
                }

                system.Clock.Advance(useCase.RerunAfter);
                var restarted = system.Restart();
                if (useCase.Interrupted is { } interrupted)
                {
                    var broken = await Record.ExceptionAsync(() => interrupted(restarted));
                    if (broken is not null)
                    {
                        failures.Add($"{where}, before running again: {broken.Message}");
                    }
                }

                await (useCase.Rerun ?? useCase.Act)(restarted);

                var actual = await restarted.ReadStateAsync(useCase.Customers, useCase.ReadReminders);
                var differences = expected.Differences(actual);
                if (differences.Count > 0 && useCase.InterruptedRunCounts && !(write == 1 && timing == CrashTiming.BeforeWrite))
                {
                    differences = alsoExpected.Differences(actual);
                }

                if (differences.Count > 0)
                {
                    failures.Add($"{where}, then run again:\n  " + string.Join("\n  ", differences));
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.All(expected.Deliveries.Values, n => Assert.Equal(1, n));
    }

    private static bool IsCrash(Exception? e) => e switch
    {
        null => false,
        SimulatedCrashException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsCrash),
        _ => IsCrash(e.InnerException),
    };

    /// <summary>
    /// A use case under test: what must exist before it runs, the run itself (called again, unchanged, by the new
    /// process after a crash), how many storage writes one uninterrupted run makes, when the new process runs, and
    /// the reminder offsets the state is read with (default: the system's own; a use case that changes them names them),
    /// and whether the interrupted run itself legitimately counts once its first write is made (an opening of a password
    /// link counts against the link's daily openings): then a run stopped after that write and run again must end as
    /// two uninterrupted runs do, and one stopped before it as one run does.
    /// </summary>
    /// <para><c>Interrupted</c>, when given, checks what the new process's readers see after the crash, before the run again.</para>
    private sealed record UseCase(Func<SmpOnTables, Task> Arrange, Func<SmpOnTables, Task> Act, int Writes, IReadOnlyList<string> Customers, Duration RerunAfter = default, ReminderSchedule? ReadReminders = null, bool InterruptedRunCounts = false, Func<SmpOnTables, Task>? Interrupted = null, Func<SmpOnTables, Task>? Rerun = null);
}
