using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 9: each row stands alone, and so does each import. A row whose license cannot be read is reported and
/// the import goes on; a job that fails on every attempt is marked failed with a reason and the next job runs.
/// </summary>
public sealed class ImportIsolationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = InDenver(2027, 2, 15, 9);

    private const string Header = "serial,customerId,customerName,contacts,expiresOn\r\n";

    [Fact]
    public async Task Section9_a_row_whose_license_cannot_be_read_is_an_error_with_exact_counts_and_the_other_rows_are_imported()
    {
        var unreadable = new ReportApiTests.FailReadsOf("VT-202");
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton(_ =>
        {
            var options = new TableClientOptions();
            options.Retry.MaxRetries = 0;
            options.AddPolicy(unreadable, global::Azure.Core.HttpPipelinePosition.PerCall);
            return new TableServiceClient(azurite.ConnectionString, options);
        }));
        var posted = await ImportApiTests.PostAsync(api, Header
            + "VT-201,C-1,Acme,a@acme.example,2027-06-01\r\n"
            + "VT-202,C-1,Acme,a@acme.example,2027-06-01\r\n"
            + "VT-203,C-1,Acme,a@acme.example,2027-06-01\r\n");
        var id = posted.Json().GetProperty("id").GetString()!;
        unreadable.Active = true;

        await ImportApiTests.ProcessAsync(api);

        var done = (await ImportApiTests.GetAsync(api, id)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal(
            (3, 3, 2, 0, 0, 1),
            (done.GetProperty("total").GetInt32(), done.GetProperty("processed").GetInt32(), done.GetProperty("created").GetInt32(),
             done.GetProperty("unchanged").GetInt32(), done.GetProperty("conflicts").GetInt32(), done.GetProperty("invalid").GetInt32()));
        var error = Assert.Single(done.GetProperty("errors").EnumerateArray());
        Assert.Equal(3, error.GetProperty("row").GetInt32());
        Assert.Contains("could not be read or stored", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        unreadable.Active = false;
        Assert.Null(await api.Services.GetRequiredService<Smp.Core.Licenses.ILicenseStore>().GetAsync(Smp.Core.Plans.Serial.Parse("VT-202"), CancellationToken.None));
    }

    [Fact]
    public async Task Section9_a_job_that_fails_on_every_attempt_is_marked_failed_with_a_reason_and_the_next_job_runs()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        var broken = (await ImportApiTests.PostAsync(api, Header + "VT-301,C-1,Acme,a@acme.example,2027-06-01\r\n")).Json().GetProperty("id").GetString()!;
        var next = (await ImportApiTests.PostAsync(api, Header + "VT-302,C-1,Acme,a@acme.example,2027-06-01\r\n")).Json().GetProperty("id").GetString()!;
        // The first job's file is gone: every attempt to run it fails.
        var imports = new TableServiceClient(azurite.ConnectionString).GetTableClient(api.TablePrefix + "imports");
        await imports.DeleteEntityAsync(broken, "file-0000");

        for (var run = 0; run < 5; run++)
        {
            try
            {
                await ImportApiTests.ProcessAsync(api);
            }
            catch (global::Azure.RequestFailedException)
            {
                // A run that met the failing job reports it; the next run tries again.
            }
        }

        var failed = (await ImportApiTests.GetAsync(api, broken)).Json();
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(failed.GetProperty("failure").GetString()));
        var done = (await ImportApiTests.GetAsync(api, next)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal(1, done.GetProperty("created").GetInt32());
    }
}
