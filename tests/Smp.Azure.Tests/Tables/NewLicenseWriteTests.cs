using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Smp.Azure.Tables;
using Smp.Azure.Tests.Faults;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// Storing a new license: the rows written ahead of it (index rows, its row among the latest events) are inserted
/// without reading them first and read only when an insert conflicts, and the license is answered from the summary
/// just written. The index rows keep their rules: a row is never lowered, and rows a crashed earlier attempt left are
/// the new license's rows.
/// </summary>
public sealed class NewLicenseWriteTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_new_license_is_stored_without_a_read_and_answered_as_stored()
    {
        var counter = new RequestCounter();
        var t = StoreUnderTest.Create(azurite, Counted(counter));
        await AddAsync(t, TestLicenses.Activate(TestLicenses.NewSerial())); // creates the tables and reads the index's owner
        var change = TestLicenses.Activate(TestLicenses.NewSerial(), onSiteTraining: true);

        counter.Reset();
        var added = await t.Store.AddAsync(change.License, change.Event, Ct);

        Assert.NotNull(added);
        Assert.Equal(0, counter.Reads);
        Assert.Equal(RequestsToAdd(change.License), counter.Requests);
        var read = (await t.Store.GetAsync(change.License.Serial, Ct))!;
        Assert.Equal(read.Version, added.Version);
        Assert.Equal(read.ConcurrencyToken, added.ConcurrencyToken);
        Assert.Equivalent(TestLicenses.Facts(read.License), TestLicenses.Facts(added.License), strict: true);

        // The token answered is the stored one: a change made from the answer is accepted.
        var renewal = TestLicenses.Renew(added.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(added, renewal.License, renewal.Event, Ct));
    }

    [Fact]
    public async Task A_new_license_writes_one_request_per_partition_ahead_then_its_transaction_then_the_confirm_of_its_reminder_rows()
    {
        var recorder = new WriteRecorder();
        var t = StoreUnderTest.Create(azurite, WithPolicy(recorder, HttpPipelinePosition.PerCall));
        await AddAsync(t, TestLicenses.Activate(TestLicenses.NewSerial())); // creates the tables and reads the index's owner
        var change = TestLicenses.Activate(TestLicenses.NewSerial());

        recorder.Writes.Clear();
        Assert.NotNull(await t.Store.AddAsync(change.License, change.Event, Ct));

        // Customer ACME-001 "Acme Tubes", contacts buyer@ and it@acme.example: the customer, expiry, reminder and
        // latest-events partitions, and the one search partition holding all six search rows (serial, customer id, two
        // name words, two contacts).
        string[] ahead =
        [
            LicenseIndex.CustomerPartition("ACME-001"), LicenseIndex.ExpiresPartition, LicenseIndex.RemindersPartition,
            LicenseSearchKeys.Partition, TableLicenseStore.RecentPartition,
        ];
        var writes = recorder.Writes.ToList();
        Assert.Equal(ahead.Length + 2, writes.Count);
        Assert.Equal(ahead.Order(StringComparer.Ordinal), writes.Take(ahead.Length).Select(w => Assert.Single(w)).Order(StringComparer.Ordinal));
        Assert.Equal(LicenseEntities.PartitionKey(change.License.Serial), Assert.Single(writes[^2])); // the transaction
        Assert.Equal(LicenseIndex.RemindersPartition, Assert.Single(writes[^1])); // the confirm
        Assert.Equal(
            ReminderSchedule.Default.Pending(change.License).Length,
            (await IndexRowsOfAsync(t, change.License.Serial)).Count(r => r.PartitionKey == LicenseIndex.RemindersPartition));
    }

    [Fact]
    public async Task A_new_license_with_two_reminder_rows_writes_them_in_one_request_and_confirms_them_in_one()
    {
        var recorder = new WriteRecorder();
        var t = StoreUnderTest.Create(azurite, WithPolicy(recorder, HttpPipelinePosition.PerCall));
        await AddAsync(t, TestLicenses.Activate(TestLicenses.NewSerial()));
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        var license = TestLicenses.Renew(activated.License, "PO-1").License; // a year ahead: both stages pending
        Assert.Equal(2, ReminderSchedule.Default.Pending(license).Length);

        recorder.Writes.Clear();
        Assert.NotNull(await t.Store.AddAsync(license, activated.Event, Ct));

        var writes = recorder.Writes.ToList();
        Assert.Equal(2, writes.Count(w => w.SetEquals([LicenseIndex.RemindersPartition]))); // the inserts ahead, the confirm
        Assert.Equal(LicenseIndex.RemindersPartition, Assert.Single(writes[^1]));
        Assert.Equal(2, (await IndexRowsOfAsync(t, license.Serial)).Count(r => r.PartitionKey == LicenseIndex.RemindersPartition && r.GetString(LicenseEntities.LicenseETagColumn) is { Length: > 0 }));
    }

    [Fact]
    public async Task A_new_license_leaves_an_index_row_of_a_newer_version_as_it_is_and_reads_only_that_row()
    {
        var counter = new RequestCounter();
        var t = StoreUnderTest.Create(azurite, Counted(counter));
        await AddAsync(t, TestLicenses.Activate(TestLicenses.NewSerial()));
        var change = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "NEWER");
        var customerRow = LicenseIndex.CustomerKey("NEWER", change.License.Serial);
        await t.Index.AddEntityAsync(LicenseEntities.IndexRow(customerRow, change.License.Serial, version: 5), Ct);

        counter.Reset();
        var added = await t.Store.AddAsync(change.License, change.Event, Ct);

        Assert.NotNull(added);
        Assert.Equal(1, counter.Reads); // the conflicting row, to judge it; nothing else is read
        Assert.Equal(RequestsToAdd(change.License) + 1, counter.Requests);
        var row = await t.Index.GetEntityAsync<TableEntity>(customerRow.PartitionKey, customerRow.RowKey, cancellationToken: Ct);
        Assert.Equal<long?>(5, row.Value.GetInt64("Version")); // never lowered
        Assert.Equal([change.License.Serial], await SerialsAsync(t.Store.ListByCustomerAsync("NEWER", Ct)));
    }

    [Fact]
    public async Task A_new_license_raises_an_index_row_that_records_no_version()
    {
        var t = StoreUnderTest.Create(azurite);
        var change = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "UNVERSIONED");
        var customerRow = LicenseIndex.CustomerKey("UNVERSIONED", change.License.Serial);
        await t.Store.GetAsync(change.License.Serial, Ct); // creates the tables
        await t.Index.AddEntityAsync(new TableEntity(customerRow.PartitionKey, customerRow.RowKey) { ["Serial"] = change.License.Serial.Value }, Ct);

        Assert.NotNull(await t.Store.AddAsync(change.License, change.Event, Ct));

        var row = await t.Index.GetEntityAsync<TableEntity>(customerRow.PartitionKey, customerRow.RowKey, cancellationToken: Ct);
        Assert.Equal<long?>(1, row.Value.GetInt64("Version"));
    }

    [Theory]
    [InlineData(1L, 2L)] // a row an earlier attempt left at an older version: raised to the change's version
    [InlineData(7L, 7L)] // a row of a newer version: never lowered, and the change still commits
    public async Task A_change_inserts_its_new_index_rows_first_and_judges_a_row_that_is_there_as_before(long stored, long expected)
    {
        var t = StoreUnderTest.Create(azurite);
        var activation = TestLicenses.Activate(TestLicenses.NewSerial());
        var added = (await t.Store.AddAsync(activation.License, activation.Event, Ct))!;
        var renewal = TestLicenses.Renew(added.License, "PO-7");
        Assert.NotEqual(added.License.ExpiresOn, renewal.License.ExpiresOn);
        var expiryRow = LicenseIndex.ExpiresKey(renewal.License.ExpiresOn, added.License.Serial);
        await t.Index.AddEntityAsync(LicenseEntities.IndexRow(expiryRow, added.License.Serial, version: stored), Ct);

        Assert.True(await t.Store.TryUpdateAsync(added, renewal.License, renewal.Event, Ct));

        Assert.Equal(2, (await t.Store.GetAsync(added.License.Serial, Ct))!.Version);
        var row = await t.Index.GetEntityAsync<TableEntity>(expiryRow.PartitionKey, expiryRow.RowKey, cancellationToken: Ct);
        Assert.Equal<long?>(expected, row.Value.GetInt64("Version"));
    }

    [Fact]
    public async Task Rows_left_by_an_add_that_crashed_before_its_transaction_serve_the_next_attempt()
    {
        var crash = new ProcessCrashPolicy();
        var crashing = StoreUnderTest.Create(azurite, WithPolicy(crash, HttpPipelinePosition.PerRetry));
        var change = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "CRASHED");
        await crashing.Store.GetAsync(change.License.Serial, Ct); // the store's one-off first-use writes
        var rowsAhead = WrittenAhead(change.License);
        crash.Arm(PartitionsWrittenAhead(change.License) + 1, CrashTiming.BeforeWrite); // the transaction

        await Assert.ThrowsAsync<SimulatedCrashException>(() => crashing.Store.AddAsync(change.License, change.Event, Ct));
        var leftBehind = await IndexRowsOfAsync(crashing, change.License.Serial);
        Assert.Equal(rowsAhead, leftBehind.Count);
        Assert.Empty(await crashing.PartitionAsync(LicenseEntities.PartitionKey(change.License.Serial)));

        // A new process adds the license again: every insert meets its row, reads it, and leaves it (same version); the
        // refused search batch first reads whether the serial is stored (it is not: the rows were left by a crash).
        var counter = new RequestCounter();
        var restarted = new TableLicenseStore(azurite.CreateServiceClient(Counted(counter)), crashing.Options);
        await restarted.GetAsync(TestLicenses.NewSerial(), Ct); // the new process's first use of its store
        counter.Reset();
        var added = await restarted.AddAsync(change.License, change.Event, Ct);

        Assert.NotNull(added);
        Assert.Equal(rowsAhead + 1, counter.Reads);
        Assert.Equal(
            leftBehind.Select(r => (r.PartitionKey, r.RowKey, r.GetInt64("Version"))).Order(),
            (await IndexRowsOfAsync(crashing, change.License.Serial)).Select(r => (r.PartitionKey, r.RowKey, r.GetInt64("Version"))).Order());
        Assert.Equal([change.License.Serial], await SerialsAsync(restarted.ListByCustomerAsync("CRASHED", Ct)));
        Assert.Equal(1, (await restarted.GetAsync(change.License.Serial, Ct))!.Version);
    }

    [Fact]
    public async Task Two_adds_of_one_serial_at_once_store_exactly_one_and_its_rows_once()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = TestLicenses.NewSerial();
        await t.Store.GetAsync(serial, Ct);
        var first = TestLicenses.Activate(serial, customerId: "RACE");
        var second = TestLicenses.Activate(serial, customerId: "RACE", onSiteTraining: true);

        var results = await Task.WhenAll(
            Task.Run(() => t.Store.AddAsync(first.License, first.Event, Ct)),
            Task.Run(() => t.Store.AddAsync(second.License, second.Event, Ct)));

        var winner = Assert.Single(results.OfType<StoredLicense>());
        var stored = (await t.Store.GetAsync(serial, Ct))!;
        Assert.Equal(winner.ConcurrencyToken, stored.ConcurrencyToken);
        Assert.Equal(winner.License.Activation.OnSiteTraining, stored.License.Activation.OnSiteTraining);
        Assert.Equal([serial], await SerialsAsync(t.Store.ListByCustomerAsync("RACE", Ct)));
    }

    /// <summary>The rows a new license writes ahead of its transaction: its index rows and its row among the latest events.</summary>
    private static int WrittenAhead(License license) => LicenseIndex.KeysFor(license, ReminderSchedule.Default).Count + 1;

    /// <summary>The partitions of the rows a new license writes ahead of its transaction: one request each.</summary>
    private static int PartitionsWrittenAhead(License license) =>
        LicenseIndex.KeysFor(license, ReminderSchedule.Default).Select(k => k.PartitionKey).Append(TableLicenseStore.RecentPartition).Distinct().Count();

    /// <summary>
    /// The requests that store a new license: one per partition written ahead, the transaction, and the confirm of its
    /// reminder rows (when it has any).
    /// </summary>
    private static int RequestsToAdd(License license) =>
        PartitionsWrittenAhead(license) + 1
        + (LicenseIndex.KeysFor(license, ReminderSchedule.Default).Any(k => k.PartitionKey == LicenseIndex.RemindersPartition) ? 1 : 0);

    private static async Task AddAsync(StoreUnderTest t, Decision.Change change) =>
        Assert.NotNull(await t.Store.AddAsync(change.License, change.Event, Ct));

    private static async Task<List<TableEntity>> IndexRowsOfAsync(StoreUnderTest t, Serial serial)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Serial eq {serial.Value}")))
        {
            rows.Add(row);
        }

        return rows;
    }

    private static async Task<List<Serial>> SerialsAsync(IAsyncEnumerable<StoredLicense> licenses)
    {
        var serials = new List<Serial>();
        await foreach (var license in licenses)
        {
            serials.Add(license.License.Serial);
        }

        return serials;
    }

    private static TableClientOptions Counted(RequestCounter counter) => WithPolicy(counter, HttpPipelinePosition.PerCall);

    private static TableClientOptions WithPolicy(HttpPipelinePolicy policy, HttpPipelinePosition position)
    {
        var options = new TableClientOptions();
        options.AddPolicy(policy, position);
        return options;
    }

    /// <summary>The partitions each write request names (in its address or body), in the order sent.</summary>
    [Fact]
    public async Task New_licenses_added_at_once_read_which_offsets_own_the_reminder_index_once_not_once_each()
    {
        var reads = new OwnerReadCounter();
        var t = StoreUnderTest.Create(azurite, WithPolicy(reads, HttpPipelinePosition.PerCall));
        await t.Store.GetAsync(TestLicenses.NewSerial(), Ct); // creates the tables (which reads the index's record once)
        reads.Reset();

        var added = await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            var change = TestLicenses.Activate(TestLicenses.NewSerial());
            return await t.Store.AddAsync(change.License, change.Event, Ct);
        }));

        Assert.All(added, Assert.NotNull);
        Assert.Equal(1, reads.Count);
    }

    /// <summary>Counts the point reads of the reminder index's record (row <c>reminder-index</c> of partition <c>~meta</c>).</summary>
    private sealed class OwnerReadCounter : HttpPipelinePolicy
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public void Reset() => Interlocked.Exchange(ref count, 0);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store calls storage asynchronously.");

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var path = Uri.UnescapeDataString(message.Request.Uri.Path);
            if (message.Request.Method == RequestMethod.Get && path.Contains("RowKey='reminder-index'", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref count);
            }

            return ProcessNextAsync(message, pipeline);
        }
    }

    private sealed class WriteRecorder : HttpPipelinePolicy
    {
        public System.Collections.Concurrent.ConcurrentQueue<HashSet<string>> Writes { get; } = new();

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store calls storage asynchronously.");

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var path = Uri.UnescapeDataString(message.Request.Uri.Path);
            if (message.Request.Method != RequestMethod.Get && !path.EndsWith("/Tables", StringComparison.Ordinal))
            {
                var text = path;
                if (message.Request.Content is { } content)
                {
                    using var buffer = new MemoryStream();
                    content.WriteTo(buffer, CancellationToken.None);
                    text += Uri.UnescapeDataString(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
                }

                Writes.Enqueue([
                    .. System.Text.RegularExpressions.Regex.Matches(text, "PartitionKey='([^']*)'|\"PartitionKey\":\"([^\"]*)\"")
                        .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value),
                ]);
            }

            return ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>Counts requests and reads, and apart the reads of the record of the reminder index's owner (made at most every few seconds).</summary>
    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int requests;
        private int reads;
        private int ownerReads;

        public int Requests => Volatile.Read(ref requests) - OwnerReads;

        public int Reads => Volatile.Read(ref reads) - OwnerReads;

        public int OwnerReads => Volatile.Read(ref ownerReads);

        public void Reset()
        {
            Interlocked.Exchange(ref requests, 0);
            Interlocked.Exchange(ref reads, 0);
            Interlocked.Exchange(ref ownerReads, 0);
        }

        public override void OnReceivedResponse(HttpMessage message)
        {
            Interlocked.Increment(ref requests);
            if (message.Request.Method == RequestMethod.Get)
            {
                Interlocked.Increment(ref reads);
                if (Uri.UnescapeDataString(message.Request.Uri.Path).Contains("PartitionKey='~meta'", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref ownerReads);
                }
            }
        }
    }
}
