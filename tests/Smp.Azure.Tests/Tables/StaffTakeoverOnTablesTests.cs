using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>Section 7, R12: a staff member's request that takes over an anonymous one starts with attempts of its own.</summary>
public sealed class StaffTakeoverOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Section7_R12_a_staff_takeover_of_an_anonymous_ask_that_failed_before_is_due_now_with_no_failed_attempts()
    {
        var queue = new TableCustomerRequestQueue(azurite.CreateServiceClient(), AzuriteFixture.UniqueTableName("req"));
        var day = new LocalDate(2027, 3, 3);
        var now = Instant.FromUtc(2027, 3, 3, 9, 0);
        var serial = Serial.Parse("VT-TAKE-1");
        var anonymous = new CustomerRequest(CustomerRequestKinds.Term, serial, null, QuoteScope.License, day, "term-requests", "anon-1");
        Assert.True(await queue.RecordAsync(anonymous, Ct));
        var listed = Assert.Single(await queue.ListPendingAsync(now, 10, Ct));
        await queue.RecordFailureAsync(listed, now + Duration.FromHours(1), Ct);
        Assert.Empty(await queue.ListPendingAsync(now, 10, Ct));

        var staff = anonymous with { Actor = "Dana Staff", CorrelationId = "staff-1", ActorId = "person-1", FromStaff = true };
        Assert.True(await queue.RecordFromStaffAsync(staff, Ct));

        var taken = Assert.Single(await queue.ListPendingAsync(now, 10, Ct));
        Assert.True(taken.Request.FromStaff);
        Assert.Equal("person-1", taken.Request.ActorId);
        Assert.Equal(0, taken.FailedAttempts);
    }

    [Fact]
    public async Task Section7_R12_a_staff_request_after_an_anonymous_ask_was_given_up_is_pending_again_with_attempts_of_its_own()
    {
        var queue = new TableCustomerRequestQueue(azurite.CreateServiceClient(), AzuriteFixture.UniqueTableName("req"));
        var day = new LocalDate(2027, 3, 3);
        var now = Instant.FromUtc(2027, 3, 3, 9, 0);
        var anonymous = new CustomerRequest(CustomerRequestKinds.Term, Serial.Parse("VT-TAKE-3"), null, QuoteScope.License, day, "term-requests", "anon-3");
        Assert.True(await queue.RecordAsync(anonymous, Ct));
        for (var attempt = 1; attempt <= CustomerRequestRetry.Default.MaxAttempts; attempt++)
        {
            var listed = Assert.Single(await queue.ListPendingAsync(Instant.MaxValue, 10, Ct));
            Assert.Equal(attempt - 1, listed.FailedAttempts);
            var giveUp = attempt == CustomerRequestRetry.Default.MaxAttempts;
            await queue.RecordFailureAsync(listed, giveUp ? null : now + Duration.FromMinutes(attempt), Ct);
        }

        Assert.Empty(await queue.ListPendingAsync(Instant.MaxValue, 10, Ct));

        var staff = anonymous with { Actor = "Dana Staff", CorrelationId = "staff-3", ActorId = "person-3", FromStaff = true };
        Assert.True(await queue.RecordFromStaffAsync(staff, Ct));
        Assert.False(await queue.RecordFromStaffAsync(staff, Ct));

        var pending = Assert.Single(await queue.ListPendingAsync(now, 10, Ct));
        Assert.True(pending.Request.FromStaff);
        Assert.True(pending.Request.StaffResend);
        Assert.Equal("person-3", pending.Request.ActorId);
        Assert.Equal(0, pending.FailedAttempts);
    }

    [Fact]
    public async Task Section7_R12_a_takeover_whose_row_a_run_marked_done_meanwhile_writes_nothing_over_it_and_is_recorded_as_a_resend()
    {
        var name = AzuriteFixture.UniqueTableName("req");
        var run = new TableCustomerRequestQueue(azurite.CreateServiceClient(), name);
        var day = new LocalDate(2027, 3, 3);
        var now = Instant.FromUtc(2027, 3, 3, 9, 0);
        var anonymous = new CustomerRequest(CustomerRequestKinds.Term, Serial.Parse("VT-TAKE-2"), null, QuoteScope.License, day, "term-requests", "anon-2");
        Assert.True(await run.RecordAsync(anonymous, Ct));
        var listed = Assert.Single(await run.ListPendingAsync(now, 10, Ct));

        // Between the staff's read of the pending row and its conditional write, a run marks the anonymous ask done
        // (it mailed it): the write under the old ETag is refused (412) and must change nothing.
        var race = new BeforeConditionalReplace(() => run.MarkDoneAsync(listed, Ct));
        var options = new TableClientOptions();
        options.AddPolicy(race, HttpPipelinePosition.PerCall);
        var staffSide = new TableCustomerRequestQueue(azurite.CreateServiceClient(options), name);
        var staff = anonymous with { Actor = "Dana Staff", CorrelationId = "staff-2", ActorId = "person-2", FromStaff = true };

        Assert.True(await staffSide.RecordFromStaffAsync(staff, Ct));

        Assert.Equal(1, race.Ran);
        Assert.True(race.Refused);
        var pending = Assert.Single(await run.ListPendingAsync(now, 10, Ct));
        Assert.True(pending.Request.FromStaff);
        Assert.True(pending.Request.StaffResend, "The anonymous ask was mailed meanwhile: the staff's is a new mail, not a takeover of the one sent.");
        Assert.Equal("person-2", pending.Request.ActorId);
        Assert.Equal(0, pending.FailedAttempts);
        Assert.NotEqual(anonymous.MailKey, pending.Request.MailKey);
    }

    /// <summary>Runs a change of the row once, just before the first conditional replace (If-Match an ETag) is sent, and tells whether storage refused that write.</summary>
    private sealed class BeforeConditionalReplace(Func<Task> change) : HttpPipelinePolicy
    {
        public int Ran { get; private set; }

        public bool Refused { get; private set; }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var conditional = message.Request.Method == RequestMethod.Put
                && message.Request.Headers.TryGetValue("If-Match", out var ifMatch) && ifMatch != "*";
            if (conditional && Ran == 0)
            {
                Ran++;
                await change();
                await ProcessNextAsync(message, pipeline);
                Refused = message.Response.Status == 412;
                return;
            }

            await ProcessNextAsync(message, pipeline);
        }
    }
}
