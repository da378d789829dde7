using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// What Azure.Core's retry policy makes of each injected fault, on a real table: the premises the stores' error
/// handling (and the other fault tests) rest on.
/// </summary>
public sealed class AzureCoreRetryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    public static TheoryData<StorageFault> Faults => [.. Enum.GetValues<StorageFault>()];

    private async Task<(TableClient Table, FaultInjectionPolicy Faults)> CreateAsync(int maxRetries)
    {
        var name = AzuriteFixture.UniqueTableName("retries");
        await azurite.CreateServiceClient().GetTableClient(name).CreateAsync(Ct);
        var faults = new FaultInjectionPolicy();
        var options = new TableClientOptions();
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.AddPolicy(faults, HttpPipelinePosition.PerRetry);
        return (azurite.CreateServiceClient(options).GetTableClient(name), faults);
    }

    private static TableEntity Row() => new("p", Guid.NewGuid().ToString("N")) { ["Value"] = 1 };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_read_that_fails_once_is_retried_and_succeeds(StorageFault fault)
    {
        var (table, faults) = await CreateAsync(maxRetries: 3);
        var row = Row();
        await table.AddEntityAsync(row, Ct);
        faults.Script(fault);

        var read = await table.GetEntityAsync<TableEntity>(row.PartitionKey, row.RowKey, cancellationToken: Ct);

        Assert.Equal(1, read.Value.GetInt32("Value"));
        Assert.Equal(1, faults.Injected(fault));
    }

    [Theory]
    [InlineData(StorageFault.Unavailable)]
    [InlineData(StorageFault.TimeoutBeforeSending)]
    public async Task An_insert_that_failed_before_reaching_storage_is_retried_and_succeeds(StorageFault fault)
    {
        var (table, faults) = await CreateAsync(maxRetries: 3);
        faults.Script(fault);

        await table.AddEntityAsync(Row(), Ct);

        Assert.Single(table.Query<TableEntity>(cancellationToken: Ct));
    }

    [Theory]
    [InlineData(StorageFault.TimeoutAfterProcessing)]
    [InlineData(StorageFault.ResponseLost)]
    public async Task An_insert_whose_answer_was_lost_is_retried_and_conflicts_with_itself(StorageFault fault)
    {
        var (table, faults) = await CreateAsync(maxRetries: 3);
        faults.Script(fault);

        // The write happened; Azure.Core sends it again; the caller sees only the second answer.
        var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(Row(), Ct));

        Assert.Equal(409, e.Status);
        Assert.Single(table.Query<TableEntity>(cancellationToken: Ct));
    }

    [Theory]
    [InlineData(StorageFault.TimeoutAfterProcessing)]
    [InlineData(StorageFault.ResponseLost)]
    public async Task A_conditional_update_whose_answer_was_lost_is_retried_and_fails_its_own_precondition(StorageFault fault)
    {
        var (table, faults) = await CreateAsync(maxRetries: 3);
        var row = Row();
        var added = await table.AddEntityAsync(row, Ct);
        row["Value"] = 2;
        faults.Script(fault);

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.UpdateEntityAsync(row, added.Headers.ETag!.Value, TableUpdateMode.Replace, Ct));

        Assert.Equal(412, e.Status);
        Assert.Equal(2, (await table.GetEntityAsync<TableEntity>(row.PartitionKey, row.RowKey, cancellationToken: Ct)).Value.GetInt32("Value"));
    }

    [Fact]
    public async Task A_transaction_whose_answer_was_lost_is_retried_and_fails_whole_on_its_own_rows()
    {
        var (table, faults) = await CreateAsync(maxRetries: 3);
        faults.Script(StorageFault.ResponseLost);
        var rows = new[] { Row(), Row() };

        var e = await Assert.ThrowsAsync<TableTransactionFailedException>(() =>
            table.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), Ct));

        Assert.Equal(409, e.Status);
        Assert.Equal(2, table.Query<TableEntity>(cancellationToken: Ct).Count());
    }

    [Fact]
    public async Task Without_retries_a_timeout_reaches_the_caller_as_a_cancellation_nobody_asked_for()
    {
        var (table, faults) = await CreateAsync(maxRetries: 0);
        faults.Script(StorageFault.TimeoutBeforeSending);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => table.AddEntityAsync(Row(), Ct));
    }

    [Fact]
    public async Task Without_retries_a_lost_answer_reaches_the_caller_as_a_failure_without_status()
    {
        var (table, faults) = await CreateAsync(maxRetries: 0);
        faults.Script(StorageFault.ResponseLost);

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(Row(), Ct));

        Assert.Equal(0, e.Status);
        Assert.Single(table.Query<TableEntity>(cancellationToken: Ct));
    }

    [Fact]
    public async Task When_retries_run_out_on_exceptions_the_caller_gets_them_all_in_an_AggregateException()
    {
        var (table, faults) = await CreateAsync(maxRetries: 2);
        faults.Script(StorageFault.TimeoutBeforeSending, StorageFault.ResponseLost, StorageFault.TimeoutBeforeSending);

        // Neither a RequestFailedException nor an OperationCanceledException: code that catches only those lets it through.
        var e = await Assert.ThrowsAsync<AggregateException>(() => table.AddEntityAsync(Row(), Ct));

        Assert.Equal(3, e.InnerExceptions.Count);
        Assert.IsType<TaskCanceledException>(e.InnerExceptions[0]);
        Assert.IsType<RequestFailedException>(e.InnerExceptions[1]);
    }

    [Fact]
    public async Task When_retries_run_out_on_503_answers_the_caller_gets_the_last_answer()
    {
        var (table, faults) = await CreateAsync(maxRetries: 2);
        faults.Script(StorageFault.Unavailable, StorageFault.Unavailable, StorageFault.Unavailable);

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(Row(), Ct));

        Assert.Equal(503, e.Status);
        Assert.Empty(table.Query<TableEntity>(cancellationToken: Ct));
    }
}
