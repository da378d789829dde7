using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Requests;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5: nothing an anonymous caller chooses (a correlation id, a version, an <c>X-Forwarded-For</c>
/// entry) buys more mail or more audit events than the limits allow.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AnonymousLimitsTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly ApiHarness _api = new(azurite.ConnectionString, Now);

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Section5_one_correlation_id_repeated_with_other_versions_gets_at_most_three_link_mails_a_day_and_never_a_second_copy()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        var versions = Enumerable.Range(0, 8).Select(i => $"1.9{i}").ToList();
        foreach (var version in versions)
        {
            await UpdateApi.PublishAsync(_api, version, releasedOn: "2026-03-16", password: "pw-" + version);
        }

        foreach (var version in versions.Concat(versions))
        {
            var response = await UpdateApi.RequestLinkWithIdAsync(_api, $$"""{"serial":"VT-1001","version":"{{version}}"}""", "same-request-1");
            Assert.Equal(202, response.Status);
        }

        var links = (await UpdateApi.PendingMailAsync(_api)).Where(m => m.Kind == MailKinds.PasswordLink).ToList();
        Assert.Equal(3, links.Count);
        Assert.Equal(3, links.Select(m => m.Mail.Subject).Distinct().Count()); // three different versions, no copy twice
        Assert.Equal(3, (await UpdateApi.EventsAsync(_api, "VT-1001")).Count(e => e.GetProperty("type").GetString() == "passwordLinkRequested"));
    }

    [Fact]
    public async Task Section5_made_up_or_unreleased_versions_never_use_up_a_serials_password_link_allowance()
    {
        var limit = new AnonymousLimits().PerSerialPerDay;
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api, "1.99", releasedOn: "2026-04-30", password: "pw-later"); // published, not released yet
        var released = Enumerable.Range(0, limit + 2).Select(i => $"1.9{i}").ToList();
        foreach (var version in released)
        {
            await UpdateApi.PublishAsync(_api, version, releasedOn: "2026-03-16", password: "pw-" + version);
        }

        // More asks than the serial's allowance, for versions that do not exist or are not released, from several addresses.
        var junk = Enumerable.Range(1, limit + 2).Select(i => $"7.0{i}").Append("1.99").ToList();
        var i = 0;
        foreach (var version in junk)
        {
            Assert.Equal(202, (await PostAsync(_api, "password-requests", "VT-1001", $"198.51.100.{++i}", version)).Status);
        }

        await ProcessCustomerRequestsAsync(_api);
        Assert.Equal(202, (await PostAsync(_api, "password-requests", "VT-1001", "203.0.113.7", released[0])).Status);
        var links = (await UpdateApi.PendingMailAsync(_api)).Where(m => m.Kind == MailKinds.PasswordLink).ToList();
        Assert.Single(links);
        Assert.Contains(released[0], links[0].Mail.Subject, StringComparison.Ordinal);

        // A flood of real released versions still gets the serial's few link mails a day, never more.
        foreach (var version in released.Concat(released))
        {
            Assert.Equal(202, (await PostAsync(_api, "password-requests", "VT-1001", "203.0.113.8", version)).Status);
        }

        links = [.. (await UpdateApi.PendingMailAsync(_api)).Where(m => m.Kind == MailKinds.PasswordLink)];
        Assert.Equal(limit, links.Count);
        Assert.Equal(limit, links.Select(m => m.Mail.Subject).Distinct().Count());
        Assert.Equal(limit, (await UpdateApi.EventsAsync(_api, "VT-1001")).Count(e => e.GetProperty("type").GetString() == "passwordLinkRequested"));
    }

    [Fact]
    public async Task Section5_twenty_five_openings_of_one_link_with_forged_forwarded_addresses_add_one_release_event()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api);
        var link = await UpdateApi.LinkAsync(_api);

        for (var i = 0; i < 25; i++)
        {
            // The caller writes what it likes before the entry the platform's front end appends.
            await UpdateApi.OpenAsync(_api, link, forwardedFor: $"198.51.100.{i}, 203.0.113.7");
        }

        Assert.Single(await UpdateApi.EventsAsync(_api, "VT-1001"), e => e.GetProperty("type").GetString() == "passwordReleased");
    }

    [Fact]
    public async Task Section5_a_link_opened_from_many_addresses_adds_a_bounded_number_of_release_events_and_its_reveals_are_limited_per_day()
    {
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(_api);
        var link = await UpdateApi.LinkAsync(_api);

        var statuses = new List<int>();
        for (var i = 0; i < 25; i++)
        {
            statuses.Add((await UpdateApi.OpenAsync(_api, link, accept: "application/json", forwardedFor: $"203.0.113.{i}")).Status);
        }

        Assert.Equal(Enumerable.Repeat(200, 20).Concat(Enumerable.Repeat(429, 5)), statuses);
        var released = (await UpdateApi.EventsAsync(_api, "VT-1001")).Count(e => e.GetProperty("type").GetString() == "passwordReleased");
        Assert.Equal(3, released);

        _api.Clock.Reset(Now.Plus(Duration.FromDays(1)));
        Assert.Equal(200, (await UpdateApi.OpenAsync(_api, link, accept: "application/json", forwardedFor: "203.0.113.99")).Status);
    }

    [Theory]
    [InlineData("term-requests")]
    [InlineData("quote-requests")]
    [InlineData("password-requests")]
    public async Task Section5_an_anonymous_request_makes_the_same_storage_calls_whether_or_not_the_serial_exists(string route)
    {
        var calls = new StorageCallLog();
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton(_ =>
        {
            var options = new TableClientOptions();
            options.AddPolicy(calls, HttpPipelinePosition.PerCall);
            return new TableServiceClient(azurite.ConnectionString, options);
        }));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(api);
        await PostAsync(api, route, "WARM-1", "192.0.2.1"); // the route's daily counter exists for both requests below

        calls.Clear();
        await PostAsync(api, route, "VT-1001", "192.0.2.2");
        var known = calls.Take();
        await PostAsync(api, route, "NOPE-404", "192.0.2.3");
        var unknown = calls.Take();

        Assert.NotEmpty(known);
        Assert.Equal(known, unknown);
        Assert.DoesNotContain(known, c => c.Contains("licenses", StringComparison.Ordinal) || c.Contains("mailoutbox", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("term-requests")]
    [InlineData("quote-requests")]
    [InlineData("password-requests")]
    public async Task Section5_a_repeated_request_makes_the_same_storage_calls_as_a_fresh_one_for_known_and_unknown_serials(string route)
    {
        var calls = new StorageCallLog();
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton(_ =>
        {
            var options = new TableClientOptions();
            options.AddPolicy(calls, HttpPipelinePosition.PerCall);
            return new TableServiceClient(azurite.ConnectionString, options);
        }));
        await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody());
        await UpdateApi.PublishAsync(api);
        // Each client below has asked something else today already, so its own counter exists before every request.
        foreach (var client in new[] { 10, 11, 12 })
        {
            await PostAsync(api, route, $"WARM-{client}", $"192.0.2.{client}");
        }

        var observed = new Dictionary<string, List<string>>();
        async Task Observe(string name, string serial, string client)
        {
            calls.Clear();
            await PostAsync(api, route, serial, client);
            observed[name] = calls.Take();
        }

        await Observe("known, fresh", "VT-1001", "192.0.2.10");
        await Observe("known, repeated by the same client", "VT-1001", "192.0.2.10");
        await Observe("known, repeated a second time", "VT-1001", "192.0.2.10");
        await Observe("known, asked before by another client", "VT-1001", "192.0.2.11");
        await Observe("unknown, fresh", "NOPE-404", "192.0.2.12");
        await Observe("unknown, repeated by the same client", "NOPE-404", "192.0.2.12");
        await Observe("unknown, asked before by another client", "NOPE-404", "192.0.2.11");

        var fresh = observed["known, fresh"];
        Assert.NotEmpty(fresh);
        Assert.Contains(fresh, c => c.StartsWith("PUT ", StringComparison.Ordinal)); // the client's counter is written
        foreach (var (name, seen) in observed)
        {
            Assert.True(fresh.SequenceEqual(seen), $"{name}: [{string.Join(", ", seen)}] differs from a fresh request's [{string.Join(", ", fresh)}]");
        }
    }

    [Fact]
    public async Task Section5_a_client_address_gets_a_capped_number_of_requests_a_day_checked_before_anything_is_written()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:AnonymousLimits:PerClientPerDay"] = "2" });
        foreach (var serial in new[] { "VT-1", "VT-2", "VT-3" })
        {
            await ActivateAsync(api, serial, new LocalDate(2026, 1, 1));
        }

        foreach (var serial in new[] { "VT-1", "VT-2", "VT-3" })
        {
            Assert.Equal(202, (await PostAsync(api, "term-requests", serial, "198.51.100.1, 203.0.113.7")).Status);
        }

        Assert.Equal(2, (await UndeliveredAsync(api)).Count(m => m.Kind == MailKinds.Term));
        Assert.Empty(await EventsAsync(api, "VT-3", "termRequested"));

        // Another address still gets its own allowance.
        Assert.Equal(202, (await PostAsync(api, "term-requests", "VT-3", "203.0.113.8")).Status);
        Assert.Equal(3, (await UndeliveredAsync(api)).Count(m => m.Kind == MailKinds.Term));
    }

    [Fact]
    public async Task Section5_each_route_that_causes_mail_has_a_global_daily_cap()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:AnonymousLimits:QuoteRequestsPerDay"] = "2" });
        foreach (var serial in new[] { "VT-1", "VT-2", "VT-3" })
        {
            await ActivateAsync(api, serial, new LocalDate(2026, 1, 1));
        }

        var i = 0;
        foreach (var serial in new[] { "VT-1", "VT-2", "VT-3" })
        {
            Assert.Equal(202, (await PostAsync(api, "quote-requests", serial, $"203.0.113.{++i}")).Status);
        }

        Assert.Equal(2, (await UndeliveredAsync(api)).Count(m => m.Kind == MailKinds.QuoteNotification));
        Assert.Equal(202, (await PostAsync(api, "term-requests", "VT-3", "203.0.113.9")).Status); // other routes have their own cap
        Assert.Single(await UndeliveredAsync(api), m => m.Kind == MailKinds.Term);
    }

    [Theory]
    [InlineData("term-requests", "TermRequestsPerDay", MailKinds.Term)]
    [InlineData("quote-requests", "QuoteRequestsPerDay", MailKinds.QuoteNotification)]
    [InlineData("password-requests", "PasswordRequestsPerDay", MailKinds.PasswordLink)]
    public async Task Section5_made_up_serials_from_many_addresses_above_the_global_cap_leave_a_real_customers_mail_sent(string route, string cap, string kind)
    {
        const int globalCap = 4, perClient = 2;
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?>
        {
            ["Smp:AnonymousLimits:" + cap] = globalCap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Smp:AnonymousLimits:PerClientPerDay"] = perClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));
        await UpdateApi.PublishAsync(api);

        // Three times the day's cap of well-formed requests for serials no license has, each address at its own cap.
        for (var i = 0; i < 3 * globalCap; i++)
        {
            Assert.Equal(202, (await PostAsync(api, route, $"MADE-UP-{i}", $"198.51.100.{i / perClient}")).Status);
        }

        await ProcessCustomerRequestsAsync(api);
        Assert.Equal(202, (await PostAsync(api, route, "VT-1", "203.0.113.7")).Status);

        Assert.Single(await UndeliveredAsync(api), m => m.Kind == kind);
    }

    [Theory]
    [InlineData("term-requests", "TermRequestsPerDay", MailKinds.Term)]
    [InlineData("quote-requests", "QuoteRequestsPerDay", MailKinds.QuoteNotification)]
    [InlineData("password-requests", "PasswordRequestsPerDay", MailKinds.PasswordLink)]
    public async Task Section5_mail_caused_by_a_route_stays_within_its_global_daily_cap_when_unknown_serials_are_mixed_in(string route, string cap, string kind)
    {
        const int globalCap = 2;
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:AnonymousLimits:" + cap] = "2" });
        var serials = new[] { "VT-1", "VT-2", "VT-3", "VT-4" };
        foreach (var serial in serials)
        {
            await ActivateAsync(api, serial, new LocalDate(2026, 1, 1), customerId: "C-" + serial);
        }

        await UpdateApi.PublishAsync(api);
        var i = 0;
        foreach (var serial in serials)
        {
            Assert.Equal(202, (await PostAsync(api, route, "MADE-UP-" + serial, $"198.51.100.{++i}")).Status);
            Assert.Equal(202, (await PostAsync(api, route, serial, $"203.0.113.{i}")).Status);
            await ProcessCustomerRequestsAsync(api);
        }

        // The next day has its own allowance.
        _ = await UndeliveredAsync(api);
        api.Clock.Reset(Now.Plus(Duration.FromDays(1)));
        Assert.Equal(202, (await PostAsync(api, route, "VT-4", "203.0.113.9")).Status);

        var sent = (await UndeliveredAsync(api)).Where(m => m.Kind == kind).ToList();
        Assert.Equal(globalCap + 1, sent.Count);
        var events = 0;
        foreach (var serial in serials)
        {
            events += (await UpdateApi.EventsAsync(api, serial)).Count(e => e.GetProperty("type").GetString() is "termRequested" or "quoteRequested" or "passwordLinkRequested");
        }

        Assert.Equal(globalCap + 1, events);
    }

    [Fact]
    public async Task Section5_a_crash_between_recording_and_finishing_a_request_loses_nothing_and_sends_nothing_twice()
    {
        var crashes = 1;
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.Decorate<ICustomerRequestQueue>((inner, _) => new CrashOnceWhenDone(inner, () => Interlocked.Exchange(ref crashes, 0) == 1)));
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));

        Assert.Equal(202, (await PostAsync(api, "term-requests", "VT-1", "203.0.113.7")).Status);
        await ProcessCustomerRequestsAsync(api); // mails and records, then dies before marking the request done
        Assert.Equal(0, crashes);
        await ProcessCustomerRequestsAsync(api); // the next run acts on it again

        Assert.Single(await UndeliveredAsync(api), m => m.Kind == MailKinds.Term);
        Assert.Single(await EventsAsync(api, "VT-1", "termRequested"));
        Assert.Empty(await api.Services.GetRequiredService<ICustomerRequestQueue>().ListPendingAsync(Instant.MaxValue, 10, CancellationToken.None));
    }

    [Fact]
    public async Task Section5_customer_scope_quotes_through_every_serial_of_a_customer_stay_within_each_license_limit_and_the_desks()
    {
        var limit = new AnonymousLimits().PerSerialPerDay;
        var serials = Enumerable.Range(1, 8).Select(i => $"VT-{i}").ToArray();
        foreach (var serial in serials)
        {
            await ActivateAsync(_api, serial, new LocalDate(2026, 1, 1));
        }

        var i = 0;
        foreach (var serial in serials)
        {
            var request = _api.Request("POST", "/api/quote-requests", $$"""{"serial":"{{serial}}","scope":"customer"}""");
            request.Headers["X-Forwarded-For"] = $"203.0.113.{++i}";
            var result = await _api.Function<CustomerRequestFunctions>().RequestQuote(request, ApiHarness.Context("RequestQuote"));
            Assert.Equal(202, (await ApiHarness.ExecuteAsync(request, result)).Status);
            await ProcessCustomerRequestsAsync(_api);
        }

        // Each request is its own serial's ask, within that serial's allowance: the desk hears of each once (R11).
        // Asks made through the other serials add at most the per-serial limit of events to each license, and use up
        // none of its own allowance.
        var toDesk = (await UndeliveredAsync(_api)).Count(m => m.Mail.To.Any(a => string.Equals(a.Value, RenewalsDesk, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(serials.Length, toDesk);
        foreach (var serial in serials)
        {
            var events = await EventsAsync(_api, serial, "quoteRequested");
            Assert.Single(events, e => Data(e, "requestedFor") == serial);
            Assert.Equal(limit, events.Count(e => Data(e, "requestedFor") != serial));
        }
    }

    [Fact]
    public async Task Section5_a_serials_allowance_of_its_day_holds_when_the_background_work_acts_on_it_days_later_over_several_runs()
    {
        var limit = new AnonymousLimits().PerSerialPerDay;
        await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody());
        var versions = Enumerable.Range(0, 2 * limit).Select(i => $"1.9{i}").ToList();
        foreach (var version in versions)
        {
            await UpdateApi.PublishAsync(_api, version, releasedOn: "2026-03-16", password: "pw-" + version);
        }

        // Half the asks, then more requests than one run of the background work takes (100), then the other half.
        foreach (var version in versions.Take(limit))
        {
            Assert.Equal(202, (await PostAsync(_api, "password-requests", "VT-1001", "203.0.113.7", version)).Status);
        }

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(202, (await PostAsync(_api, "term-requests", $"JUNK-{i}", $"198.51.100.{i / 20}")).Status);
        }

        foreach (var version in versions.Skip(limit))
        {
            Assert.Equal(202, (await PostAsync(_api, "password-requests", "VT-1001", "203.0.113.8", version)).Status);
        }

        // The background work was down for two days: it catches up in two runs, each of which purges past days.
        _api.Clock.Reset(Now.Plus(Duration.FromDays(2)));
        await ProcessCustomerRequestsAsync(_api);
        await ProcessCustomerRequestsAsync(_api);

        var links = (await UndeliveredAsync(_api)).Where(m => m.Kind == MailKinds.PasswordLink).ToList();
        Assert.Equal(limit, links.Count);
        Assert.Equal(limit, (await EventsAsync(_api, "VT-1001", "passwordLinkRequested")).Count);
        var day = NodaTime.Text.LocalDatePattern.Iso.Format(new LocalDate(2026, 3, 20));
        Assert.Contains(await LimitRowsAsync(_api), r => r.PartitionKey == day);

        // Limit rows still expire: once no request of that day can be acted on any more, its counters go.
        _api.Clock.Reset(Now.Plus(Duration.FromDays(CustomerRequests.MaxAgeDays + 1)));
        await ProcessCustomerRequestsAsync(_api);
        Assert.DoesNotContain(await LimitRowsAsync(_api), r => r.PartitionKey == day);
    }

    [Fact]
    public async Task Section5_customer_scope_quotes_through_other_serials_never_use_up_a_licenses_own_quote_allowance()
    {
        var limit = new AnonymousLimits().PerSerialPerDay;
        var serials = Enumerable.Range(1, limit + 1).Select(i => $"VT-{i}").ToArray();
        foreach (var serial in serials)
        {
            await ActivateAsync(_api, serial, new LocalDate(2026, 1, 1), contacts: [$"{serial.ToLowerInvariant()}@example.com"]);
        }

        // Customer-scope quotes through every other license of the customer, from as many addresses.
        var i = 0;
        foreach (var serial in serials[..^1])
        {
            Assert.Equal(202, (await PostQuoteAsync(_api, serial, "customer", $"198.51.100.{++i}")).Status);
        }

        await ProcessCustomerRequestsAsync(_api);

        // The last license's own contact asks for a quote of that license only: acknowledged, and the desk hears of it.
        var own = serials[^1];
        var contact = $"{own.ToLowerInvariant()}@example.com";
        Assert.Equal(202, (await PostQuoteAsync(_api, own, "license", "203.0.113.44")).Status);
        var mail = await UndeliveredAsync(_api);
        Assert.Single(mail, m => m.Kind == MailKinds.QuoteAcknowledgement && m.Mail.To.Any(a => a.Value == contact));
        Assert.Single(mail, m => m.Kind == MailKinds.QuoteNotification && m.Mail.ReplyTo?.Value == contact);
        var events = await EventsAsync(_api, own, "quoteRequested");
        Assert.Single(events, e => Data(e, "requestedFor") == own);
        Assert.Equal(limit, events.Count(e => Data(e, "requestedFor") != own));
    }

    private static async Task<List<TableEntity>> LimitRowsAsync(ApiHarness api)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in api.Services.GetRequiredService<TableServiceClient>().GetTableClient(api.TablePrefix + "ratelimits").QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        return rows;
    }

    private static async Task<ApiResponse> PostQuoteAsync(ApiHarness api, string serial, string scope, string forwardedFor)
    {
        var request = api.Request("POST", "/api/quote-requests", $$"""{"serial":"{{serial}}","scope":"{{scope}}"}""");
        request.Headers["X-Forwarded-For"] = forwardedFor;
        var result = await api.Function<CustomerRequestFunctions>().RequestQuote(request, ApiHarness.Context("RequestQuote"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    private static async Task<ApiResponse> PostAsync(ApiHarness api, string route, string serial, string forwardedFor, string version = "1.96")
    {
        var body = route == "password-requests" ? $$"""{"serial":"{{serial}}","version":"{{version}}"}""" : $$"""{"serial":"{{serial}}"}""";
        var request = api.Request("POST", "/api/" + route, body);
        request.Headers["X-Forwarded-For"] = forwardedFor;
        var result = route switch
        {
            "term-requests" => await api.Function<CustomerRequestFunctions>().RequestTerm(request, ApiHarness.Context("RequestTerm")),
            "quote-requests" => await api.Function<CustomerRequestFunctions>().RequestQuote(request, ApiHarness.Context("RequestQuote")),
            _ => await api.Function<PasswordFunctions>().RequestPasswordLink(request, ApiHarness.Context("RequestPasswordLink")),
        };
        return await ApiHarness.ExecuteAsync(request, result);
    }

    /// <summary>Records each storage call as its method and table (the path without the account and keys).</summary>
    private sealed class StorageCallLog : HttpPipelineSynchronousPolicy
    {
        private readonly ConcurrentQueue<string> calls = new();

        public override void OnSendingRequest(HttpMessage message)
        {
            var path = message.Request.Uri.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var table = path.Length > 1 ? path[1].Split('(')[0] : string.Empty;
            calls.Enqueue($"{message.Request.Method} {table}");
        }

        public void Clear() => calls.Clear();

        public List<string> Take()
        {
            var taken = calls.ToList();
            calls.Clear();
            return taken;
        }
    }

    /// <summary>The process dies when it first marks a request done: nor can it record that attempt as failed.</summary>
    private sealed class CrashOnceWhenDone(ICustomerRequestQueue inner, Func<bool> crashNow) : ForwardingCustomerRequestQueue(inner)
    {
        private volatile bool dead;

        public override Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, CancellationToken cancellationToken)
        {
            dead = false; // A run of the timer: a new process.
            return Inner.ListPendingAsync(now, max, cancellationToken);
        }

        public override Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, CancellationToken cancellationToken)
        {
            dead = false; // A run of the timer: a new process.
            return Inner.ListPendingAsync(now, max, onUnreadable, cancellationToken);
        }

        public override Task<IReadOnlyList<PendingCustomerRequest>> ListPendingAsync(Instant now, int max, Action<UnreadableCustomerRequest> onUnreadable, Action<PendingBacklog> onBacklog, CancellationToken cancellationToken)
        {
            dead = false; // A run of the timer: a new process.
            return Inner.ListPendingAsync(now, max, onUnreadable, onBacklog, cancellationToken);
        }

        public override Task MarkDoneAsync(PendingCustomerRequest pending, CancellationToken cancellationToken)
        {
            if (crashNow())
            {
                dead = true;
                throw new IOException("The process died.");
            }

            return Inner.MarkDoneAsync(pending, cancellationToken);
        }

        public override Task RecordFailureAsync(PendingCustomerRequest pending, Instant? retryAt, CancellationToken cancellationToken) =>
            dead ? throw new IOException("The process is dead.") : Inner.RecordFailureAsync(pending, retryAt, cancellationToken);
    }
}
