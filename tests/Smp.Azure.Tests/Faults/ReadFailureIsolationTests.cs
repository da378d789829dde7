using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.Core.Updates;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// R9 and R14 on the real stores: a license whose record cannot be read (every read of it times out, past the SDK's
/// retries) is reported and retried later; the other customers still get their reminders and announcements. R11: a
/// customer-wide quote whose listing could not read one of the customer's licenses is tried again, never sent without it.
/// </summary>
public sealed class ReadFailureIsolationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Start = Instant.FromUtc(2027, 1, 4, 15, 0);
    private static readonly Serial[] Serials = [Serial.Parse("ISO-1"), Serial.Parse("ISO-2"), Serial.Parse("ISO-3")];
    private static readonly Serial Unreadable = Serials[1];
    private static readonly CommandContext Staff = new("staff", "isolation");

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Times out every point read of <see cref="Unreadable"/>'s license record.</summary>
    private static StorageFault? TimeOutReadsOfUnreadable(string call) =>
        call.StartsWith("GET ", StringComparison.Ordinal) && call.Contains($"PartitionKey='{Unreadable.Value}'", StringComparison.Ordinal)
            ? StorageFault.TimeoutBeforeSending
            : null;

    private async Task UnconfirmReminderRowsAsync(SmpOnTables system, Serial serial)
    {
        var index = azurite.CreateServiceClient().GetTableClient(system.Tables.Index);
        var filter = global::Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {Smp.Azure.Tables.LicenseIndex.RemindersPartition} and Serial eq {serial.Value}");
        var unconfirmed = 0;
        await foreach (var row in index.QueryAsync<global::Azure.Data.Tables.TableEntity>(filter, cancellationToken: Ct))
        {
            await index.UpdateEntityAsync(Smp.Azure.Tables.LicenseEntities.Unconfirmed(new(row.PartitionKey, row.RowKey)), row.ETag, global::Azure.Data.Tables.TableUpdateMode.Merge, Ct);
            unconfirmed++;
        }

        Assert.True(unconfirmed > 0);
    }

    private async Task<(SmpOnTables System, FaultInjectionPolicy Faults)> ActivateAsync()
    {
        var faults = new FaultInjectionPolicy();
        var system = SmpOnTables.Create(azurite, Start, maxRetries: 2, faults);
        for (var n = 0; n < Serials.Length; n++)
        {
            var customer = new Customer($"ISO-CUST-{n}", $"Customer {n}");
            var request = new ActivationRequest(Serials[n], null, customer, [EmailAddress.Parse($"it{n}@customer{n}.example.org")], false, Start - Duration.FromHours(1));
            Assert.NotNull((await system.Licenses.ActivateAsync(request, Staff, Ct)).License);
        }

        return (system, faults);
    }

    [Fact]
    public async Task R9_one_license_whose_record_cannot_be_read_never_stops_the_reminders_of_the_others()
    {
        var (system, faults) = await ActivateAsync();
        var expiresOn = (await system.Store.GetAsync(Serials[0], Ct))!.License.ExpiresOn;
        system.Clock.Reset(expiresOn.PlusDays(-30).AtMidnight().InUtc().ToInstant() + Duration.FromHours(15));

        // Its reminder rows as older code or an index rebuild wrote them, unconfirmed: the listing reads the license.
        await UnconfirmReminderRowsAsync(system, Unreadable);
        faults.Rule = TimeOutReadsOfUnreadable;

        var report = await system.Scan.RunAsync(Staff, Ct);

        Assert.Equal(2, report.MailsEnqueued);
        Assert.Equal(1, report.RemindersFailed);
        Assert.Equal(new[] { Unreadable }, Assert.Single(report.Failures).Serials.ToArray());
        Assert.Equal(2, (await system.Dispatcher.RunAsync(Ct)).Sent);
        var recipients = new List<string>();
        foreach (var id in system.MailService.Deliveries.Keys)
        {
            recipients.AddRange((await system.Outbox.GetAsync(id, Ct))!.Message.Mail.To.Select(a => a.ToString()));
        }

        Assert.Equal(["it0@customer0.example.org", "it2@customer2.example.org"], recipients.Order(StringComparer.Ordinal));

        // Readable again: the next scan sends the reminder it could not send.
        faults.Rule = null;
        var retry = await system.Scan.RunAsync(Staff, Ct);

        Assert.Equal(1, retry.MailsEnqueued);
        Assert.Equal(0, retry.RemindersFailed);
    }

    [Fact]
    public async Task R9_one_license_whose_confirmed_copy_cannot_be_proven_never_stops_the_reminders_of_the_others()
    {
        // The default path: every license's reminder rows confirmed by its activation, so the listing reads no license
        // and proves each copy by a merge of no column into its summary. That proof times out for one license.
        var (system, faults) = await ActivateAsync();
        var expiresOn = (await system.Store.GetAsync(Serials[0], Ct))!.License.ExpiresOn;
        system.Clock.Reset(expiresOn.PlusDays(-30).AtMidnight().InUtc().ToInstant() + Duration.FromHours(15));
        var index = azurite.CreateServiceClient().GetTableClient(system.Tables.Index);
        var filter = global::Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {Smp.Azure.Tables.LicenseIndex.RemindersPartition} and Serial eq {Unreadable.Value}");
        var confirmed = 0;
        await foreach (var row in index.QueryAsync<global::Azure.Data.Tables.TableEntity>(filter, cancellationToken: Ct))
        {
            Assert.False(string.IsNullOrEmpty(row.GetString(Smp.Azure.Tables.LicenseEntities.LicenseETagColumn)));
            confirmed++;
        }

        Assert.True(confirmed > 0);
        faults.Rule = call =>
            !call.StartsWith("GET ", StringComparison.Ordinal) && call.Contains($"licenses(PartitionKey='{Unreadable.Value}'", StringComparison.Ordinal)
                ? StorageFault.TimeoutBeforeSending
                : null;

        var report = await system.Scan.RunAsync(Staff, Ct);

        Assert.True(faults.Injected(StorageFault.TimeoutBeforeSending) > 0); // The proof met the fault.
        Assert.Equal(2, report.MailsEnqueued);
        Assert.Equal(1, report.RemindersFailed);
        Assert.Equal(new[] { Unreadable }, Assert.Single(report.Failures).Serials.ToArray());
        Assert.Equal(2, (await system.Dispatcher.RunAsync(Ct)).Sent);
        var recipients = new List<string>();
        foreach (var id in system.MailService.Deliveries.Keys)
        {
            recipients.AddRange((await system.Outbox.GetAsync(id, Ct))!.Message.Mail.To.Select(a => a.ToString()));
        }

        Assert.Equal(["it0@customer0.example.org", "it2@customer2.example.org"], recipients.Order(StringComparer.Ordinal));

        // Provable again: the next scan sends the reminder it could not send.
        faults.Rule = null;
        var retry = await system.Scan.RunAsync(Staff, Ct);

        Assert.Equal(1, retry.MailsEnqueued);
        Assert.Equal(0, retry.RemindersFailed);
    }

    [Fact]
    public async Task R14_one_license_whose_record_cannot_be_read_never_stops_the_announcement_to_the_others()
    {
        var (system, faults) = await ActivateAsync();
        var version = UpdateVersion.Parse("7.1");
        var published = await system.Updates.PublishAsync(version, system.Clock.GetCurrentInstant().InUtc().Date.PlusDays(-1), "Secret-7.1-password", Ct);
        Assert.True(published.Release.HasPassword);
        faults.Rule = TimeOutReadsOfUnreadable;

        var result = Assert.IsType<AnnouncementResult.Announced>(await system.Announcer.AnnounceAsync(version, Staff, Ct));

        Assert.Equal(2, result.Licenses);
        Assert.Equal(1, result.Failed);
        Assert.Equal([Unreadable], Assert.Single(result.Failures!).Serials);

        faults.Rule = null;
        var again = Assert.IsType<AnnouncementResult.Announced>(await system.Announcer.AnnounceAsync(version, Staff, Ct));
        Assert.Equal(1, again.Licenses);
        Assert.Equal(0, again.Failed);
    }

    [Fact]
    public async Task R11_a_customer_wide_quote_whose_listing_lost_a_license_to_storage_failures_is_tried_again_and_lists_it()
    {
        var faults = new FaultInjectionPolicy();
        var system = SmpOnTables.Create(azurite, Start, maxRetries: 2, faults);
        var customer = new Customer("ISO-QUOTE", "Quote Customer");
        Serial requester = Serial.Parse("ISQ-1"), other = Serial.Parse("ISQ-2");
        foreach (var serial in new[] { requester, other })
        {
            var request = new ActivationRequest(serial, null, customer, [EmailAddress.Parse("it@quote.example.org")], false, Start - Duration.FromHours(1));
            Assert.NotNull((await system.Licenses.ActivateAsync(request, Staff, Ct)).License);
        }

        // The listing's read of the other license fails on every attempt the SDK makes (a storage failure past its
        // retries, as the seeded history met it); later reads succeed.
        var failing = system.MaxRetries + 1;
        faults.Rule = call =>
            call.StartsWith("GET ", StringComparison.Ordinal) && call.Contains($"licenses(PartitionKey='{other.Value}'", StringComparison.Ordinal)
            && Interlocked.Decrement(ref failing) >= 0
                ? StorageFault.ResponseLost
                : null;
        await system.AcceptAsync(CustomerRequestKinds.Quote, requester, QuoteScope.Customer, new CommandContext("quote-requests", "quote-iso"), Ct);

        var first = await system.Requests.ProcessPendingAsync(Ct);
        var again = await system.Requests.ProcessPendingAsync(Ct);

        Assert.Equal(system.MaxRetries + 1, faults.Injected(StorageFault.ResponseLost)); // The listing met the failures.
        Assert.Equal((0, 1), (first.Processed, first.Failed));
        Assert.Equal((1, 0), (again.Processed, again.Failed));
        var asked = (await system.Store.GetEventsAsync(other, Ct)).Where(e => e.Type == LicenseEventTypes.QuoteRequested).ToList();
        var desk = (await system.Outbox.GetAsync(Assert.Single(asked).Data[LicenseEventData.NotificationMailId], Ct))!.Message.Mail;
        Assert.Contains(requester.Value, desk.PlainText, StringComparison.Ordinal);
        Assert.Contains(other.Value, desk.PlainText, StringComparison.Ordinal);
    }
}
