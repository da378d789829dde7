using System.Globalization;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Plans;
using Smp.TestSupport;
using Xunit.Abstractions;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 9 (issue goal: an import within 1.5 x of the bare Table operations its rows need): the app's own table
/// client counts what an import run asks of storage. The rows an imported license needs are its writes (its index rows,
/// each one insert, and its partition in one transaction); beyond them, an import may read each row's license once (to
/// decide the row, idempotently), and keep its job (announce and count each batch).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ImportCostTests : IDisposable
{
    private const int Rows = 200;

    /// <summary>
    /// Reads besides the rows' licenses, allowed per row: the run's own few (the unfinished jobs listed, the job's record
    /// and file) and the store's re-read of its reminder-index record, at most one per 10 seconds however slow the run.
    /// </summary>
    private const double OtherReadsPerRow = 0.25;

    private readonly StorageCounter _counter = new();
    private readonly ApiHarness _api;
    private readonly ITestOutputHelper _output;

    public ImportCostTests(AzuriteFixture azurite, ITestOutputHelper output)
    {
        _output = output;
        var options = new TableClientOptions();
        options.AddPolicy(_counter, HttpPipelinePosition.PerCall);
        _api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 2, 15, 9), services: services =>
            services.AddSingleton(new TableServiceClient(azurite.ConnectionString, options)));
    }

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Section9_an_import_reads_each_rows_license_once_and_otherwise_only_writes_the_rows_it_needs()
    {
        // A first import creates the tables and the store's own records, which are not the rows' work.
        await ImportApiTests.ImportAndWaitAsync(_api, Csv(0, 1));
        var posted = await ImportApiTests.PostAsync(_api, Csv(1, Rows + 1));
        Assert.Equal(202, posted.Status);

        _counter.Reset();
        await ImportApiTests.ProcessAsync(_api);
        var run = _counter.Snapshot();
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Import of {Rows} new licenses: {run}; {run.Requests / (double)Rows:F2} requests and {run.Writes / (double)Rows:F2} writes per row."));

        var done = (await ImportApiTests.GetAsync(_api, posted.Json().GetProperty("id").GetString()!)).Json();
        Assert.Equal(Rows, done.GetProperty("created").GetInt32());
        // One read per row: its license, before it is decided. No read before each index row it writes.
        Assert.True(run.Reads <= Rows * (1 + OtherReadsPerRow), $"The import of {Rows} rows made {run}.");

        // The goal in requests: within 1.5 x of the writes the rows need.
        Assert.True(run.Requests <= 1.5 * run.Writes, $"The import of {Rows} rows made {run}.");
    }

    /// <summary>New licenses COST-{from} to COST-{to - 1}, five per customer, in the import's CSV.</summary>
    private static string Csv(int from, int to)
    {
        var csv = new StringBuilder("serial,customerId,customerName,contacts,activationEmailSentOn,expiresOn,onSiteTraining\r\n");
        for (var i = from; i < to; i++)
        {
            var sent = new LocalDate(2026, 1 + (i % 12), 1 + (i % 28));
            csv.Append(CultureInfo.InvariantCulture, $"COST-{i:D6},C-{i / 5},Customer {i / 5},buyer{i}@example.com,{sent:yyyy-MM-dd},{Dates.FirstOfNextMonth(sent).PlusYears(1):yyyy-MM-dd},yes\r\n");
        }

        return csv.ToString();
    }

    private sealed record StorageCounts(int Requests, int Reads)
    {
        public int Writes => Requests - Reads;

        public override string ToString() => $"{Requests} requests, {Reads} of them reads";
    }

    /// <summary>Counts the requests and, of them, the reads (GET).</summary>
    private sealed class StorageCounter : HttpPipelineSynchronousPolicy
    {
        private int requests;
        private int reads;

        public void Reset()
        {
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref reads, 0);
        }

        public StorageCounts Snapshot() => new(Volatile.Read(ref requests), Volatile.Read(ref reads));

        public override void OnReceivedResponse(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            if (message.Request.Method == RequestMethod.Get)
            {
                Interlocked.Increment(ref reads);
            }
        }
    }
}
