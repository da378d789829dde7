using System.Diagnostics.Metrics;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Observability;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 10 against crashes and races: a replacement that meets a reminder on its way, a password link opened
/// while a replacement is pending, a search after a crash between the writes, and an unreadable pending replacement.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReplacementRaceTests(AzuriteFixture azurite)
{
    private static readonly LocalDate April2026 = new(2026, 4, 1); // one-year plan: 90-day reminder due 2027-01-01

    [Fact]
    public async Task Section10_R9_a_replacement_between_the_scans_enqueue_and_its_record_leaves_exactly_one_90_day_reminder()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string queued;
        using (var crashing = Harness(prefix, InDenver(2026, 3, 20), s => s.Decorate<ILicenseStore>((store, _) => new CrashingLicenseStore(store, crashOnUpdate: 1))))
        {
            await ActivateAsync(crashing, "VT-1001", April2026);
            crashing.Clock.Reset(InDenver(2027, 1, 1));
            // The scan queues VT-1001's reminder, then dies before recording it on the license.
            await Assert.ThrowsAsync<SimulatedCrashException>(() => RunScanAsync(crashing));
            queued = Assert.Single(await UndeliveredAsync(crashing)).Id;
        }

        using var api = Harness(prefix, InDenver(2027, 1, 1, 10));
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);
        await RunScanAsync(api);
        await DispatchAsync(api);
        api.Clock.Reset(InDenver(2027, 1, 2));
        await RunScanAsync(api);
        await DispatchAsync(api);

        var delivered = Assert.Single(PickedUpFiles(api));
        Assert.Equal(queued + ".eml", Path.GetFileName(delivered));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(api, queued)).Status);
        Assert.Contains(("90-day", "sent", queued), (await RemindersAsync(api, "VT-2002")).Select(r => (r.Stage!, r.Status!, r.MailId)));
    }

    [Fact]
    public async Task Section10_R9_R15_a_reminder_queued_for_the_old_serial_after_the_replacement_copied_the_plan_is_withdrawn_and_the_new_serial_gets_it()
    {
        // The scan read VT-1001 before the replacement and queues its reminder only after the replacement copied the
        // plan to VT-2002 without it: that mail is withdrawn at send time, and VT-2002's own reminder is the one.
        var prefix = ApiHarness.UniqueTablePrefix();
        using var api = Harness(prefix, InDenver(2026, 3, 20), s => s.Decorate<IMailOutbox>((outbox, sp) => new ReplaceBeforeFirstReminder(outbox, sp)));
        await ActivateAsync(api, "VT-1001", April2026);
        api.Clock.Reset(InDenver(2027, 1, 1));

        await RunScanAsync(api);
        var stale = Assert.Single(await UndeliveredAsync(api), m => m.Kind == MailKinds.Reminder);
        Assert.Contains("VT-1001", stale.Mail.PlainText, StringComparison.Ordinal);
        await DispatchAsync(api);
        api.Clock.Reset(InDenver(2027, 1, 2));
        await RunScanAsync(api);
        await DispatchAsync(api);

        Assert.Equal(MailStatus.Superseded, (await MessageAsync(api, stale.Id)).Status);
        var delivered = Assert.Single(PickedUpFiles(api));
        var mail = PickedUp(api, Path.GetFileNameWithoutExtension(delivered));
        Assert.Contains("VT-2002", mail.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("VT-1001", mail.TextBody, StringComparison.Ordinal);
        var withdrawn = Assert.Single(await EventsAsync(api, "VT-1001", "reminderWithdrawn"));
        Assert.Equal(stale.Id, Data(withdrawn, "mailId"));
        Assert.Contains("VT-2002", Data(withdrawn, "reason"), StringComparison.Ordinal);
        Assert.Contains(("90-day", "sent"), (await RemindersAsync(api, "VT-2002")).Select(r => (r.Stage!, r.Status!)));
    }

    [Fact]
    public async Task Section10_R13_R15_while_a_replacement_is_pending_the_old_serials_link_gives_no_password()
    {
        using var api = Harness(ApiHarness.UniqueTablePrefix(), Instant.FromUtc(2026, 3, 20, 16, 0));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(training: true));
        await UpdateApi.PublishAsync(api);
        var oldLink = await UpdateApi.LinkAsync(api, serial: "VT-1001");
        await BeginOnlyAsync(api, "VT-1001", "VT-2002"); // step 1 written, then the process died

        var opened = await UpdateApi.OpenAsync(api, oldLink, accept: "application/json");

        Assert.Equal(403, opened.Status);
        Assert.Equal("urn:smp:problem:not-entitled", opened.Json().GetProperty("type").GetString());
        Assert.DoesNotContain(UpdateApi.Password, opened.Body, StringComparison.Ordinal);
        Assert.Empty(await EventsAsync(api, "VT-1001", "passwordReleased"));
    }

    [Fact]
    public async Task Section10_R9_a_reminder_in_the_outbox_when_a_replacement_was_left_pending_is_delivered_once_and_counts_for_the_new_serial()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        string queued;
        using (var crashing = Harness(prefix, InDenver(2026, 3, 20), s => s.Decorate<ILicenseStore>((store, _) => new CrashingLicenseStore(store, crashOnUpdate: 1))))
        {
            await ActivateAsync(crashing, "VT-1001", April2026);
            crashing.Clock.Reset(InDenver(2027, 1, 1));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => RunScanAsync(crashing)); // queued, not recorded
            queued = Assert.Single(await UndeliveredAsync(crashing)).Id;
        }

        using var api = Harness(prefix, InDenver(2027, 1, 1, 10));
        await BeginOnlyAsync(api, "VT-1001", "VT-2002"); // the replacement's intent, then the process died

        await DispatchAsync(api); // the send check meets the pending replacement first
        await RunScanAsync(api);
        await DispatchAsync(api);
        api.Clock.Reset(InDenver(2027, 1, 2));
        await RunScanAsync(api);
        await DispatchAsync(api);

        Assert.Equal(queued + ".eml", Path.GetFileName(Assert.Single(PickedUpFiles(api))));
        Assert.True((await StoredAsync(api, "VT-1001")).IsReplaced);
        Assert.Contains(("90-day", "sent", queued), (await RemindersAsync(api, "VT-2002")).Select(r => (r.Stage!, r.Status!, r.MailId)));
    }

    [Fact]
    public async Task Section10_R13_R15_a_password_whose_release_the_license_refuses_to_record_is_not_shown()
    {
        // The replacement begins between the entitlement check and the record of the release: the record is refused,
        // so the password is not shown (never a password without its release recorded).
        using var api = Harness(ApiHarness.UniqueTablePrefix(), Instant.FromUtc(2026, 3, 20, 16, 0), s => s.Decorate<ILicenseStore>((store, _) => new BeginReplacementBeforeRelease(store)));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(training: true));
        await UpdateApi.PublishAsync(api);

        var opened = await UpdateApi.OpenAsync(api, await UpdateApi.LinkAsync(api, serial: "VT-1001"), accept: "application/json");

        Assert.Equal(403, opened.Status);
        Assert.DoesNotContain(UpdateApi.Password, opened.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("expired", opened.Json().GetProperty("detail").GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await EventsAsync(api, "VT-1001", "passwordReleased"));
    }

    [Fact]
    public async Task Section10_R13_the_old_serials_link_answers_403_without_claiming_the_plan_expired_or_naming_the_new_serial()
    {
        using var api = Harness(ApiHarness.UniqueTablePrefix(), Instant.FromUtc(2026, 3, 20, 16, 0));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(training: true));
        await UpdateApi.PublishAsync(api);
        var oldLink = await UpdateApi.LinkAsync(api, serial: "VT-1001");
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);

        var problem = await UpdateApi.OpenAsync(api, oldLink, accept: "application/json");
        var page = await UpdateApi.OpenAsync(api, oldLink, accept: "text/html");

        Assert.Equal(403, problem.Status);
        Assert.Equal("urn:smp:problem:not-entitled", problem.Json().GetProperty("type").GetString());
        Assert.Equal(403, page.Status);
        foreach (var body in new[] { problem.Json().GetProperty("detail").GetString()!, page.Body })
        {
            Assert.DoesNotContain("expired", body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("VT-2002", body, StringComparison.Ordinal);
            Assert.DoesNotContain(UpdateApi.Password, body, StringComparison.Ordinal);
            Assert.Contains("VT-1001", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Section10_R12_a_term_request_for_the_replaced_serial_mails_the_plans_term_under_its_current_serial_to_the_contacts_on_file()
    {
        using var api = Harness(ApiHarness.UniqueTablePrefix(), Instant.FromUtc(2026, 3, 20, 16, 0));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(training: true));
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);

        Assert.Equal(202, (await CustomerRequestTests.RequestTermAsync(api, """{"serial":"VT-1001"}""")).Status);

        var term = Assert.Single(await UndeliveredAsync(api), m => m.Kind == MailKinds.Term);
        Assert.Contains("VT-2002", term.Mail.Subject, StringComparison.Ordinal);
        Assert.Contains("License VT-2002 replaced dongle VT-1001", term.Mail.PlainText, StringComparison.Ordinal);
        Assert.Equal((await StoredAsync(api, "VT-2002")).Contacts.Select(c => c.Value).Order(), term.Mail.To.Select(c => c.Value).Order());
        Assert.Single(await EventsAsync(api, "VT-2002", "termRequested"));
    }

    [Fact]
    public async Task Section10_R11_a_quote_request_for_the_replaced_serial_quotes_the_plan_under_its_current_serial()
    {
        using var api = Harness(ApiHarness.UniqueTablePrefix(), Instant.FromUtc(2026, 3, 20, 16, 0));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(training: true));
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(api, "VT-1001", """{"newSerial":"VT-2002"}""")).Status);

        Assert.Equal(202, (await CustomerRequestTests.RequestQuoteAsync(api, """{"serial":"VT-1001"}""")).Status);

        var undelivered = await UndeliveredAsync(api);
        var desk = Assert.Single(undelivered, m => m.Kind == MailKinds.QuoteNotification);
        var ack = Assert.Single(undelivered, m => m.Kind == MailKinds.QuoteAcknowledgement);
        Assert.Contains("VT-2002", desk.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-2002", ack.Mail.PlainText, StringComparison.Ordinal);
        Assert.Single(await EventsAsync(api, "VT-2002", "quoteRequested"));
    }

    [Fact]
    public async Task Section10_a_search_after_a_crash_between_the_new_license_and_the_old_ones_mark_never_shows_two_current_licenses()
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        using (var crashing = Harness(prefix, Instant.FromUtc(2026, 3, 20, 16, 0), s => s.Decorate<ILicenseStore>((store, _) => new CrashingLicenseStore(store, crashOnUpdate: 2))))
        {
            await ActivationApiTests.ActivateAsync(crashing, ActivationApiTests.ActivationBody(serial: "VT-5001", customerId: "C-5"));
            // Update 1 is the intent, then the new license is added; update 2 (marking the old one replaced) dies.
            await Assert.ThrowsAsync<SimulatedCrashException>(() => ReplacementApiTests.ReplaceAsync(crashing, "VT-5001", """{"newSerial":"VT-5002"}"""));
        }

        using var api = Harness(prefix, Instant.FromUtc(2026, 3, 20, 17, 0));
        var request = api.Request("GET", "/api/search", query: "q=c-5");
        var response = await ApiHarness.ExecuteAsync(request, await api.Function<SearchFunctions>().SearchLicenses(request, ApiHarness.Context("SearchLicenses")));

        Assert.Equal(200, response.Status);
        var statuses = response.Json().GetProperty("matches").EnumerateArray().ToDictionary(m => m.GetProperty("serial").GetString()!, m => m.GetProperty("status").GetString());
        Assert.Equal("replaced", statuses["VT-5001"]);
        Assert.Single(statuses.Values, s => s == "current");
    }

    [Fact]
    public async Task Section10_one_unreadable_pending_replacement_never_stops_the_expiring_report_and_is_counted()
    {
        var unreadable = new ReportApiTests.FailReadsOf("VT-E2");
        using var api = Harness(ApiHarness.UniqueTablePrefix(), InDenver(2026, 3, 20), s => s.AddSingleton(_ =>
        {
            var options = new TableClientOptions();
            options.Retry.MaxRetries = 0;
            options.AddPolicy(unreadable, global::Azure.Core.HttpPipelinePosition.PerCall);
            return new TableServiceClient(azurite.ConnectionString, options);
        }));
        foreach (var serial in new[] { "VT-E1", "VT-E2", "VT-E3" })
        {
            await ActivateAsync(api, serial, April2026);
        }

        await BeginOnlyAsync(api, "VT-E2", "VT-E9");
        using var counted = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, SmpMetrics.Instruments.ReplacementsUnfinished);
        unreadable.Active = true;

        var request = api.Request("GET", "/api/reports/expiring", query: "from=2027-01-01&to=2027-12-31");
        var report = await api.InvokeAsync(request, "ExpiringReport", c => api.Function<ReportFunctions>().ExpiringReport(request, c));

        Assert.Equal(200, report.Status);
        Assert.Equal(["VT-E1", "VT-E3"], report.Json().GetProperty("licenses").EnumerateArray().Select(l => l.GetProperty("serial").GetString()));
        Assert.Equal(1, counted.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    /// <summary>Writes step 1 of a replacement (the intent) as the service would, and nothing after it: the process died.</summary>
    private static async Task BeginOnlyAsync(ApiHarness api, string serial, string newSerial)
    {
        var store = api.Services.GetRequiredService<ILicenseStore>();
        var stored = (await store.GetAsync(Serial.Parse(serial), CancellationToken.None))!;
        var begun = Assert.IsType<Decision.Change>(PlanDecisions.BeginReplacement(stored.License, Serial.Parse(newSerial), null, api.Clock.GetCurrentInstant(), new CommandContext("support", "corr-crashed")));
        Assert.True(await store.TryUpdateAsync(stored, begun.License, begun.Event, CancellationToken.None));
    }

    private ApiHarness Harness(string prefix, Instant now, Action<IServiceCollection>? services = null) =>
        new(azurite.ConnectionString, now, new Dictionary<string, string?> { ["Smp:TablePrefix"] = prefix }, services);

    /// <summary>
    /// The real license store, except that just before the first password release is recorded, the license's
    /// replacement by VT-2002 begins (its intent is written): the release's write then meets a license being replaced.
    /// </summary>
    private sealed class BeginReplacementBeforeRelease(ILicenseStore inner) : ForwardingLicenseStore(inner)
    {
        private int releases;

        public override async Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken)
        {
            if (newEvent.Type == LicenseEventTypes.PasswordReleased && Interlocked.Increment(ref releases) == 1)
            {
                var begun = Assert.IsType<Decision.Change>(PlanDecisions.BeginReplacement(current.License, Serial.Parse("VT-2002"), null, newEvent.At, new CommandContext("support", "corr-race")));
                Assert.True(await Inner.TryUpdateAsync(current, begun.License, begun.Event, cancellationToken));
            }

            return await Inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);
        }
    }

    /// <summary>
    /// The real outbox, except that just before the first reminder mail is written, VT-1001 is replaced by VT-2002
    /// through the app's own service: the scan read the license before the replacement and writes its mail after it.
    /// </summary>
    private sealed class ReplaceBeforeFirstReminder(IMailOutbox inner, IServiceProvider services) : ForwardingMailOutbox(inner)
    {
        private int reminders;

        public override async Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken)
        {
            if (kind == MailKinds.Reminder && Interlocked.Increment(ref reminders) == 1)
            {
                var replaced = await services.GetRequiredService<LicenseService>().ReplaceAsync(
                    Serial.Parse("VT-1001"), Serial.Parse("VT-2002"), null, new CommandContext("support", "corr-race"), cancellationToken);
                Assert.Equal(CommandOutcome.Created, replaced.Outcome);
            }

            return await Inner.EnqueueAsync(mail, kind, claims, now, cancellationToken);
        }
    }
}
