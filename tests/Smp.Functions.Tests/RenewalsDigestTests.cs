using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Digest;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Functions.Functions;
using Smp.TestSupport;
using Xunit.Abstractions;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 11, through the real composition root on Azurite: the timer mails the renewals desk one digest per ISO
/// week, exactly once whatever runs again, overlaps or crashes after the enqueue, and its reads follow the licenses it
/// lists, not the licenses stored.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RenewalsDigestTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    /// <summary>Monday 7 December 2026, 07:00 in Denver (14:00 UTC, the default schedule): ISO week 2026-W50.</summary>
    private static readonly Instant Monday = InDenver(2026, 12, 7, hour: 7);

    private static Task RunDigestAsync(ApiHarness api) =>
        api.Function<DigestFunctions>().SendRenewalsDigest(new TimerInfo(), ApiHarness.Context(DigestFunctions.FunctionName));

    private static async Task<IReadOnlyList<OutboxMessage>> DigestsAsync(ApiHarness api) =>
        [.. (await UndeliveredAsync(api)).Where(m => m.Kind == MailKinds.Digest)];

    private static async Task RequestQuoteAsync(ApiHarness api, string serial)
    {
        var response = await CustomerRequestTests.RequestQuoteAsync(api, $$"""{"serial":"{{serial}}"}""");
        Assert.Equal(202, response.Status);
        await ProcessCustomerRequestsAsync(api);
    }

    [Fact]
    public async Task Section11_the_timer_enqueues_the_weeks_digest_to_the_desk_with_its_subject_and_both_bodies()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 20));
        await ActivateAsync(api, "VT-SOON", new LocalDate(2026, 1, 1), customerId: "C-1"); // expires 1 January 2027
        await ActivateAsync(api, "VT-LATER", new LocalDate(2026, 6, 1), customerId: "C-2"); // expires 1 June 2027
        api.Clock.Reset(InDenver(2026, 11, 30));
        await RequestQuoteAsync(api, "VT-LATER");
        api.Clock.Reset(Monday);

        await RunDigestAsync(api);

        var digest = Assert.Single(await DigestsAsync(api));
        Assert.Equal(RenewalsDigestService.MailId(IsoWeek.Of(new LocalDate(2026, 12, 7))), digest.Id);
        Assert.Equal([RenewalsDesk], Addresses(digest.Mail.To));
        Assert.Equal("Renewals digest, week 2026-W50", digest.Mail.Subject);
        Assert.Contains("VT-SOON, VTube-LASER, expires on 1 January 2027.", digest.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("https://smp.example.com/console/licenses/VT-SOON", digest.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-LATER, VTube-LASER, expires on 1 June 2027. No reminder sent. Quote requested on 30 November 2026. Not renewed since the quote request.", digest.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://smp.example.com/console/licenses/VT-LATER\">Open VT-LATER in the console</a>", digest.Mail.Html, StringComparison.Ordinal);
        Assert.Contains("<title>Renewals digest, week 2026-W50</title>", digest.Mail.Html, StringComparison.Ordinal);

        await DispatchAsync(api);
        Assert.Equal("Renewals digest, week 2026-W50", PickedUp(api, digest.Id).Subject);
    }

    [Fact]
    public async Task Section11_overlapping_runs_and_runs_later_in_the_week_send_one_digest_and_the_next_week_its_own()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 20));
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));
        api.Clock.Reset(Monday);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => RunDigestAsync(api)));
        await ActivateAsync(api, "VT-2", new LocalDate(2026, 1, 1)); // the lists change; the week's digest does not
        api.Clock.Reset(InDenver(2026, 12, 13, hour: 20)); // Sunday evening: still 2026-W50 in the business zone
        await RunDigestAsync(api);

        var digest = Assert.Single(await DigestsAsync(api));
        Assert.DoesNotContain("VT-2", digest.Mail.PlainText, StringComparison.Ordinal);

        api.Clock.Reset(InDenver(2026, 12, 14, hour: 7));
        await RunDigestAsync(api);
        await RunDigestAsync(api);
        Assert.Equal(["Renewals digest, week 2026-W50", "Renewals digest, week 2026-W51"], (await DigestsAsync(api)).Select(m => m.Mail.Subject).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Section11_a_run_that_dies_after_enqueueing_the_digest_is_followed_by_no_second_one()
    {
        var crashes = 1;
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 20), services: s =>
            s.Decorate<IMailOutbox>((inner, _) => new DiesAfterEnqueue(inner, () => Interlocked.Exchange(ref crashes, 0) == 1)));
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));
        api.Clock.Reset(Monday);

        await Assert.ThrowsAsync<IOException>(() => RunDigestAsync(api));
        Assert.Equal(0, crashes);
        api.Clock.Reset(Monday + Duration.FromHours(2)); // the host runs the timer again after a restart
        await RunDigestAsync(api);
        await RunDigestAsync(api);

        var digest = Assert.Single(await DigestsAsync(api));
        Assert.Contains("VT-1", digest.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section11_a_run_whose_failed_mail_listing_fails_is_followed_by_a_run_that_sends_the_weeks_digest_once()
    {
        var failures = 1;
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 20), services: s =>
            s.Decorate<IMailOutbox>((inner, _) => new FailedListingFailsOnce(inner, () => Interlocked.Exchange(ref failures, 0) == 1)));
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));
        api.Clock.Reset(Monday);

        await Assert.ThrowsAsync<global::Azure.RequestFailedException>(() => RunDigestAsync(api));
        Assert.Empty(await DigestsAsync(api));
        api.Clock.Reset(Monday + Duration.FromMinutes(10)); // the host runs the function again on its retry policy
        await RunDigestAsync(api);
        await RunDigestAsync(api);

        var digest = Assert.Single(await DigestsAsync(api));
        Assert.Equal("Renewals digest, week 2026-W50", digest.Mail.Subject);
        Assert.Contains("VT-1", digest.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section11_a_digest_that_failed_is_listed_as_failed_mail_and_counted_in_the_next_weeks_digest()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Monday);
        await RunDigestAsync(api);
        var stored = Assert.IsType<StoredOutboxMessage>(await Outbox(api).GetAsync(RenewalsDigestService.MailId(IsoWeek.Of(new LocalDate(2026, 12, 7))), CancellationToken.None));
        Assert.NotNull(await Outbox(api).TryUpdateAsync(stored, stored.Message with { Status = MailStatus.Failed, Attempts = 1, LastError = "550 5.1.1 Mailbox does not exist." }, CancellationToken.None));

        var failed = await MailApiTests.ListAsync(api, "status=failed"); // validated against the OpenAPI document
        api.Clock.Reset(InDenver(2026, 12, 14, hour: 7));
        await RunDigestAsync(api);

        Assert.Equal(200, failed.Status);
        Assert.Equal(MailKinds.Digest, Assert.Single(failed.Json().GetProperty("mail").EnumerateArray()).GetProperty("kind").GetString());
        var next = Assert.Single(await DigestsAsync(api));
        Assert.Equal("Renewals digest, week 2026-W51", next.Mail.Subject);
        Assert.Contains("1 message could not be delivered and waits for staff to retry it.", next.Mail.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing to report", next.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section11_a_license_whose_history_cannot_be_read_is_named_and_the_others_are_still_listed()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 20), services: s =>
            s.Decorate<ILicenseStore>((inner, _) => new EventsFailFor(inner, Serial.Parse("VT-BAD"))));
        await ActivateAsync(api, "VT-BAD", new LocalDate(2026, 1, 1), customerId: "C-1");
        await ActivateAsync(api, "VT-GOOD", new LocalDate(2026, 1, 1), customerId: "C-2");
        api.Clock.Reset(Monday);

        await RunDigestAsync(api);

        var digest = Assert.Single(await DigestsAsync(api));
        Assert.Contains("VT-GOOD, VTube-LASER, expires on 1 January 2027.", digest.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("These licenses could not be read and are left out of the lists: VT-BAD.", digest.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section11_a_quote_request_is_listed_under_the_current_license_after_eleven_replacements()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 30));
        await ActivateAsync(api, "VT-C0", new LocalDate(2026, 6, 1)); // expires 1 June 2027: listed only for its quote
        await RequestQuoteAsync(api, "VT-C0");
        await ReplaceChainAsync(api, "VT-C", 11);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        var line = Assert.Single(Assert.Single(digest.Quotes).Licenses);
        Assert.Equal("VT-C11", line.Serial.Value);
        Assert.Equal(new LocalDate(2026, 11, 30), line.QuoteRequestedOn);
        Assert.Empty(digest.Unreadable);
    }

    [Fact]
    public async Task Section11_a_quote_request_behind_a_replacement_chain_longer_than_followed_is_named_as_unreadable_not_dropped()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 30));
        await ActivateAsync(api, "VT-L0", new LocalDate(2026, 6, 1));
        await RequestQuoteAsync(api, "VT-L0");
        await ReplaceChainAsync(api, "VT-L", LicenseService.MaxReplacementHops + 1);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        Assert.Empty(digest.Quotes);
        Assert.Equal(["VT-L0"], digest.Unreadable.Select(s => s.Value));
    }

    [Fact]
    public async Task Section11_a_quote_request_on_a_dongle_two_replacements_back_shows_on_the_expiring_line_of_the_current_license()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 10));
        await ActivateAsync(api, "VT-R0", new LocalDate(2026, 1, 1)); // expires 1 January 2027: expiring on 7 December
        await RequestQuoteAsync(api, "VT-R0"); // in the look-back, before the quote list's 14 days
        await ReplaceChainAsync(api, "VT-R", 2);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        var line = Assert.Single(Assert.Single(digest.Expiring).Licenses);
        Assert.Equal("VT-R2", line.Serial.Value);
        Assert.Equal(new LocalDate(2026, 11, 10), line.QuoteRequestedOn);
        Assert.Null(line.RenewedOn);
        Assert.Empty(digest.Quotes);
        Assert.Empty(digest.Unreadable);
    }

    [Fact]
    public async Task Section11_a_quote_request_two_replacements_back_after_a_renewal_the_same_day_stays_in_the_quotes_list()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 12, 1));
        await ActivateAsync(api, "VT-S0", new LocalDate(2026, 6, 1)); // expires 1 June 2027: listed only for its quote
        Assert.Equal(201, (await LicenseApiTests.RenewAsync(api, "VT-S0", """{"orderReference":"SO-1","months":12}""")).Status);
        api.Clock.Reset(InDenver(2026, 12, 1, hour: 10)); // the customer asks for the next year's quote later that day
        await RequestQuoteAsync(api, "VT-S0");
        await ReplaceChainAsync(api, "VT-S", 2);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        // The renewal was recorded before the request, so the request waits for an answer.
        var line = Assert.Single(Assert.Single(digest.Quotes).Licenses);
        Assert.Equal("VT-S2", line.Serial.Value);
        Assert.Equal(new LocalDate(2026, 12, 1), line.QuoteRequestedOn);
        Assert.Null(line.RenewedOn);
        Assert.Empty(digest.Unreadable);
    }

    [Fact]
    public async Task Section11_a_listed_license_reads_its_quote_back_through_as_many_replacements_as_followed_and_names_the_dongle_beyond()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 10));
        await ActivateAsync(api, "VT-N0", new LocalDate(2026, 1, 1), customerId: "C-N");
        await ActivateAsync(api, "VT-M0", new LocalDate(2026, 1, 1), customerId: "C-M");
        await RequestQuoteAsync(api, "VT-N0");
        await RequestQuoteAsync(api, "VT-M0");
        await ReplaceChainAsync(api, "VT-N", LicenseService.MaxReplacementHops);
        await ReplaceChainAsync(api, "VT-M", LicenseService.MaxReplacementHops + 1);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        var lines = digest.Expiring.SelectMany(c => c.Licenses).ToDictionary(l => l.Serial.Value);
        Assert.Equal(["VT-M17", "VT-N16"], lines.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new LocalDate(2026, 11, 10), lines["VT-N16"].QuoteRequestedOn);
        // The quote request recorded on VT-M0 is beyond the chain followed: VT-M0 is named, never dropped silently, and
        // VT-M17's line says its history before VT-M1 is unknown rather than that no quote was requested.
        Assert.Null(lines["VT-M17"].QuoteRequestedOn);
        Assert.Equal(["VT-M0"], digest.Unreadable.Select(s => s.Value));
        var details = RenewalsDigestMail.Details(lines["VT-M17"]);
        Assert.DoesNotContain("No quote requested", details, StringComparison.Ordinal);
        Assert.Contains("VT-M0", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section11_a_replaced_dongle_whose_history_cannot_be_read_is_named_and_the_current_license_still_listed()
    {
        var failing = false;
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 10), services: s =>
            s.Decorate<ILicenseStore>((inner, _) => new EventsFailFor(inner, Serial.Parse("VT-P0"), () => Volatile.Read(ref failing))));
        await ActivateAsync(api, "VT-P0", new LocalDate(2026, 1, 1));
        await RequestQuoteAsync(api, "VT-P0");
        await ReplaceChainAsync(api, "VT-P", 2);
        Volatile.Write(ref failing, true);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        var line = Assert.Single(Assert.Single(digest.Expiring).Licenses);
        Assert.Equal("VT-P2", line.Serial.Value);
        Assert.Equal(["VT-P0"], digest.Unreadable.Select(s => s.Value));
        // Its line says what is not known instead of guessing, and the mail does not claim the plan was left out.
        var details = RenewalsDigestMail.Details(line);
        Assert.DoesNotContain("No quote requested", details, StringComparison.Ordinal);
        Assert.Contains("VT-P0", details, StringComparison.Ordinal);
        var mail = RenewalsDigestMail.Render(digest, new Uri("https://smp.example/")).PlainText;
        Assert.DoesNotContain("left out of the lists: VT-P0", mail, StringComparison.Ordinal);
        Assert.Contains("VT-P0 (its plan is listed under VT-P2)", mail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section11_a_quote_request_whose_dongle_cannot_be_read_is_not_answered_by_a_renewal_earlier_the_same_day()
    {
        var failing = false;
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 12, 1), services: s =>
            s.Decorate<ILicenseStore>((inner, _) => new EventsFailFor(inner, Serial.Parse("VT-W0"), () => Volatile.Read(ref failing))));
        await ActivateAsync(api, "VT-W0", new LocalDate(2026, 6, 1)); // expires 1 June 2027: listed only for its quote
        Assert.Equal(201, (await LicenseApiTests.RenewAsync(api, "VT-W0", """{"orderReference":"SO-1","months":12}""")).Status);
        api.Clock.Reset(InDenver(2026, 12, 1, hour: 10)); // the customer asks for the next year's quote later that day
        await RequestQuoteAsync(api, "VT-W0");
        await ReplaceChainAsync(api, "VT-W", 2);
        Volatile.Write(ref failing, true);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        // Which came first cannot be told from the day alone: the request stays listed, its line says why.
        var line = Assert.Single(Assert.Single(digest.Quotes).Licenses);
        Assert.Equal("VT-W2", line.Serial.Value);
        Assert.Equal(new LocalDate(2026, 12, 1), line.QuoteRequestedOn);
        Assert.Null(line.RenewedOn);
        Assert.Contains("VT-W0", RenewalsDigestMail.Details(line), StringComparison.Ordinal);
        Assert.Equal(["VT-W0"], digest.Unreadable.Select(s => s.Value));
    }

    [Fact]
    public async Task Section11_a_replacement_that_cannot_be_finished_names_its_serial_in_the_digest_instead_of_dropping_the_plan()
    {
        var failing = true;
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 10), services: s =>
            s.Decorate<ILicenseStore>((inner, _) => new AlteredStore(inner, addFails: l => l.Serial.Value == "VT-U1" && Volatile.Read(ref failing))));
        await ActivateAsync(api, "VT-U0", new LocalDate(2026, 1, 1)); // expires 1 January 2027: expiring on 7 December
        try
        {
            await ReplacementApiTests.ReplaceAsync(api, "VT-U0", """{"newSerial":"VT-U1"}""");
        }
        catch (global::Azure.RequestFailedException)
        {
            // The new license could not be written: the replacement was begun and is left unfinished.
        }

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);
        var mail = RenewalsDigestMail.Render(digest, new Uri("https://smp.example/"));

        Assert.Empty(digest.Expiring);
        Assert.Equal(["VT-U0"], digest.Unreadable.Select(s => s.Value));
        Assert.DoesNotContain("Nothing to report", mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-U0", mail.PlainText, StringComparison.Ordinal);

        // Once storage answers again, the next digest finishes the replacement and lists the plan under the new serial.
        Volatile.Write(ref failing, false);
        var later = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);
        Assert.Equal("VT-U1", Assert.Single(Assert.Single(later.Expiring).Licenses).Serial.Value);
        Assert.Empty(later.Unreadable);
    }

    [Fact]
    public async Task Section11_a_replaced_dongle_whose_replacementOf_names_no_serial_still_gives_its_own_quote_request_to_the_line()
    {
        // VT-B1's replacementOf event reads back with a serial that cannot be understood (once the chain is made).
        var corrupt = false;
        IReadOnlyList<LicenseEvent> Corrupt(Serial serial, IReadOnlyList<LicenseEvent> events) => serial.Value != "VT-B1" || !Volatile.Read(ref corrupt)
            ? events
            : [.. events.Select(e => e.Type == LicenseEventTypes.ReplacementOf ? e with { Data = e.Data.SetItem(LicenseEventData.OldSerial, "not a serial") } : e)];
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 2), services: s =>
            s.Decorate<ILicenseStore>((inner, _) => new AlteredStore(inner, events: Corrupt)));
        await ActivateAsync(api, "VT-B0", new LocalDate(2026, 1, 1)); // expires 1 January 2027: expiring on 7 December
        await ReplaceChainAsync(api, "VT-B", 1);
        api.Clock.Reset(InDenver(2026, 11, 10));
        await RequestQuoteAsync(api, "VT-B1");
        await ReplaceChainAsync(api, "VT-B", 2, from: 1);
        Volatile.Write(ref corrupt, true);

        var digest = await api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);

        var line = Assert.Single(Assert.Single(digest.Expiring).Licenses);
        Assert.Equal("VT-B2", line.Serial.Value);
        Assert.Equal(new LocalDate(2026, 11, 10), line.QuoteRequestedOn);
        Assert.Equal(["VT-B1"], digest.Unreadable.Select(s => s.Value));
    }

    /// <summary>Replaces {prefix}{from} (0 unless given) by the next, that by the next, and so on up to {prefix}{count}.</summary>
    private static async Task ReplaceChainAsync(ApiHarness api, string prefix, int count, int from = 0)
    {
        for (var i = from; i < count; i++)
        {
            var replaced = await ReplacementApiTests.ReplaceAsync(api, $"{prefix}{i}", $$"""{"newSerial":"{{prefix}}{{i + 1}}"}""");
            Assert.Equal(201, replaced.Status);
        }
    }

    [Fact]
    public async Task Section11_an_empty_week_gets_a_digest_that_says_so_in_one_line()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Monday);

        await RunDigestAsync(api);

        var digest = Assert.Single(await DigestsAsync(api));
        Assert.Single(digest.Mail.PlainText.Split('\n'), l => l.StartsWith("Nothing to report this week", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Section11_quote_requests_stay_listed_for_14_days_though_other_requests_are_purged_after_2()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 24));
        await ActivateAsync(api, "VT-Q", new LocalDate(2026, 6, 1)); // expires 1 June 2027: listed only for its quote
        await RequestQuoteAsync(api, "VT-Q");
        var digests = api.Services.GetRequiredService<RenewalsDigestService>();

        api.Clock.Reset(Monday); // 13 days later; the purge of the customer requests runs every minute
        await ProcessCustomerRequestsAsync(api);
        var listed = await digests.ComputeAsync(new LocalDate(2026, 12, 7), CancellationToken.None);
        api.Clock.Reset(InDenver(2026, 12, 9));
        await ProcessCustomerRequestsAsync(api);
        var past = await digests.ComputeAsync(new LocalDate(2026, 12, 9), CancellationToken.None);

        var line = Assert.Single(Assert.Single(listed.Quotes).Licenses);
        Assert.Equal("VT-Q", line.Serial.Value);
        Assert.Equal(new LocalDate(2026, 11, 24), line.QuoteRequestedOn);
        Assert.Empty(past.Quotes);
    }

    [Fact]
    public async Task Section11_the_digest_reads_follow_the_licenses_it_lists_not_the_licenses_stored()
    {
        var counter = new StorageCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2026, 11, 20), services: s =>
            s.AddSingleton(new TableServiceClient(azurite.ConnectionString, options)));
        // Listed: three expiring, one lapsed, one with a quote request. Not listed: plans expiring from May to October 2027.
        foreach (var serial in new[] { "VT-E1", "VT-E2", "VT-E3" })
        {
            await ActivateAsync(api, serial, new LocalDate(2026, 1, 1), customerId: "C-" + serial);
        }

        await ActivateAsync(api, "VT-L1", new LocalDate(2025, 12, 1), customerId: "C-L1");
        await ActivateAsync(api, "VT-Q1", new LocalDate(2026, 5, 1), customerId: "C-Q1");
        api.Clock.Reset(InDenver(2026, 11, 30));
        await RequestQuoteAsync(api, "VT-Q1");
        await AddOutsideTheWindowAsync(api, 0, 20);
        api.Clock.Reset(Monday);
        var digests = api.Services.GetRequiredService<RenewalsDigestService>();
        var today = new LocalDate(2026, 12, 7);
        await digests.ComputeAsync(today, CancellationToken.None); // creates what tables a first use creates

        counter.Reset();
        var few = await digests.ComputeAsync(today, CancellationToken.None);
        var withFew = counter.Snapshot();
        await AddOutsideTheWindowAsync(api, 20, 220);
        counter.Reset();
        var many = await digests.ComputeAsync(today, CancellationToken.None);
        var withMany = counter.Snapshot();
        output.WriteLine($"Digest with 20 licenses outside its window: {withFew}; with 220: {withMany}.");

        Assert.Equal(["VT-E1", "VT-E2", "VT-E3"], few.Expiring.SelectMany(c => c.Licenses).Select(l => l.Serial.Value));
        Assert.Equal(["VT-L1"], few.Lapsed.SelectMany(c => c.Licenses).Select(l => l.Serial.Value));
        Assert.Equal(["VT-Q1"], few.Quotes.SelectMany(c => c.Licenses).Select(l => l.Serial.Value));
        Assert.Equal(Listed(few), Listed(many));
        Assert.Equal(withFew, withMany);
        // Per license listed: its record and its events; besides, the index range, the replacements under way, the quote
        // rows and the failed-mail markers.
        Assert.True(withFew.Requests <= (2 * 5) + 4, $"The digest of 5 licenses made {withFew}.");
    }

    private static string Listed(RenewalsDigest digest) =>
        string.Join(' ', new[] { digest.Expiring, digest.Lapsed, digest.Quotes }.Select(list => string.Join(',', list.SelectMany(c => c.Licenses).Select(l => l.Serial.Value))))
        + " failed " + digest.FailedMail;

    private static async Task AddOutsideTheWindowAsync(ApiHarness api, int from, int to)
    {
        var clock = api.Clock.GetCurrentInstant();
        api.Clock.Reset(InDenver(2026, 11, 20));
        foreach (var chunk in Enumerable.Range(from, to - from).Chunk(8))
        {
            await Task.WhenAll(chunk.Select(i => ActivateAsync(api, $"VT-X{i:D4}", new LocalDate(2026, 5 + (i % 6), 1), customerId: $"C-X{i:D4}")));
        }

        api.Clock.Reset(clock);
    }

    /// <summary>The real store, except that the events of one serial cannot be read (storage failed for good), from when <paramref name="failNow"/> says so.</summary>
    private sealed class EventsFailFor(ILicenseStore inner, Serial failing, Func<bool>? failNow = null) : ILicenseStore
    {
        public Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) =>
            serial == failing && (failNow?.Invoke() ?? true) ? throw new global::Azure.RequestFailedException(503, "The storage service is unavailable.") : inner.GetEventsAsync(serial, cancellationToken);

        public Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) => inner.GetAsync(serial, cancellationToken);

        public Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) => inner.TryAddAsync(license, firstEvent, cancellationToken);

        public Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);

        public Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.UpdateAsync(current, updated, newEvent, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => inner.ListExpiringAsync(from, to, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) => inner.ListExpiringAfterAsync(from, to, after, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => inner.ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(onFailure, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListAllAsync(after, pageSize, onFailure, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }

    /// <summary>
    /// The real store, except that creating a license for which <paramref name="addFails"/> says so fails (storage failed
    /// for good), and the events read are passed through <paramref name="events"/> (a record stored wrong).
    /// </summary>
    private sealed class AlteredStore(
        ILicenseStore inner,
        Func<License, bool>? addFails = null,
        Func<Serial, IReadOnlyList<LicenseEvent>, IReadOnlyList<LicenseEvent>>? events = null) : ILicenseStore
    {
        public Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) =>
            addFails?.Invoke(license) == true ? throw new global::Azure.RequestFailedException(503, "The storage service is unavailable.") : inner.TryAddAsync(license, firstEvent, cancellationToken);

        public async Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken)
        {
            var read = await inner.GetEventsAsync(serial, cancellationToken);
            return events is null ? read : events(serial, read);
        }

        public Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) => inner.GetAsync(serial, cancellationToken);

        public Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);

        public Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.UpdateAsync(current, updated, newEvent, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => inner.ListExpiringAsync(from, to, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) => inner.ListExpiringAfterAsync(from, to, after, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => inner.ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(onFailure, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListAllAsync(after, pageSize, onFailure, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }

    /// <summary>Stands for a process that dies right after the outbox stored a digest: the caller never hears back.</summary>
    private sealed class DiesAfterEnqueue(IMailOutbox inner, Func<bool> dieNow) : IMailOutbox
    {
        public int MaxClaimsPerMessage => inner.MaxClaimsPerMessage;

        public async Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken)
        {
            var result = await inner.EnqueueAsync(mail, kind, claims, now, cancellationToken);
            return kind == MailKinds.Digest && dieNow() ? throw new IOException("The process died after the enqueue.") : result;
        }

        public Task<IReadOnlyDictionary<MailClaim, string>> FindClaimsAsync(IReadOnlyCollection<MailClaim> claims, CancellationToken cancellationToken) => inner.FindClaimsAsync(claims, cancellationToken);

        public Task<StoredOutboxMessage?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken) => inner.ListDueAsync(now, max, cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken) => inner.ListDueAsync(now, max, lane, cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListFailedAsync(CancellationToken cancellationToken) => inner.ListFailedAsync(cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListSupersededAsync(CancellationToken cancellationToken) => inner.ListSupersededAsync(cancellationToken);

        public Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken) => inner.TryUpdateAsync(current, updated, cancellationToken);

        public Task<int> PurgeSentBodiesAsync(Instant queuedBefore, int max, CancellationToken cancellationToken) => inner.PurgeSentBodiesAsync(queuedBefore, max, cancellationToken);
    }

    /// <summary>Stands for storage failing past the client's retries once, on the failed-mail listing the digest counts.</summary>
    private sealed class FailedListingFailsOnce(IMailOutbox inner, Func<bool> failNow) : IMailOutbox
    {
        public int MaxClaimsPerMessage => inner.MaxClaimsPerMessage;

        public Task<EnqueueResult> EnqueueAsync(OutgoingMail mail, string kind, IReadOnlyCollection<MailClaim> claims, Instant now, CancellationToken cancellationToken) => inner.EnqueueAsync(mail, kind, claims, now, cancellationToken);

        public Task<IReadOnlyDictionary<MailClaim, string>> FindClaimsAsync(IReadOnlyCollection<MailClaim> claims, CancellationToken cancellationToken) => inner.FindClaimsAsync(claims, cancellationToken);

        public Task<StoredOutboxMessage?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, CancellationToken cancellationToken) => inner.ListDueAsync(now, max, cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListDueAsync(Instant now, int max, MailLane lane, CancellationToken cancellationToken) => inner.ListDueAsync(now, max, lane, cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListFailedAsync(CancellationToken cancellationToken) =>
            failNow() ? throw new global::Azure.RequestFailedException(503, "The storage service is unavailable.") : inner.ListFailedAsync(cancellationToken);

        public Task<IReadOnlyList<StoredOutboxMessage>> ListSupersededAsync(CancellationToken cancellationToken) => inner.ListSupersededAsync(cancellationToken);

        public Task<StoredOutboxMessage?> TryUpdateAsync(StoredOutboxMessage current, OutboxMessage updated, CancellationToken cancellationToken) => inner.TryUpdateAsync(current, updated, cancellationToken);

        public Task<int> PurgeSentBodiesAsync(Instant queuedBefore, int max, CancellationToken cancellationToken) => inner.PurgeSentBodiesAsync(queuedBefore, max, cancellationToken);
    }

    private sealed record StorageCounts(int Requests, int Reads, int EntitiesRead)
    {
        public override string ToString() => $"{Requests} requests, {Reads} of them reads returning {EntitiesRead} entities";
    }

    /// <summary>Counts requests, reads (GET) and the entities they returned: one for a point read, the rows of a query page.</summary>
    private sealed class StorageCounter : HttpPipelineSynchronousPolicy
    {
        private int requests;
        private int reads;
        private int entities;

        public void Reset()
        {
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref reads, 0);
            Interlocked.Exchange(ref entities, 0);
        }

        public StorageCounts Snapshot() => new(Volatile.Read(ref requests), Volatile.Read(ref reads), Volatile.Read(ref entities));

        public override void OnReceivedResponse(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            if (message.Request.Method != RequestMethod.Get)
            {
                return;
            }

            Interlocked.Increment(ref reads);
            if (message.Response.Status == 200)
            {
                using var json = JsonDocument.Parse(message.Response.Content);
                Interlocked.Add(ref entities, json.RootElement.TryGetProperty("value", out var rows) && rows.ValueKind == JsonValueKind.Array ? rows.GetArrayLength() : 1);
            }
        }
    }
}
