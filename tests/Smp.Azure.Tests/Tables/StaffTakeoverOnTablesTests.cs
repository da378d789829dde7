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
}
