using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Smp.Azure.Mail;
using NodaTime;
using Smp.Core.Mail;

namespace Smp.Azure.Tests.Mail;

/// <summary>The ACS adapter, wired as the app wires it (access key), against the local HTTPS stand-in.</summary>
public sealed class AcsEmailTransportTests : IAsyncLifetime
{
    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);
    private FakeAcsServer server = null!;
    private ServiceProvider services = null!;

    private IMailTransport Transport => services.GetRequiredService<IMailTransport>();

    public async Task InitializeAsync()
    {
        server = await FakeAcsServer.StartAsync(new FakeAcsAuth.AccessKey(key));
        services = TestMail.AcsServices(server, TestMail.Configuration(
            ("Smp:Email:Transport", "acs"),
            ("Smp:Email:AcsConnectionString", TestMail.AccessKeyConnectionString(server, key))));
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task A_send_goes_out_signed_with_the_mail_id_as_operation_id_and_is_accepted()
    {
        var mail = TestMail.Create();

        var result = await Transport.SendAsync(mail, CancellationToken.None);

        Assert.IsType<MailSendResult.Accepted>(result);
        Assert.Empty(server.Violations);
        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/emails:send?api-version=2025-09-01", request.RawTarget);
        Assert.Equal(mail.Id, request.Header("Operation-Id"));
        var body = request.Json;
        Assert.Equal("smp@vendor.example.com", body.GetProperty("senderAddress").GetString());
        Assert.Equal(["ana@customer.example.org", "it@customer.example.org"], TestMail.Addresses(body.GetProperty("recipients").GetProperty("to")));
        Assert.Equal(["renewals@vendor.example.com"], TestMail.Addresses(body.GetProperty("replyTo")));
        Assert.Equal(mail.Subject, body.GetProperty("content").GetProperty("subject").GetString());
        Assert.Equal(mail.PlainText, body.GetProperty("content").GetProperty("plainText").GetString());
        Assert.Equal(mail.Html, body.GetProperty("content").GetProperty("html").GetString());
        Assert.True(body.GetProperty("userEngagementTrackingDisabled").GetBoolean());
    }

    [Fact]
    public async Task A_mail_without_reply_to_sends_no_reply_to()
    {
        var mail = TestMail.Create() with { ReplyTo = null };

        var result = await Transport.SendAsync(mail, CancellationToken.None);

        Assert.IsType<MailSendResult.Accepted>(result);
        Assert.Empty(server.Violations);
        Assert.False(Assert.Single(server.Requests).Json.TryGetProperty("replyTo", out _));
    }

    [Theory]
    [InlineData("17", 17)]
    [InlineData(null, 60)]
    [InlineData("not a number", 60)]
    public async Task A_429_is_throttled_for_the_retry_after_seconds_or_a_minute(string? retryAfter, int expectedSeconds)
    {
        server.Script = _ => ScriptedResponse.Throttled(retryAfter);

        var result = await Transport.SendAsync(TestMail.Create(), CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Assert.IsType<MailSendResult.Throttled>(result).RetryAfter);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task A_429_with_an_http_date_waits_until_that_date()
    {
        var until = server.Time.GetUtcNow().AddMinutes(2);
        server.Script = _ => ScriptedResponse.Throttled(until.ToString("r", System.Globalization.CultureInfo.InvariantCulture));

        var result = await Transport.SendAsync(TestMail.Create(), CancellationToken.None);

        var wait = Assert.IsType<MailSendResult.Throttled>(result).RetryAfter;
        Assert.Equal(TimeSpan.FromMinutes(2), wait);
    }

    [Theory]
    [InlineData(500, "InternalServerError")]
    [InlineData(503, "ServiceUnavailable")]
    [InlineData(408, "RequestTimeout")]
    public async Task Server_errors_and_timeouts_are_transient(int status, string code)
    {
        server.Script = _ => ScriptedResponse.Error(status, code, "Try again later.");

        var result = await Transport.SendAsync(TestMail.Create(), CancellationToken.None);

        var failure = Assert.IsType<MailSendResult.TransientFailure>(result);
        Assert.Contains(code, failure.Error, StringComparison.Ordinal);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task A_400_is_permanent_with_the_acs_error_and_nothing_of_the_request()
    {
        RecordedRequest? seen = null;
        server.Script = request =>
        {
            seen = request;
            // A body that also echoes request headers: the adapter must keep only code and message.
            return new ScriptedResponse(
                400,
                new Dictionary<string, string> { ["x-ms-error-code"] = "InvalidSenderUserName" },
                System.Text.Json.JsonSerializer.Serialize(new
                {
                    error = new { code = "InvalidSenderUserName", message = "The sender username is not valid." },
                    echo = request.Headers,
                }));
        };

        var result = await Transport.SendAsync(TestMail.Create(), CancellationToken.None);

        var failure = Assert.IsType<MailSendResult.PermanentFailure>(result);
        Assert.Contains("400", failure.Error, StringComparison.Ordinal);
        Assert.Contains("InvalidSenderUserName", failure.Error, StringComparison.Ordinal);
        Assert.Contains("The sender username is not valid.", failure.Error, StringComparison.Ordinal);
        Assert.NotNull(seen);
        Assert.DoesNotContain(seen.Header("Authorization")!, failure.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(seen.Header("x-ms-content-sha256")!, failure.Error, StringComparison.Ordinal);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task An_error_without_a_body_is_described_by_status_and_error_code_header()
    {
        server.Script = _ => new ScriptedResponse(403, new Dictionary<string, string> { ["x-ms-error-code"] = "Forbidden" }, null);

        var result = await Transport.SendAsync(TestMail.Create(), CancellationToken.None);

        Assert.Contains("403 Forbidden: Forbidden", Assert.IsType<MailSendResult.PermanentFailure>(result).Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NotStarted", typeof(MailSendResult.Accepted))]
    [InlineData("Running", typeof(MailSendResult.Accepted))]
    [InlineData("Succeeded", typeof(MailSendResult.Delivered))]
    public async Task The_status_of_an_operation_maps_to_the_port(string status, Type expected)
    {
        var mail = TestMail.Create();
        server.Operations[mail.Id] = (status, null, null);

        var result = await Transport.GetStatusAsync(mail.Id, CancellationToken.None);

        Assert.IsType(expected, result);
        var request = Assert.Single(server.Requests);
        Assert.Equal("GET", request.Method);
        Assert.Equal($"/emails/operations/{mail.Id}?api-version=2025-09-01", request.RawTarget);
        Assert.Equal("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", request.Header("x-ms-content-sha256"));
        Assert.Empty(server.Violations);
    }

    [Theory]
    [InlineData("Failed")]
    [InlineData("Canceled")]
    public async Task A_failed_or_canceled_operation_is_permanent_with_its_error(string status)
    {
        var mail = TestMail.Create();
        server.Operations[mail.Id] = (status, "EmailDropped", "Email was dropped after several attempts to deliver.");

        var result = await Transport.GetStatusAsync(mail.Id, CancellationToken.None);

        var failure = Assert.IsType<MailSendResult.PermanentFailure>(result);
        Assert.Contains(status, failure.Error, StringComparison.Ordinal);
        Assert.Contains("EmailDropped", failure.Error, StringComparison.Ordinal);
        Assert.Empty(server.Violations);
    }

    [Theory]
    [InlineData(400, "BadRequest")]
    [InlineData(401, "Unauthorized")]
    [InlineData(403, "Forbidden")]
    [InlineData(409, "Conflict")]
    [InlineData(500, "InternalServerError")]
    [InlineData(503, "ServiceUnavailable")]
    public async Task Section4_a_status_query_that_fails_says_nothing_about_the_send_and_is_transient(int status, string code)
    {
        var mail = TestMail.Create();
        server.Operations[mail.Id] = ("Succeeded", null, null);
        server.Script = request => request.Method == "GET" ? ScriptedResponse.Error(status, code, "Could not answer.") : null;

        var result = await Transport.GetStatusAsync(mail.Id, CancellationToken.None);

        Assert.Contains(code, Assert.IsType<MailSendResult.TransientFailure>(result).Error, StringComparison.Ordinal);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task Section4_a_status_query_refused_for_a_rotated_access_key_is_transient()
    {
        var mail = TestMail.Create();
        server.Operations[mail.Id] = ("Succeeded", null, null);
        await using var other = TestMail.AcsServices(server, TestMail.Configuration(
            ("Smp:Email:Transport", "Acs"),
            ("Smp:Email:AcsConnectionString", TestMail.AccessKeyConnectionString(server, RandomNumberGenerator.GetBytes(32)))));

        var result = await other.GetRequiredService<IMailTransport>().GetStatusAsync(mail.Id, CancellationToken.None);

        Assert.Contains("401", Assert.IsType<MailSendResult.TransientFailure>(result).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section5_a_429_on_a_status_query_is_throttled_for_its_retry_after()
    {
        var mail = TestMail.Create();
        server.Operations[mail.Id] = ("Succeeded", null, null);
        server.Script = request => request.Method == "GET" ? ScriptedResponse.Throttled("17") : null;

        var result = await Transport.GetStatusAsync(mail.Id, CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(17), Assert.IsType<MailSendResult.Throttled>(result).RetryAfter);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task An_operation_acs_does_not_know_is_unknown()
    {
        var result = await Transport.GetStatusAsync(Guid.NewGuid().ToString("D"), CancellationToken.None);

        Assert.IsType<MailSendResult.Unknown>(result);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task A_send_then_its_status_follow_the_operation_to_delivered()
    {
        var mail = TestMail.Create();

        Assert.IsType<MailSendResult.Accepted>(await Transport.SendAsync(mail, CancellationToken.None));
        Assert.IsType<MailSendResult.Accepted>(await Transport.GetStatusAsync(mail.Id, CancellationToken.None));
        server.Operations[mail.Id] = ("Succeeded", null, null);
        Assert.IsType<MailSendResult.Delivered>(await Transport.GetStatusAsync(mail.Id, CancellationToken.None));
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task A_conflict_on_send_is_settled_by_the_status_of_the_existing_operation()
    {
        var mail = TestMail.Create();
        server.Operations[mail.Id] = ("Succeeded", null, null);
        server.Script = r => r.Method == "POST" ? ScriptedResponse.Error(409, "Conflict", "An operation with this id exists.") : null;

        var result = await Transport.SendAsync(mail, CancellationToken.None);

        Assert.IsType<MailSendResult.Delivered>(result);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task A_repeat_answered_409_while_the_first_request_is_still_in_progress_is_in_doubt_not_failed()
    {
        // ACS repeatable requests: a repeat of a send still in progress is answered 409, and its operation may not
        // exist yet (404). ACS may still deliver the first request: the outcome is unknown, never a permanent failure.
        server.Script = r => r.Method == "POST" ? ScriptedResponse.Error(409, "Conflict", "The original request is still in progress.") : null;
        var mail = TestMail.Create();

        var result = await Transport.SendAsync(mail, CancellationToken.None);

        var doubt = Assert.IsType<MailSendResult.TransientFailure>(result);
        Assert.Contains("409", doubt.Error, StringComparison.Ordinal);
        Assert.Equal(["POST", "GET"], server.Requests.Select(r => r.Method));
        Assert.Empty(server.Violations);

        // Asked again later, the operation ACS created in the meantime is the truth about the mail.
        server.Operations[mail.Id] = ("Succeeded", null, null);
        Assert.IsType<MailSendResult.Delivered>(await Transport.GetStatusAsync(mail.Id, CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_service_is_transient()
    {
        await server.DisposeAsync();

        var result = await Transport.SendAsync(TestMail.Create(), CancellationToken.None);

        Assert.IsType<MailSendResult.TransientFailure>(result);
    }

    [Fact]
    public async Task A_status_query_needs_a_mail_id()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Transport.GetStatusAsync("../../emails:send", CancellationToken.None));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task A_wrong_access_key_is_refused_by_the_service_and_permanent()
    {
        await using var other = TestMail.AcsServices(server, TestMail.Configuration(
            ("Smp:Email:Transport", "Acs"),
            ("Smp:Email:AcsConnectionString", TestMail.AccessKeyConnectionString(server, RandomNumberGenerator.GetBytes(32)))));

        var result = await other.GetRequiredService<IMailTransport>().SendAsync(TestMail.Create(), CancellationToken.None);

        Assert.Contains("401", Assert.IsType<MailSendResult.PermanentFailure>(result).Error, StringComparison.Ordinal);
        Assert.Equal(["signature does not match"], server.Violations);
    }

    private Instant SecondsAgo(int seconds) => Instant.FromDateTimeOffset(server.Time.GetUtcNow()) - Duration.FromSeconds(seconds);

    [Fact]
    public async Task Spec4_a_send_carries_the_mail_id_as_repeatability_request_id_and_its_first_attempt_as_repeatability_first_sent()
    {
        var mail = TestMail.Create();
        var firstAttempt = SecondsAgo(70);

        var result = await Transport.SendAsync(mail, firstAttempt, CancellationToken.None);

        Assert.IsType<MailSendResult.Accepted>(result);
        Assert.Empty(server.Violations);
        var request = Assert.Single(server.Requests);
        Assert.Equal(mail.Id, request.Header("repeatability-request-id"));
        Assert.Equal(firstAttempt.ToDateTimeOffset().ToString("r", System.Globalization.CultureInfo.InvariantCulture), request.Header("repeatability-first-sent"));
        Assert.EndsWith(" GMT", request.Header("repeatability-first-sent"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spec4_a_repeat_of_a_send_ACS_took_is_answered_by_ACS_without_sending_again()
    {
        var mail = TestMail.Create();
        var firstAttempt = SecondsAgo(30);

        Assert.IsType<MailSendResult.Accepted>(await Transport.SendAsync(mail, firstAttempt, CancellationToken.None));
        Assert.IsType<MailSendResult.Accepted>(await Transport.SendAsync(mail, firstAttempt, CancellationToken.None));

        Assert.Equal(2, server.Requests.Count(r => r.Method == "POST"));
        Assert.Equal([mail.Id], server.Executed);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task Spec4_a_first_attempt_older_than_ACS_tracks_is_refused_with_412_and_is_transient()
    {
        var result = await Transport.SendAsync(TestMail.Create(), SecondsAgo(6 * 60), CancellationToken.None);

        Assert.Contains("412", Assert.IsType<MailSendResult.TransientFailure>(result).Error, StringComparison.Ordinal);
        Assert.Empty(server.Executed);
        Assert.Empty(server.Violations);
    }
}
