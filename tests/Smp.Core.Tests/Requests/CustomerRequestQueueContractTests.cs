using Smp.Core.Requests;

namespace Smp.Core.Tests.Requests;

/// <summary>SPEC section 8 (R12): the staff's request is a way of recording of its own, which every queue must implement.</summary>
public sealed class CustomerRequestQueueContractTests
{
    [Fact]
    public void Section8_R12_every_queue_implements_the_staff_record_itself_so_a_wrapper_cannot_lose_the_takeover()
    {
        // A default body (recording it as an anonymous request) let a wrapper that forgot to forward it record the
        // staff's request as the anonymous one: no takeover, no attempts of its own, the anonymous limits in its way.
        var method = typeof(ICustomerRequestQueue).GetMethod(nameof(ICustomerRequestQueue.RecordFromStaffAsync));

        Assert.NotNull(method);
        Assert.True(method.IsAbstract);
    }
}
