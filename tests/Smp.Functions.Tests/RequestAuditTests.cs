using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Smp.Functions.Http;

namespace Smp.Functions.Tests;

/// <summary>R15: who the audit trail names for a function-key call.</summary>
public sealed class RequestAuditTests
{
    private const string KeyIdClaim = "http://schemas.microsoft.com/2017/07/functions/claims/keyid";

    private static HttpRequest Request(params Claim[] claims)
    {
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(new ClaimsIdentity(claims, claims.Length == 0 ? null : "WebJobsAuthLevel")) };
        return context.Request;
    }

    [Fact]
    public void R15_a_function_key_call_is_recorded_as_key_and_the_key_name()
    {
        var audit = RequestAudit.For(Request(new Claim(KeyIdClaim, "renewals-desk")), ApiHarness.Context("RecordRenewal"));

        Assert.Equal("key:renewals-desk", audit.Actor);
    }

    [Fact]
    public void R15_a_call_without_a_known_key_name_is_recorded_as_the_function_name()
    {
        var audit = RequestAudit.For(Request(), ApiHarness.Context("RecordRenewal"));

        Assert.Equal("RecordRenewal", audit.Actor);
    }
}
