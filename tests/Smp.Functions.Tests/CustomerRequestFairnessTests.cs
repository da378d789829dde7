using System.Diagnostics.Metrics;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Observability;
using Smp.Core.Outbox;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5: junk requests cannot starve real ones. Requests are taken first come, first served (a request made
/// later never pushes back one made earlier, whatever it asks), the IPv6 clients of one /48 allocation share a daily
/// cap, and the backlog of waiting requests is measured.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CustomerRequestFairnessTests(AzuriteFixture azurite)
{
    private static readonly Instant Now = InDenver(2026, 3, 20, 9);

    [Fact]
    public async Task Section5_password_requests_flooded_after_a_real_term_request_never_push_it_back_its_mail_goes_out_in_the_first_run()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        using var pending = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.requests.pending");
        using var oldest = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.requests.oldest_pending_age");
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));
        Assert.Equal(202, (await PostAsync(api, "term-requests", "VT-1", "203.0.113.7")).Status);

        // Then 160 password requests for made-up serials from eight /64 clients of one /48 (20 each): more than one
        // run takes, all keyed before the term request.
        for (var client = 0; client < 8; client++)
        {
            for (var n = 0; n < 20; n++)
            {
                Assert.Equal(202, (await PostAsync(api, "password-requests", $"0{client}{n:D2}", $"2001:db8:0:{client}::1")).Status);
            }
        }

        await ProcessCustomerRequestsAsync(api);

        var due = await Outbox(api).ListDueAsync(api.Clock.GetCurrentInstant() + Duration.FromDays(1), 100, CancellationToken.None);
        var term = Assert.Single(due, m => m.Message.Kind == MailKinds.Term);
        Assert.Contains("VT-1", term.Message.Mail.PlainText, StringComparison.Ordinal);
        Assert.Equal(161, pending.LastMeasurement?.Value);
        Assert.Equal(0, oldest.LastMeasurement?.Value);

        // The next run works off the rest; the backlog it starts from is what the first left.
        await ProcessCustomerRequestsAsync(api);
        Assert.Equal(61, pending.LastMeasurement?.Value);
        await ProcessCustomerRequestsAsync(api);
        Assert.Equal(0, pending.LastMeasurement?.Value);
    }

    [Fact]
    public async Task Section5_the_ipv6_clients_of_one_48_allocation_share_a_daily_cap_beyond_each_clients_own()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now, new Dictionary<string, string?> { ["Smp:AnonymousLimits:PerNetworkPerDay"] = "5" });

        // Eight /64 clients of 2001:db8:0::/48, one request each: five are recorded, the rest refused alike (202).
        for (var client = 0; client < 8; client++)
        {
            Assert.Equal(202, (await PostAsync(api, "term-requests", $"NET-{client}", $"2001:db8:0:{client}::1")).Status);
        }

        Assert.Equal(5, await RecordedAsync(api));

        // Another allocation, and IPv4 clients, have their own allowances.
        Assert.Equal(202, (await PostAsync(api, "term-requests", "NET-8", "2001:db8:1:0::1")).Status);
        Assert.Equal(202, (await PostAsync(api, "term-requests", "NET-9", "203.0.113.7")).Status);
        Assert.Equal(7, await RecordedAsync(api));

        // The cap is per route, as the per-client allowance is.
        Assert.Equal(202, (await PostAsync(api, "quote-requests", "NET-7", "2001:db8:0:7::1")).Status);
        Assert.Equal(8, await RecordedAsync(api));
    }

    private static async Task<int> RecordedAsync(ApiHarness api)
    {
        var table = api.Services.GetRequiredService<TableServiceClient>().GetTableClient(api.TablePrefix + "customerrequests");
        var rows = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>())
        {
            rows++;
        }

        return rows;
    }

    private static async Task<ApiResponse> PostAsync(ApiHarness api, string route, string serial, string forwardedFor)
    {
        var body = route == "password-requests" ? $$"""{"serial":"{{serial}}","version":"1.96"}""" : $$"""{"serial":"{{serial}}"}""";
        var request = api.Request("POST", "/api/" + route, body);
        request.Headers["X-Forwarded-For"] = forwardedFor;
        var result = route switch
        {
            "term-requests" => await api.Function<CustomerRequestFunctions>().RequestTerm(request, ApiHarness.Context("RequestTerm")),
            "quote-requests" => await api.Function<CustomerRequestFunctions>().RequestQuote(request, ApiHarness.Context("RequestQuote")),
            _ => await api.Function<PasswordFunctions>().RequestPasswordLink(request, ApiHarness.Context("RequestPasswordLink")),
        };
        return await ApiHarness.ExecuteAsync(request, result);
    }
}
