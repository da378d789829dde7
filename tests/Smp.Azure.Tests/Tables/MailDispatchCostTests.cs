using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Mail;
using Smp.Azure.Tables;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.TestSupport;
using Xunit.Abstractions;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// SPEC section 5 (delivery at most the per-minute cap, every minute): one dispatch run reads in proportion to what it
/// may send, not to the backlog of pending mail. The outbox's own table client counts what it reads.
/// </summary>
public sealed class MailDispatchCostTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Backlog = 300;
    private const int Cap = 30;

    /// <summary>Per message sent: its pending marker, the message, and the markers its two state changes retire.</summary>
    private const int ReadsPerMessageSent = 4;

    /// <summary>Per message sent: the lease, the recorded hand-over, the outcome (each one transaction).</summary>
    private const int WritesPerMessageSent = 3;

    private static readonly Instant Queued = Instant.FromUtc(2027, 1, 1, 13, 0);
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Section5_a_dispatch_run_over_a_backlog_reads_about_what_it_sends_not_the_backlog()
    {
        var counter = new EntityReadCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        var outbox = new TableMailOutbox(azurite.CreateServiceClient(options), AzuriteFixture.UniqueTableName("mailoutbox"));
        for (var i = 0; i < Backlog; i++)
        {
            // Queued a second apart, as a reminder scan and customer requests queue them.
            var mail = TestMail(i);
            await outbox.EnqueueAsync(mail, i % 10 == 0 ? MailKinds.Term : MailKinds.Reminder, [], Queued + Duration.FromSeconds(i), Ct);
        }

        var clock = new FakeClock(Queued + Duration.FromHours(1));
        var pickup = Path.Combine(Path.GetTempPath(), "smp-dispatch-cost-" + Guid.NewGuid().ToString("N"));
        try
        {
            var transport = new PickupFolderTransport(pickup, TimeProvider.System, NullLogger<PickupFolderTransport>.Instance);
            var dispatcher = new MailDispatcher(outbox, transport, clock, new DeliveryOptions { MaxPerMinute = Cap, CustomerRequestSharePerMinute = 5 });

            var reads = new List<long>();
            for (var run = 0; run < 2; run++)
            {
                counter.Reset();
                var report = await dispatcher.RunAsync(Ct);
                Assert.Equal(Cap, report.Sent);
                reads.Add(counter.EntitiesRead);
                output.WriteLine($"Run {run + 1}: {counter.Requests} requests, {counter.EntitiesRead} entities read, {counter.Writes} writes, {Cap} mails sent.");
                Assert.True(counter.Writes <= WritesPerMessageSent * Cap, $"A run that sent {Cap} mails made {counter.Writes} writes.");
                clock.Advance(Duration.FromMinutes(1));
            }

            // 300 pending, then 270: each run reads the same, bounded by the cap.
            Assert.True(reads[0] <= ReadsPerMessageSent * Cap, $"A run over {Backlog} pending mails with a cap of {Cap} read {reads[0]} entities.");
            Assert.Equal(reads[0], reads[1]);
        }
        finally
        {
            if (Directory.Exists(pickup))
            {
                Directory.Delete(pickup, recursive: true);
            }
        }
    }

    private static OutgoingMail TestMail(int i) => new(
        Guid.NewGuid().ToString("D"),
        EmailAddress.Parse("DoNotReply@smp.example.com"),
        [EmailAddress.Parse($"buyer{i}@example.com")],
        null,
        $"Maintenance plan VT-{i} expires soon",
        "Hello",
        "<p>Hello</p>");

    /// <summary>Entities read: one per point read, and the entities each query response returned.</summary>
    private sealed class EntityReadCounter : HttpPipelinePolicy
    {
        private long entities;
        private long requests;
        private long writes;

        public long EntitiesRead => Interlocked.Read(ref entities);

        /// <summary>Every request sent (reads and writes).</summary>
        public long Requests => Interlocked.Read(ref requests);

        /// <summary>Requests that write (a transaction, an insert, an update, a delete).</summary>
        public long Writes => Interlocked.Read(ref writes);

        public void Reset()
        {
            Interlocked.Exchange(ref entities, 0);
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref writes, 0);
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            Count(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            Count(message);
        }

        private void Count(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            if (message.Request.Method != RequestMethod.Get)
            {
                Interlocked.Increment(ref writes);
            }

            if (message.Request.Method != RequestMethod.Get || !message.HasResponse)
            {
                return;
            }

            var path = Uri.UnescapeDataString(message.Request.Uri.Path);
            if (path.Contains("RowKey=", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref entities);
                return;
            }

            if (message.Response.Status == 200 && message.Response.Content is { } content)
            {
                using var document = JsonDocument.Parse(content.ToMemory());
                if (document.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
                {
                    Interlocked.Add(ref entities, value.GetArrayLength());
                }
            }
        }
    }
}
