using System.Text;
using NodaTime;
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
