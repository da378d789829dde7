using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Functions.Http;

/// <summary>Who made a request and which request it is, for the audit trail (R15).</summary>
public static class RequestAudit
{
    public const string CorrelationHeader = "x-correlation-id";
    private const string KeyIdClaim = "http://schemas.microsoft.com/2017/07/functions/claims/keyid";
    private const int MaxCorrelationIdLength = 64;

    /// <summary>
    /// The actor is <c>key:</c> and the function key's name when the host reports it (staff keys are named per
    /// person or system), else the function's name (R15). The correlation id is the caller's <c>x-correlation-id</c> when it is
    /// a short token, else the trace id, else the invocation id.
    /// </summary>
    public static CommandContext For(HttpRequest request, FunctionContext function)
    {
        var keyName = request.HttpContext.User.Identities
            .Select(i => i.FindFirst(KeyIdClaim)?.Value)
            .FirstOrDefault(v => !string.IsNullOrEmpty(v));
        var actor = keyName is null ? function.FunctionDefinition.Name : $"key:{keyName}";
        return new CommandContext(actor, CorrelationId(request, function));
    }

    public static string CorrelationId(HttpRequest request, FunctionContext function)
    {
        var supplied = request.Headers[CorrelationHeader].ToString();
        if (supplied.Length is > 0 and <= MaxCorrelationIdLength && supplied.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return supplied;
        }

        return Activity.Current?.TraceId.ToString() is { } traceId && traceId != default(ActivityTraceId).ToString()
            ? traceId
            : function.InvocationId;
    }
}
