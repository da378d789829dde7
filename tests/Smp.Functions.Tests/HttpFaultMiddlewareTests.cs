using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using NodaTime;
using NSubstitute;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Functions.Hosting;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>A fault escaping an HTTP function becomes a problem document; its log line carries no request data.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HttpFaultMiddlewareTests(AzuriteFixture azurite) : IDisposable
{
    private readonly ApiHarness _api = new(azurite.ConnectionString, Instant.FromUtc(2026, 3, 20, 16, 0));

    public void Dispose() => _api.Dispose();

    public static TheoryData<Exception, int, string> Faults => new()
    {
        { new RequestFailedException(503, "Server busy"), 503, "urn:smp:problem:unavailable" },
        { new TimeoutException("storage"), 503, "urn:smp:problem:unavailable" },
        { new ConcurrencyExhaustedException(Serial.Parse("VT-1")), 503, "urn:smp:problem:busy" },
        { new InvalidOperationException("secret-looking detail s3cr3t"), 500, "urn:smp:problem:internal" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_fault_becomes_a_problem_document_and_the_log_names_only_its_type(Exception fault, int status, string type)
    {
        var logs = new FakeLogger<HttpFaultMiddleware>();
        var middleware = new HttpFaultMiddleware(logs);
        var request = _api.Request("POST", "/api/activations", """{"password":"hunter2"}""");
        var context = ApiHarness.Context("RecordActivation");
        context.Items.Returns(new Dictionary<object, object> { ["HttpRequestContext"] = request.HttpContext });

        await middleware.Invoke(context, _ => throw fault);

        var response = request.HttpContext.Response;
        Assert.Equal(status, response.StatusCode);
        Assert.StartsWith("application/problem+json", response.ContentType, StringComparison.Ordinal);
        response.Body.Position = 0;
        var body = await new StreamReader(response.Body).ReadToEndAsync();
        Assert.Contains(type, body, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", body, StringComparison.Ordinal);
        var line = Assert.Single(logs.Collector.GetSnapshot());
        Assert.Contains(fault.GetType().Name, line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line.Message, StringComparison.Ordinal);
        Assert.Null(line.Exception);
    }
}
