using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Tables;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Mail;

/// <summary>
/// SPEC section 4 ("a message is never delivered twice for one send"): the dispatcher, the outbox on Azurite and
/// the ACS adapter together, against the ACS stand-in, when the answer to a send is lost.
/// </summary>
public sealed class AcsDispatchTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    /// <summary>How long the adapter waits for ACS here; the stand-in holds the first answer longer.</summary>
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(1);

    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);
    private readonly TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The stand-in compares repeatability-first-sent with its own clock, so the outbox clock starts where it does
    // and moves with it (Advance).
    private readonly FakeClock clock = new(Instant.FromDateTimeOffset(FakeAcsServer.StartTime));
    private FakeAcsServer server = null!;
    private ServiceProvider services = null!;
    private TableMailOutbox outbox = null!;

    public async Task InitializeAsync()
    {
        server = await FakeAcsServer.StartAsync(new FakeAcsAuth.AccessKey(key));
        services = TestMail.AcsServices(
            server,
            TestMail.Configuration(("Smp:Email:Transport", "Acs"), ("Smp:Email:AcsConnectionString", TestMail.AccessKeyConnectionString(server, key))),
            timeout: ClientTimeout);
        outbox = new TableMailOutbox(azurite.CreateServiceClient(), AzuriteFixture.UniqueTableName("mailoutbox"));
    }

    public async Task DisposeAsync()
    {
        release.TrySetResult();
        await services.DisposeAsync();
        await server.DisposeAsync();
    }

    /// <summary>Moves the outbox's clock and the service's (which the adapter shares) together.</summary>
    private void Advance(Duration by)
    {
        clock.Advance(by);
        server.Time.Advance(by.ToTimeSpan());
    }

    private MailDispatcher Dispatcher() =>
        new(outbox, services.GetRequiredService<IMailTransport>(), clock, new DeliveryOptions());

    private async Task<OutgoingMail> EnqueueAsync()
    {
        var mail = TestMail.Create();
        Assert.IsType<EnqueueResult.Enqueued>(await outbox.EnqueueAsync(mail, MailKinds.Term, [], clock.GetCurrentInstant(), CancellationToken.None));
        return mail;
    }

    [Fact]
    public async Task Spec4_a_send_that_timed_out_after_ACS_received_it_is_asked_about_and_never_sent_again()
    {
        var mail = await EnqueueAsync();
        var posts = 0;
        // ACS receives the first send and creates its operation, but the answer never reaches the client.
        server.HoldAnswer = r => r.Method == "POST" && Interlocked.Increment(ref posts) == 1 ? release.Task : Task.CompletedTask;

        var first = await Dispatcher().RunAsync(CancellationToken.None);
        Assert.Equal(0, first.Sent);
        Assert.Equal(MailStatus.Pending, (await outbox.GetAsync(mail.Id, CancellationToken.None))!.Message.Status);

        Advance(Duration.FromMinutes(1));
        var second = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, second.Sent);
        Assert.Single(server.Requests, r => r.Method == "POST");
        var asked = Assert.Single(server.Requests, r => r.Method == "GET");
        Assert.Equal($"/emails/operations/{mail.Id}", asked.Path);
        var stored = (await outbox.GetAsync(mail.Id, CancellationToken.None))!.Message;
        Assert.Equal(MailStatus.Sent, stored.Status);
        Assert.Empty(server.Violations);
    }

    [Fact]
    public async Task Spec4_a_send_ACS_does_not_know_after_a_503_is_sent_again_as_a_repeat_of_its_first_attempt()
    {
        var mail = await EnqueueAsync();
        var posts = 0;
        server.Script = r => r.Method == "POST" && Interlocked.Increment(ref posts) == 1
            ? ScriptedResponse.Error(503, "ServiceUnavailable", "Try again later.")
            : null;

        await Dispatcher().RunAsync(CancellationToken.None);
        Advance(Duration.FromMinutes(1));
        var second = await Dispatcher().RunAsync(CancellationToken.None);

        Assert.Equal(1, second.Sent);
        var sends = server.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(2, sends.Count);
        Assert.Equal(sends[0].Header("repeatability-first-sent"), sends[1].Header("repeatability-first-sent"));
        Assert.All(sends, s => Assert.Equal(mail.Id, s.Header("repeatability-request-id")));
        // Asked first, then sent: the GET comes between the two sends.
        Assert.Equal(["POST", "GET", "POST"], server.Requests.Select(r => r.Method));
        Assert.Empty(server.Violations);
    }
}
