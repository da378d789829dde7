using System.Diagnostics.Metrics;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Observability;
using Smp.Functions.Functions;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>SPEC section 9: GET /api/exports/licenses.csv through the real composition root over Azurite, and its round trip.</summary>
public sealed class ExportApiTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = InDenver(2027, 2, 15, 9);

    public static async Task<(ApiResponse Response, byte[] Bytes)> ExportAsync(ApiHarness api)
    {
        var request = api.Request("GET", "/api/exports/licenses.csv");
        var response = await api.InvokeAsync(request, "ExportLicenses", c => Task.FromResult(api.Function<ExportFunctions>().ExportLicenses(request, c)));
        return (response, ((MemoryStream)request.HttpContext.Response.Body).ToArray());
    }

    [Fact]
    public async Task Section9_export_streams_every_license_with_a_BOM_and_imports_back_into_an_empty_store_as_the_same_rows()
    {
        using var source = new ApiHarness(azurite.ConnectionString, Now);
        // More licenses than one page of the export, so the paging is part of the round trip.
        for (var i = 0; i < 505; i++)
        {
            await ActivateAsync(source, $"VT-{i:D4}", new LocalDate(2026, 1 + (i % 12), 1), customerId: $"C-{i % 7}");
        }

        await ImportApiTests.ImportAndWaitAsync(source, ImportApiTests.Sample);

        var (first, bytes) = await ExportAsync(source);

        Assert.Equal(200, first.Status);
        Assert.Equal("text/csv", first.MediaType);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.StartsWith("serial,customerId,customerName,contacts,product,activationEmailSentOn,planStart,expiresOn,onSiteTraining,note,status\r\n", first.Body);
        var lines = first.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 505 + 3, lines.Length);

        using var empty = new ApiHarness(azurite.ConnectionString, Now);
        var imported = await ImportAndWaitAsync(empty, bytes);
        Assert.Equal(508, imported.GetProperty("created").GetInt32());

        var (_, again) = await ExportAsync(empty);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public async Task Section9_an_unreadable_license_is_left_out_of_the_export_and_counted_while_the_others_are_exported()
    {
        // The export has answered 200 before it reaches the license, so no problem document can follow: the license is
        // left out of the file, logged by serial and counted (smp.export.unreadable), and the rest of the file follows.
        var unreadable = new ReportApiTests.FailReadsOf("VT-E2");
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton(_ =>
        {
            var options = new TableClientOptions();
            options.Retry.MaxRetries = 0;
            options.AddPolicy(unreadable, global::Azure.Core.HttpPipelinePosition.PerCall);
            return new TableServiceClient(azurite.ConnectionString, options);
        }));
        foreach (var serial in new[] { "VT-E1", "VT-E2", "VT-E3" })
        {
            await ActivateAsync(api, serial, new LocalDate(2026, 6, 1));
        }

        using var counted = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, SmpMetrics.Instruments.ExportUnreadable);
        unreadable.Active = true;

        var (response, _) = await ExportAsync(api);

        Assert.Equal(200, response.Status);
        var serials = response.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')[0]);
        Assert.Equal(["VT-E1", "VT-E3"], serials);
        Assert.Equal(1, counted.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    private static async Task<System.Text.Json.JsonElement> ImportAndWaitAsync(ApiHarness api, byte[] body)
    {
        var posted = await ImportApiTests.PostAsync(api, body);
        Assert.Equal(202, posted.Status);
        await ImportApiTests.ProcessAsync(api);
        var done = (await ImportApiTests.GetAsync(api, posted.Json().GetProperty("id").GetString()!)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        return done;
    }
}
