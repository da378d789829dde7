using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Outbox;
using Smp.Functions.Functions;
using Smp.Functions.Http;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// The customer routes (R11, R12, SPEC section 5): term and quote requests as JSON and as the pages' forms, answered
/// alike whether or not the serial exists, mailed only to registered contacts (and the renewals desk), rate-limited
/// per serial and day, and audited on the license.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CustomerRequestTests(AzuriteFixture azurite) : IDisposable
{
    private const string FormContentType = "application/x-www-form-urlencoded";
    private static readonly LocalDate April2026 = new(2026, 4, 1);

    private readonly ApiHarness _api = new(azurite.ConnectionString, InDenver(2026, 6, 1));

    public void Dispose() => _api.Dispose();

    internal static async Task<ApiResponse> RequestTermAsync(ApiHarness api, string body, string contentType = "application/json")
    {
        var request = api.Request("POST", "/api/term-requests", body, contentType: contentType);
        return await api.InvokeAsync(request, "RequestTerm", c => api.Function<CustomerRequestFunctions>().RequestTerm(request, c));
    }

    internal static async Task<ApiResponse> RequestQuoteAsync(ApiHarness api, string body, string contentType = "application/json")
    {
        var request = api.Request("POST", "/api/quote-requests", body, contentType: contentType);
        return await api.InvokeAsync(request, "RequestQuote", c => api.Function<CustomerRequestFunctions>().RequestQuote(request, c));
    }

    [Fact]
    public async Task R12_a_term_request_is_202_and_mails_the_plan_term_to_the_license_contacts_only()
    {
        await ActivateAsync(_api, "VT-1001", April2026);
        _api.Clock.Reset(InDenver(2026, 9, 10));

        var response = await RequestTermAsync(_api, """{"serial":" vt-1001 "}""");

        Assert.Equal(202, response.Status);
        Assert.Equal("accepted", response.Json().GetProperty("status").GetString());
        var message = Assert.Single(await UndeliveredAsync(_api));
        Assert.Equal(MailKinds.Term, message.Kind);
        Assert.Equal(DefaultContacts, Addresses(message.Mail.To));
        Assert.Equal(RenewalsDesk, message.Mail.ReplyTo?.Value);
        Assert.Equal("VTube-LASER maintenance plan VT-1001: current, expires on 1 April 2027", message.Mail.Subject);
        foreach (var text in new[] { message.Mail.PlainText, message.Mail.Html })
        {
            Assert.Contains("Current", text, StringComparison.Ordinal);
            Assert.Contains("1 April 2026", text, StringComparison.Ordinal); // start
            Assert.Contains("1 April 2027", text, StringComparison.Ordinal); // expiresOn
            Assert.Contains("12 months", text, StringComparison.Ordinal); // the terms history
        }

        // Delivered: nobody but the registered contacts is addressed, in any header.
        await DispatchAsync(_api);
        var eml = PickedUp(_api, message.Id);
        Assert.Equal(DefaultContacts, Addresses(eml.To));
        Assert.Empty(eml.Cc);
        Assert.Empty(eml.Bcc);

        var requested = Assert.Single(await EventsAsync(_api, "VT-1001", "termRequested"));
        Assert.Equal(message.Id, Data(requested, "mailId"));
        Assert.Equal("RequestTerm", requested.GetProperty("actor").GetString());
        Assert.Equal("2026-09-10T14:00:00Z", requested.GetProperty("at").GetString());
    }

    [Fact]
    public async Task A_well_formed_request_for_an_unknown_serial_gets_the_identical_202_and_sends_no_mail()
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        var known = await RequestTermAsync(_api, """{"serial":"VT-1001"}""");
        var unknown = await RequestTermAsync(_api, """{"serial":"VT-9999"}""");
        var knownQuote = await RequestQuoteAsync(_api, """{"serial":"VT-1001"}""");
        var unknownQuote = await RequestQuoteAsync(_api, """{"serial":"VT-9999","scope":"customer"}""");

        Assert.Equal((known.Status, known.ContentType, known.Body), (unknown.Status, unknown.ContentType, unknown.Body));
        Assert.Equal((knownQuote.Status, knownQuote.ContentType, knownQuote.Body), (unknownQuote.Status, unknownQuote.ContentType, unknownQuote.Body));
        Assert.Equal(202, unknown.Status);
        Assert.All(new[] { known, unknown, knownQuote, unknownQuote }, AssertSecureHeaders);

        // Only the known serial's term mail, quote notification and acknowledgement.
        var messages = await UndeliveredAsync(_api);
        Assert.Equal(3, messages.Count);
        Assert.All(messages, m => Assert.DoesNotContain("VT-9999", m.Mail.PlainText, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("[]", "body")]
    [InlineData("", "body")]
    [InlineData("{}", "serial")]
    [InlineData("""{"serial":null}""", "serial")]
    [InlineData("""{"serial":42}""", "serial")]
    [InlineData("""{"serial":"VT 1001"}""", "serial")]
    [InlineData("""{"serial":"VT-1001<script>"}""", "serial")]
    [InlineData("""{"serial":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}""", "serial")]
    [InlineData("""{"serial":"VT-1001","email":"attacker@example.net"}""", "email")]
    public async Task A_malformed_term_request_is_a_400_problem_naming_the_field_and_sends_nothing(string body, string field)
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        var response = await RequestTermAsync(_api, body);

        AssertProblemNaming(response, field);
        Assert.Empty(await UndeliveredAsync(_api));
        Assert.Empty(await EventsAsync(_api, "VT-1001", "termRequested"));
    }

    [Theory]
    [InlineData("""{"serial":"VT-1001","scope":"everyone"}""", "application/json", "scope")]
    [InlineData("""{"serial":"VT-1001","scope":"Customer"}""", "application/json", "scope")]
    [InlineData("""{"serial":"VT-1001","scope":7}""", "application/json", "scope")]
    [InlineData("""{"scope":"customer"}""", "application/json", "serial")]
    [InlineData("serial=VT-1001&scope=all", FormContentType, "scope")]
    [InlineData("serial=VT%201001", FormContentType, "serial")]
    [InlineData("serial=VT-1001&to=attacker%40example.net", FormContentType, "to")]
    public async Task A_malformed_quote_request_is_a_400_problem_naming_the_field_and_sends_nothing(string body, string contentType, string field)
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        var response = await RequestQuoteAsync(_api, body, contentType);

        AssertProblemNaming(response, field);
        Assert.Empty(await UndeliveredAsync(_api));
        Assert.Empty(await EventsAsync(_api, "VT-1001", "quoteRequested"));
    }

    [Fact]
    public async Task Section5_term_requests_of_a_day_for_one_serial_are_one_request_one_mail_and_one_event_whatever_the_correlation_ids()
    {
        await ActivateAsync(_api, "VT-1001", April2026);
        _api.Clock.Reset(InDenver(2026, 9, 10, 0));

        var responses = new List<ApiResponse>();
        for (var i = 0; i < 4; i++)
        {
            responses.Add(await RequestTermAsync(_api, """{"serial":"VT-1001"}"""));
            _api.Clock.Advance(Duration.FromHours(5)); // still 10 September in Denver after the fourth
        }

        Assert.All(responses, r => Assert.Equal((202, responses[0].Body), (r.Status, r.Body)));
        // Counted by what they ask (kind, serial, day), so repeats send no second copy and add no event:
        // anonymous callers cannot grow a license's inbox or audit trail without bound.
        Assert.Single(await UndeliveredAsync(_api));
        Assert.Single(await EventsAsync(_api, "VT-1001", "termRequested"));

        // The limit is per business day: the next day answers again.
        _api.Clock.Reset(InDenver(2026, 9, 11, 0));
        Assert.Equal(202, (await RequestTermAsync(_api, """{"serial":"VT-1001"}""")).Status);
        Assert.Equal(2, (await UndeliveredAsync(_api)).Count);
    }

    [Fact]
    public async Task Twelve_concurrent_quote_requests_for_one_serial_send_the_mails_of_one_and_all_answer_202()
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => RequestQuoteAsync(_api, """{"serial":"VT-1001"}"""))));

        Assert.All(responses, r => Assert.Equal(202, r.Status));
        var messages = await UndeliveredAsync(_api);
        Assert.Single(messages, m => m.Kind == MailKinds.QuoteNotification);
        Assert.Single(messages, m => m.Kind == MailKinds.QuoteAcknowledgement);
        Assert.Single(await EventsAsync(_api, "VT-1001", "quoteRequested"));
    }

    [Fact]
    public async Task R11_a_quote_request_notifies_the_renewals_desk_with_the_proposed_next_term_and_acknowledges_to_the_contacts()
    {
        await ActivateAsync(_api, "VT-1001", April2026);
        _api.Clock.Reset(InDenver(2027, 2, 10));

        var response = await RequestQuoteAsync(_api, """{"serial":"VT-1001"}""");

        Assert.Equal(202, response.Status);
        var messages = await UndeliveredAsync(_api);
        Assert.Equal(2, messages.Count);
        var notification = Assert.Single(messages, m => m.Kind == MailKinds.QuoteNotification);
        Assert.Equal([RenewalsDesk], Addresses(notification.Mail.To));
        Assert.Contains("VT-1001", notification.Mail.Subject, StringComparison.Ordinal);
        foreach (var text in new[] { notification.Mail.PlainText, notification.Mail.Html })
        {
            Assert.Contains("VT-1001", text, StringComparison.Ordinal);
            Assert.Contains("1 April 2027", text, StringComparison.Ordinal); // expiresOn, and the next term's start (R6: no gap)
            Assert.Contains("1 April 2028", text, StringComparison.Ordinal); // the next term's end: twelve months on
            Assert.Contains("buyer@example.com", text, StringComparison.Ordinal);
        }

        var acknowledgement = Assert.Single(messages, m => m.Kind == MailKinds.QuoteAcknowledgement);
        Assert.Equal(DefaultContacts, Addresses(acknowledgement.Mail.To));
        Assert.Equal(RenewalsDesk, acknowledgement.Mail.ReplyTo?.Value);
        Assert.Contains("VT-1001", acknowledgement.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("1 April 2027", acknowledgement.Mail.PlainText, StringComparison.Ordinal);

        var requested = Assert.Single(await EventsAsync(_api, "VT-1001", "quoteRequested"));
        Assert.Equal("license", Data(requested, "scope"));
        Assert.Equal(notification.Id, Data(requested, "notificationMailId"));
        Assert.Equal(acknowledgement.Id, Data(requested, "acknowledgementMailId"));
        Assert.Equal("RequestQuote", requested.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task R11_a_quote_for_a_lapsed_plan_proposes_a_term_from_the_first_of_next_month()
    {
        await ActivateAsync(_api, "VT-1001", April2026);
        _api.Clock.Reset(InDenver(2027, 5, 20));

        await RequestQuoteAsync(_api, """{"serial":"VT-1001"}""");

        var notification = Assert.Single(await UndeliveredAsync(_api), m => m.Kind == MailKinds.QuoteNotification);
        Assert.Contains("1 June 2027", notification.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("1 June 2028", notification.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task R11_scope_customer_the_desk_is_told_every_license_of_the_customer_and_the_acknowledgement_only_those_of_all_its_recipients()
    {
        await ActivateAsync(_api, "VT-4001", April2026, "C-42", ["buyer@example.com", "cad@example.com"]);
        await ActivateAsync(_api, "VT-4002", new LocalDate(2026, 6, 1), "C-42", ["CAD@example.com", "plant@example.com"]); // shares cad@ only
        await ActivateAsync(_api, "VT-4003", April2026, "C-42", ["solo@example.com"]); // same customer, no shared contact
        await ActivateAsync(_api, "VT-4005", April2026, "C-42", ["buyer@example.com", "cad@example.com", "boss@example.com"]); // both recipients are its contacts
        await ActivateAsync(_api, "VT-4004", April2026, "C-99", ["buyer@example.com"]); // shared contact, other customer
        _api.Clock.Reset(InDenver(2027, 2, 10));

        var response = await RequestQuoteAsync(_api, """{"serial":"VT-4001","scope":"customer"}""");

        Assert.Equal(202, response.Status);
        var messages = await UndeliveredAsync(_api);
        Assert.Equal(2, messages.Count);
        var notification = Assert.Single(messages, m => m.Kind == MailKinds.QuoteNotification);
        Assert.Equal([RenewalsDesk], Addresses(notification.Mail.To));
        foreach (var serial in new[] { "VT-4001", "VT-4002", "VT-4003", "VT-4005" })
        {
            Assert.Contains(serial, notification.Mail.PlainText, StringComparison.Ordinal);
        }

        Assert.Contains("1 June 2027", notification.Mail.PlainText, StringComparison.Ordinal); // VT-4002's expiry
        Assert.Contains("1 June 2028", notification.Mail.PlainText, StringComparison.Ordinal); // and its next term's end
        Assert.DoesNotContain("VT-4004", notification.Mail.PlainText, StringComparison.Ordinal);

        // The acknowledgement goes to VT-4001's contacts: it names a license only when each of them is one of its contacts.
        var acknowledgement = Assert.Single(messages, m => m.Kind == MailKinds.QuoteAcknowledgement);
        Assert.Equal(DefaultContacts, Addresses(acknowledgement.Mail.To));
        foreach (var text in new[] { acknowledgement.Mail.PlainText, acknowledgement.Mail.Html, acknowledgement.Mail.Subject })
        {
            Assert.DoesNotContain("VT-4002", text, StringComparison.Ordinal);
            Assert.DoesNotContain("VT-4003", text, StringComparison.Ordinal);
            Assert.DoesNotContain("VT-4004", text, StringComparison.Ordinal);
            Assert.DoesNotContain("1 June 2027", text, StringComparison.Ordinal);
            Assert.DoesNotContain("solo@example.com", text, StringComparison.Ordinal);
            Assert.DoesNotContain("plant@example.com", text, StringComparison.Ordinal);
        }

        Assert.Contains("VT-4001", acknowledgement.Mail.PlainText, StringComparison.Ordinal);
        Assert.Contains("VT-4005", acknowledgement.Mail.PlainText, StringComparison.Ordinal);

        foreach (var serial in new[] { "VT-4001", "VT-4002", "VT-4003", "VT-4005" })
        {
            var requested = Assert.Single(await EventsAsync(_api, serial, "quoteRequested"));
            Assert.Equal(("customer", "VT-4001"), (Data(requested, "scope"), Data(requested, "requestedFor")));
        }

        Assert.Empty(await EventsAsync(_api, "VT-4004", "quoteRequested"));
    }

    [Fact]
    public async Task R11_two_requesters_of_one_customer_on_one_day_each_reach_the_renewals_desk_with_their_own_reply_to()
    {
        await ActivateAsync(_api, "VT-4201", April2026, "C-42", ["first@example.com"]);
        await ActivateAsync(_api, "VT-4202", April2026, "C-42", ["second@example.com"]);
        _api.Clock.Reset(InDenver(2027, 2, 10));

        Assert.Equal(202, (await RequestQuoteAsync(_api, """{"serial":"VT-4201","scope":"customer"}""")).Status);
        Assert.Equal(202, (await RequestQuoteAsync(_api, """{"serial":"VT-4202","scope":"customer"}""")).Status);
        // A repeat of the second request the same day sends nothing more.
        Assert.Equal(202, (await RequestQuoteAsync(_api, """{"serial":"VT-4202","scope":"customer"}""")).Status);

        var messages = await UndeliveredAsync(_api);
        var notifications = messages.Where(m => m.Kind == MailKinds.QuoteNotification).ToList();
        Assert.Equal(2, notifications.Count);
        Assert.All(notifications, n => Assert.Equal([RenewalsDesk], Addresses(n.Mail.To)));
        Assert.Equal(
            new[] { "first@example.com", "second@example.com" },
            notifications.Select(n => n.Mail.ReplyTo?.Value ?? string.Empty).Order(StringComparer.Ordinal).ToArray());
        var acknowledgements = messages.Where(m => m.Kind == MailKinds.QuoteAcknowledgement).ToList();
        Assert.Equal(2, acknowledgements.Count);

        // Each requester's event names its own desk mail.
        var first = Assert.Single(await EventsAsync(_api, "VT-4201", "quoteRequested"), e => Data(e, "requestedFor") == "VT-4201");
        var second = Assert.Single(await EventsAsync(_api, "VT-4202", "quoteRequested"), e => Data(e, "requestedFor") == "VT-4202");
        Assert.NotEqual(Data(first, "notificationMailId"), Data(second, "notificationMailId"));
        Assert.Equal(
            notifications.Select(n => n.Id).Order(StringComparer.Ordinal),
            new[] { Data(first, "notificationMailId"), Data(second, "notificationMailId") }.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task R11_scope_customer_the_desk_notification_and_the_acknowledgement_name_the_products_of_the_licenses_they_list()
    {
        await ActivateProductAsync("VT-4101", "VTube-LASER", """["buyer@example.com","cad@example.com"]""");
        await ActivateProductAsync("VT-4102", "VTube-STEP", """["buyer@example.com","cad@example.com"]""");
        await ActivateProductAsync("VT-4103", "VTube-BLADE", """["solo@example.com"]"""); // the desk hears of it, the requester's contacts do not
        _api.Clock.Reset(InDenver(2027, 2, 10));

        Assert.Equal(202, (await RequestQuoteAsync(_api, """{"serial":"VT-4101","scope":"customer"}""")).Status);

        var messages = await UndeliveredAsync(_api);
        var notification = Assert.Single(messages, m => m.Kind == MailKinds.QuoteNotification).Mail;
        foreach (var product in new[] { "VTube-LASER", "VTube-STEP", "VTube-BLADE" })
        {
            Assert.Contains(product, notification.Subject + notification.PlainText, StringComparison.Ordinal);
            Assert.Contains(product, notification.Html, StringComparison.Ordinal);
        }

        var acknowledgement = Assert.Single(messages, m => m.Kind == MailKinds.QuoteAcknowledgement).Mail;
        foreach (var text in new[] { acknowledgement.Subject, acknowledgement.PlainText, acknowledgement.Html })
        {
            Assert.Contains("VTube-LASER", text, StringComparison.Ordinal);
            Assert.Contains("VTube-STEP", text, StringComparison.Ordinal);
            Assert.DoesNotContain("VTube-BLADE", text, StringComparison.Ordinal);
        }
    }

    private async Task ActivateProductAsync(string serial, string product, string contacts)
    {
        var body = ActivationApiTests.ActivationBody(serial, training: true, contacts: contacts).Replace("\"VTube-LASER\"", $"\"{product}\"", StringComparison.Ordinal);
        var response = await ActivationApiTests.ActivateAsync(_api, body);
        Assert.True(response.Status == 201, $"Activation of {serial} failed: {response}");
    }

    [Fact]
    public async Task Form_posts_answer_a_202_html_page_and_send_the_same_mail_as_json()
    {
        await ActivateAsync(_api, "VT-1001", April2026);

        var term = await RequestTermAsync(_api, "serial=vt-1001", FormContentType);
        var quote = await RequestQuoteAsync(_api, "serial=VT-1001&scope=customer", FormContentType);

        foreach (var response in new[] { term, quote })
        {
            Assert.Equal(202, response.Status);
            Assert.Equal("text/html", response.MediaType);
            Assert.StartsWith("<!DOCTYPE html>", response.Body, StringComparison.Ordinal);
            Assert.Contains("registered contacts will receive an email", response.Body, StringComparison.Ordinal);
            AssertSecureHeaders(response);
        }

        var kinds = (await UndeliveredAsync(_api)).Select(m => m.Kind).Order(StringComparer.Ordinal);
        Assert.Equal([MailKinds.QuoteAcknowledgement, MailKinds.QuoteNotification, MailKinds.Term], kinds);
        Assert.Single(await EventsAsync(_api, "VT-1001", "termRequested"));
        Assert.Equal("customer", Data(Assert.Single(await EventsAsync(_api, "VT-1001", "quoteRequested")), "scope"));
    }

    [Fact]
    public async Task The_request_pages_are_200_html_never_cached_nor_sniffed_and_under_the_content_security_policy()
    {
        var termRequest = _api.Request("GET", "/api/term-requests", query: "serial=vt-1001");
        var term = await _api.InvokeAsync(termRequest, "TermRequestPage", () => CustomerRequestFunctions.TermRequestPage(termRequest));
        var quoteRequest = _api.Request("GET", "/api/quote-requests", query: "serial=VT-1001&scope=customer");
        var quote = await _api.InvokeAsync(quoteRequest, "QuoteRequestPage", () => CustomerRequestFunctions.QuoteRequestPage(quoteRequest));

        foreach (var page in new[] { term, quote })
        {
            Assert.Equal(200, page.Status);
            Assert.Equal("text/html", page.MediaType);
            AssertSecureHeaders(page);
            Assert.Contains("<form method=\"post\"", page.Body, StringComparison.Ordinal);
            Assert.Contains("name=\"serial\" value=\"VT-1001\"", page.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", page.Body, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains("action=\"term-requests\"", term.Body, StringComparison.Ordinal);
        Assert.Contains("action=\"quote-requests\"", quote.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"scope\" value=\"customer\"", quote.Body, StringComparison.Ordinal);

        var badScopeRequest = _api.Request("GET", "/api/quote-requests", query: "serial=VT-1001&scope=everyone");
        var badScope = await _api.InvokeAsync(badScopeRequest, "QuoteRequestPage", () => CustomerRequestFunctions.QuoteRequestPage(badScopeRequest));
        AssertProblemNaming(badScope, "scope");
        AssertSecureHeaders(badScope);
        var badSerialRequest = _api.Request("GET", "/api/term-requests", query: "serial=%3Cb%3E");
        AssertProblemNaming(await _api.InvokeAsync(badSerialRequest, "TermRequestPage", () => CustomerRequestFunctions.TermRequestPage(badSerialRequest)), "serial");
    }

    private static void AssertSecureHeaders(ApiResponse response)
    {
        Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        Assert.Equal("nosniff", response.Headers["X-Content-Type-Options"].ToString());
        Assert.Equal(Smp.Functions.Hosting.CustomerHeadersMiddleware.ContentSecurityPolicy, response.Headers.ContentSecurityPolicy.ToString());
        Assert.Contains("frame-ancestors 'none'", response.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
    }

    private static void AssertProblemNaming(ApiResponse response, string field)
    {
        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        var problem = response.Json();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(
            problem.GetProperty("errors").EnumerateObject().Any(e => e.Name == field),
            $"Expected an error for '{field}': {response}");
        Assert.Equal(JsonValueKind.String, problem.GetProperty("title").ValueKind);
    }

    [Fact]
    public async Task An_oversize_form_without_a_content_length_is_refused_and_sends_nothing()
    {
        var request = _api.Request("POST", "/api/term-requests", "serial=VT-1001&serial2=" + new string('x', 70_000), contentType: FormContentType);
        request.ContentLength = null;
        var response = await _api.InvokeAsync(request, "RequestTerm", c => _api.Function<CustomerRequestFunctions>().RequestTerm(request, c));

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Empty(await _api.Services.GetRequiredService<IMailOutbox>().ListDueAsync(Instant.MaxValue, 100, CancellationToken.None));
    }
}
