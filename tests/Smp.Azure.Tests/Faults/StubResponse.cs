using System.Diagnostics.CodeAnalysis;
using Azure;
using Azure.Core;

namespace Smp.Azure.Tests.Faults;

/// <summary>A response made up by a test policy instead of the service (no headers, an empty body).</summary>
internal sealed class StubResponse(int status, string reasonPhrase, string clientRequestId) : Response
{
    public override int Status => status;

    public override string ReasonPhrase => reasonPhrase;

    /// <summary>
    /// The transport stage of the pipeline, which a short-circuiting policy skips, is what normally classifies the
    /// response; without this, the retry policy would not see the 503 as an error and would not retry it.
    /// </summary>
    public override bool IsError => status >= 400;

    public override Stream? ContentStream { get; set; } = new MemoryStream();

    public override string ClientRequestId { get; set; } = clientRequestId;

    public override void Dispose() => ContentStream?.Dispose();

    protected override bool ContainsHeader(string name) => false;

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => [];

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value)
    {
        value = null;
        return false;
    }

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        values = null;
        return false;
    }
}
