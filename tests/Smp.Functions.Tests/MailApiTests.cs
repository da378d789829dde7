using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// The staff routes for mail that could not be delivered: <c>GET /api/mail?status=failed</c> and
/// <c>POST /api/mail/{id}/retry</c>. Mail fails for real: the app's pickup transport is wrapped by one that
/// refuses while the test says so, and the dispatcher drives the outbox to failed.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MailApiTests : IDisposable
{
    private readonly SwitchableTransport _transport = new();
    private readonly ApiHarness _api;

    public MailApiTests(AzuriteFixture azurite)
    {
        _api = new ApiHarness(
            azurite.ConnectionString,
            InDenver(2027, 1, 1),
            new Dictionary<string, string?> { ["Smp:Email:MaxAttempts"] = "2" },
            services => services.Decorate<IMailTransport>((pickup, _) => _transport.Around(pickup)));
    }

    public void Dispose() => _api.Dispose();

    internal static async Task<ApiResponse> ListAsync(ApiHarness api, string? query)
    {
        var request = api.Request("GET", "/api/mail", query: query);
        var result = await api.Function<MailFunctions>().ListMail(request, ApiHarness.Context("ListMail"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    internal static async Task<ApiResponse> RetryAsync(ApiHarness api, string id)
    {
        var request = api.Request("POST", $"/api/mail/{id}/retry");
        var result = await api.Function<MailFunctions>().RetryMail(request, id, ApiHarness.Context("RetryMail"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    [Fact]
    public async Task Failed_mail_is_listed_with_its_last_error_and_a_retry_makes_it_pending_and_then_delivered()
    {
        var ids = await MailDeliveryTests.EnqueueAsync(_api, 2);
        _transport.Refuse = new MailSendResult.PermanentFailure("550 5.1.1 Mailbox customer0@example.com does not exist.");
        await DispatchAsync(_api);

        var failed = await ListAsync(_api, "status=failed");
        Assert.Equal(200, failed.Status);
        Assert.Equal("application/json", failed.MediaType);
        var listed = failed.Json().GetProperty("mail").EnumerateArray().ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), listed.Select(m => m.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        Assert.All(listed, m =>
        {
            Assert.Equal("failed", m.GetProperty("status").GetString());
            Assert.Equal("550 5.1.1 Mailbox customer0@example.com does not exist.", m.GetProperty("lastError").GetString());
            Assert.Equal(MailKinds.Term, m.GetProperty("kind").GetString());
            Assert.Equal(1, m.GetProperty("attempts").GetInt32());
            Assert.StartsWith("Test message", m.GetProperty("subject").GetString(), StringComparison.Ordinal);
            Assert.Single(m.GetProperty("to").EnumerateArray());
            Assert.False(m.TryGetProperty("plainText", out _));
        });
        Assert.Empty(PickedUpFiles(_api));

        var retried = await RetryAsync(_api, ids[0]);

        Assert.Equal(202, retried.Status);
        var requeued = await MessageAsync(_api, ids[0]);
        Assert.Equal((MailStatus.Pending, 0), (requeued.Status, requeued.Attempts));
        Assert.Equal(ids[1], Assert.Single((await ListAsync(_api, "status=failed")).Json().GetProperty("mail").EnumerateArray()).GetProperty("id").GetString());

        _transport.Refuse = null;
        _api.Clock.Advance(Duration.FromMinutes(1));
        await DispatchAsync(_api);

        Assert.Equal([ids[0] + ".eml"], PickedUpFiles(_api).Select(Path.GetFileName));
        Assert.Equal(MailStatus.Sent, (await MessageAsync(_api, ids[0])).Status);
        Assert.Equal(MailStatus.Failed, (await MessageAsync(_api, ids[1])).Status);
    }

    [Fact]
    public async Task Mail_that_keeps_failing_transiently_is_failed_after_MaxAttempts_and_listed_with_its_last_error()
    {
        var id = Assert.Single(await MailDeliveryTests.EnqueueAsync(_api, 1));
        _transport.Refuse = new MailSendResult.TransientFailure("The mail service answered 503.");

        await DispatchAsync(_api);
        var afterFirst = await MessageAsync(_api, id);
        Assert.Equal((MailStatus.Pending, 1, "The mail service answered 503."), (afterFirst.Status, afterFirst.Attempts, afterFirst.LastError));
        Assert.Empty((await ListAsync(_api, "status=failed")).Json().GetProperty("mail").EnumerateArray());

        // Not before its backoff has passed.
        await DispatchAsync(_api);
        Assert.Equal(1, (await MessageAsync(_api, id)).Attempts);

        _api.Clock.Advance(Duration.FromMinutes(2));
        await DispatchAsync(_api);

        var listed = Assert.Single((await ListAsync(_api, "status=failed")).Json().GetProperty("mail").EnumerateArray());
        Assert.Equal(id, listed.GetProperty("id").GetString());
        Assert.Equal(2, listed.GetProperty("attempts").GetInt32());
        Assert.Equal("The mail service answered 503.", listed.GetProperty("lastError").GetString());
        Assert.Equal(2, _transport.Refused);
    }

    [Fact]
    public async Task Retry_of_an_unknown_id_is_404_of_pending_or_sent_mail_409_and_of_a_malformed_id_400()
    {
        var sent = Assert.Single(await MailDeliveryTests.EnqueueAsync(_api, 1));
        await DispatchAsync(_api);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(_api, sent)).Status);
        var waiting = Assert.Single(await MailDeliveryTests.EnqueueAsync(_api, 1));

        var unknown = await RetryAsync(_api, Guid.NewGuid().ToString("D"));
        Assert.Equal(404, unknown.Status);
        Assert.Equal("application/problem+json", unknown.MediaType);

        var ofSent = await RetryAsync(_api, sent);
        Assert.Equal(409, ofSent.Status);
        Assert.Equal("application/problem+json", ofSent.MediaType);
        Assert.Equal(MailStatus.Sent, (await MessageAsync(_api, sent)).Status);

        var ofPending = await RetryAsync(_api, waiting);
        Assert.Equal(409, ofPending.Status);
        Assert.Equal(MailStatus.Pending, (await MessageAsync(_api, waiting)).Status);

        foreach (var malformed in new[] { "not-a-mail-id", "3F2B8C1E6A4D4C1B9A510C6F1F0F7A11", "{3f2b8c1e-6a4d-4c1b-9a51-0c6f1f0f7a11}" })
        {
            var response = await RetryAsync(_api, malformed);
            Assert.Equal(400, response.Status);
            Assert.Equal("application/problem+json", response.MediaType);
            Assert.True(response.Json().GetProperty("errors").TryGetProperty("id", out _), response.ToString());
        }
    }

    [Fact]
    public async Task Retry_finds_the_failed_mail_whatever_the_letter_case_of_its_id()
    {
        var id = Assert.Single(await MailDeliveryTests.EnqueueAsync(_api, 1));
        _transport.Refuse = new MailSendResult.PermanentFailure("550 5.7.1 Rejected.");
        await DispatchAsync(_api);

        var retried = await RetryAsync(_api, id.ToUpperInvariant());

        Assert.Equal(202, retried.Status);
        Assert.Equal(MailStatus.Pending, (await MessageAsync(_api, id)).Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("status=pending")]
    [InlineData("status=FAILED")]
    [InlineData("status=failed&status=failed")]
    public async Task Listing_mail_other_than_status_failed_is_a_400_naming_status(string? query)
    {
        var response = await ListAsync(_api, query);

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.True(response.Json().GetProperty("errors").TryGetProperty("status", out _), response.ToString());
    }

    /// <summary>Refuses every send with <see cref="Refuse"/> while it is set; otherwise the real transport sends.</summary>
    private sealed class SwitchableTransport
    {
        private int refused;

        public MailSendResult? Refuse { get; set; }

        public int Refused => Volatile.Read(ref refused);

        public IMailTransport Around(IMailTransport inner) => new Wrapper(this, inner);

        private sealed class Wrapper(SwitchableTransport owner, IMailTransport inner) : IMailTransport
        {
            public Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
            {
                if (owner.Refuse is { } refusal)
                {
                    Interlocked.Increment(ref owner.refused);
                    return Task.FromResult(refusal);
                }

                return inner.SendAsync(mail, cancellationToken);
            }

            public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken) => inner.GetStatusAsync(mailId, cancellationToken);
        }
    }
}
