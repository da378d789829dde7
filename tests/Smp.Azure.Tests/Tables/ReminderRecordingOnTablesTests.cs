using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// R9: recording a reminder starts from the license the scan's listing gave (read, or carried by a confirmed reminder
/// row) and removes the reminder row under the ETag its own unconfirm answered; the write answers with the state it
/// stored. A row another writer changed since is judged as it is then, so the never-lower rule of index rows still
/// holds. A confirmed row carries the license as committed, and only while the license is exactly that.
/// </summary>
public sealed class ReminderRecordingOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly LocalDate DueOn = new(2026, 4, 1);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task R9_recording_a_listed_reminder_removes_its_row_and_answers_with_the_state_it_stored()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);

        var change = RecordSent(listed.License, reminder);
        var stored = await t.Store.UpdateAsync(listed, change.License, change.Event, Ct);

        Assert.NotNull(stored);
        var read = await t.Store.GetAsync(listed.License.Serial, Ct);
        Assert.Equal(read!.Version, stored.Version);
        Assert.Equal(read.ConcurrencyToken, stored.ConcurrencyToken);
        Assert.Equal(LicenseJsonMapper.Serialize(read.License), LicenseJsonMapper.Serialize(stored.License));
        Assert.Null(await ReminderRowAsync(t, reminder, listed.License.Serial));

        // The state answered is good for the next write.
        var training = TestLicenses.RecordTraining(stored.License);
        Assert.True(await t.Store.TryUpdateAsync(stored, training.License, training.Event, Ct));
    }

    [Fact]
    public async Task R9_a_reminder_row_raised_by_another_writer_while_the_reminder_is_recorded_stays()
    {
        // Another writer raises the row for its own version after the recording unconfirmed it, just before the
        // recording's transaction: the row no longer has the recording's ETag, so it is judged as it is, and stays.
        TableEntity? raised = null;
        var interloper = new BeforeLicenseTransaction();
        var t = StoreUnderTest.Create(azurite, interloper.Options());
        var (listed, reminder) = await ListedDueAsync(t);
        var key = LicenseIndex.ReminderKey(reminder, listed.License.Serial);
        interloper.Action = async () =>
        {
            raised = new TableEntity(key.PartitionKey, key.RowKey) { ["Serial"] = listed.License.Serial.Value, ["Version"] = listed.Version + 2 };
            await t.Index.UpsertEntityAsync(raised, TableUpdateMode.Replace, Ct);
        };

        var change = RecordSent(listed.License, reminder);
        Assert.NotNull(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        Assert.NotNull(raised);
        var row = await ReminderRowAsync(t, reminder, listed.License.Serial);
        Assert.NotNull(row);
        Assert.Equal(listed.Version + 2, row.GetInt64("Version"));
    }

    [Fact]
    public async Task R9_a_reminder_row_raised_before_the_recording_by_a_writer_of_the_same_version_goes_with_it()
    {
        // A row raised before the recording unconfirms it was raised by a writer starting from the same version as the
        // recording (a writer from a newer one would make the recording's transaction fail): that writer cannot commit
        // once the recording did, so its row is removed under the ETag the recording's unconfirm answered.
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);
        var key = LicenseIndex.ReminderKey(reminder, listed.License.Serial);
        await t.Index.UpsertEntityAsync(
            new TableEntity(key.PartitionKey, key.RowKey) { ["Serial"] = listed.License.Serial.Value, ["Version"] = listed.Version + 1 },
            TableUpdateMode.Replace,
            Ct);

        var change = RecordSent(listed.License, reminder);
        Assert.NotNull(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        Assert.Null(await ReminderRowAsync(t, reminder, listed.License.Serial));
    }

    [Fact]
    public async Task R9_a_new_license_confirms_its_reminder_rows_with_the_license_as_stored()
    {
        var t = StoreUnderTest.Create(azurite);
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        var stored = await t.Store.AddAsync(added.License, added.Event, Ct);

        Assert.NotNull(stored);
        var rows = await ReminderRowsOfAsync(t, added.License.Serial);
        Assert.NotEmpty(rows);
        Assert.All(rows, row => AssertConfirmedAs(stored, row));
    }

    [Fact]
    public async Task R9_a_change_confirms_the_reminder_rows_it_keeps_with_the_new_state()
    {
        var t = StoreUnderTest.Create(azurite);
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        var first = (await t.Store.AddAsync(added.License, added.Event, Ct))!;
        var contacts = TestLicenses.ReplaceContacts(first.License, "cad@acme.example");

        var stored = await t.Store.UpdateAsync(first, contacts.License, contacts.Event, Ct);

        Assert.NotNull(stored);
        var rows = await ReminderRowsOfAsync(t, added.License.Serial);
        Assert.NotEmpty(rows);
        Assert.All(rows, row => AssertConfirmedAs(stored, row));
    }

    [Fact]
    public async Task R9_a_change_whose_confirm_lost_to_another_write_leaves_the_row_unconfirmed()
    {
        // Between the change's transaction and its confirm, another write touches the reminder row (here the same
        // unconfirm any change makes first): the confirm fails on the ETag and the row is left unconfirmed, never
        // read and confirmed.
        var toucher = new AfterLicenseTransaction();
        var t = StoreUnderTest.Create(azurite, toucher.Options());
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        var first = (await t.Store.AddAsync(added.License, added.Event, Ct))!;
        var key = LicenseIndex.ReminderKey(ReminderSchedule.Default.Pending(first.License)[0], first.License.Serial);
        toucher.Action = async () => await t.Index.UpdateEntityAsync(LicenseEntities.Unconfirmed(key), global::Azure.ETag.All, TableUpdateMode.Merge, Ct);
        var contacts = TestLicenses.ReplaceContacts(first.License, "cad@acme.example");

        var stored = await t.Store.UpdateAsync(first, contacts.License, contacts.Event, Ct);

        Assert.NotNull(stored);
        Assert.True(toucher.Ran);
        var rows = await ReminderRowsOfAsync(t, added.License.Serial);
        var touched = Assert.Single(rows, r => r.RowKey == key.RowKey);
        Assert.Equal(string.Empty, touched.GetString(LicenseEntities.LicenseETagColumn));
        Assert.All(rows.Where(r => r.RowKey != key.RowKey), row => AssertConfirmedAs(stored, row));

        // The listing reads that license and lists it as stored.
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(new LocalDate(2099, 1, 1), Ct))
        {
            listed.Add(license);
        }

        var only = Assert.Single(listed, l => l.License.Serial == first.License.Serial);
        Assert.Equal(stored.ConcurrencyToken, only.ConcurrencyToken);
        Assert.Equal(LicenseJsonMapper.Serialize(stored.License), LicenseJsonMapper.Serialize(only.License));
    }

    [Fact]
    public async Task R9_a_change_whose_confirm_fails_leaves_no_copy_of_the_old_state_in_any_index_row()
    {
        // The change's unconfirm blanks the copy its reminder rows carried; the confirm after its transaction fails
        // (a 503), so the rows stay unconfirmed, and none may keep the customer data the change replaced.
        var failer = new FailConfirmOnce();
        var t = StoreUnderTest.Create(azurite, failer.Options());
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        var first = (await t.Store.AddAsync(added.License, added.Event, Ct))!;
        Assert.All(await ReminderRowsOfAsync(t, added.License.Serial), row => AssertConfirmedAs(first, row));
        var contacts = TestLicenses.ReplaceContacts(first.License, "cad@acme.example");

        failer.Armed = true;
        var stored = await t.Store.UpdateAsync(first, contacts.License, contacts.Event, Ct);

        Assert.NotNull(stored);
        Assert.True(failer.Failed);
        var rows = new List<TableEntity>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Serial eq {added.License.Serial.Value}"), cancellationToken: Ct))
        {
            rows.Add(row);
        }

        Assert.Contains(rows, row => row.PartitionKey == LicenseIndex.RemindersPartition);
        foreach (var row in rows)
        {
            var text = row.RowKey + " " + string.Join(' ', row.Select(property => property.Value?.ToString()));
            Assert.DoesNotContain("buyer@acme.example", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("it@acme.example", text, StringComparison.OrdinalIgnoreCase);
            if (row.PartitionKey == LicenseIndex.RemindersPartition)
            {
                Assert.Null(LicenseEntities.TryReadConfirmed(row, "90,30"));
            }
        }
    }

    [Fact]
    public async Task R9_the_reminder_listing_reads_no_license_for_a_confirmed_row_and_reads_one_that_is_not()
    {
        var counter = new LicenseReads();
        var t = StoreUnderTest.Create(azurite, counter.Options());
        var confirmed = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "CONF");
        var unconfirmed = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "UNCONF");
        var storedConfirmed = (await t.Store.AddAsync(confirmed.License, confirmed.Event, Ct))!;
        var storedUnconfirmed = (await t.Store.AddAsync(unconfirmed.License, unconfirmed.Event, Ct))!;
        foreach (var row in await ReminderRowsOfAsync(t, unconfirmed.License.Serial))
        {
            // As older code, the index rebuild or an interrupted change leaves it.
            await t.Index.UpdateEntityAsync(LicenseEntities.Unconfirmed(new IndexKey(row.PartitionKey, row.RowKey)), row.ETag, TableUpdateMode.Merge, Ct);
        }

        counter.Reads.Clear();
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(DueOn, Ct))
        {
            listed.Add(license);
        }

        Assert.Equal(2, listed.Count);

        // The copy was proven current by a merge of nothing under its ETag: it is listed under the summary's ETag now.
        var summary = await t.Licenses.GetEntityAsync<TableEntity>(LicenseEntities.PartitionKey(confirmed.License.Serial), LicenseEntities.SummaryRowKey(confirmed.License.Serial), cancellationToken: Ct);
        Assert.Equal(summary.Value.ETag.ToString(), Assert.Single(listed, l => l.License.Serial == confirmed.License.Serial).ConcurrencyToken);
        Assert.Equal(storedConfirmed.Version, Assert.Single(listed, l => l.License.Serial == confirmed.License.Serial).Version);
        Assert.Equal(storedUnconfirmed.ConcurrencyToken, Assert.Single(listed, l => l.License.Serial == unconfirmed.License.Serial).ConcurrencyToken);
        Assert.DoesNotContain(counter.Reads, r => r.Contains(confirmed.License.Serial.Value, StringComparison.Ordinal));
        Assert.Single(counter.Reads, r => r.Contains(unconfirmed.License.Serial.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task R9_a_confirmed_row_left_confirmed_by_a_writer_that_does_not_keep_the_rows_is_not_trusted()
    {
        // A host of an earlier release, still running during a slot swap, changes the contacts without unconfirming the
        // license's reminder rows: they stay confirmed with the old copy. The listing must answer the license as it is.
        var counter = new LicenseReads();
        var t = StoreUnderTest.Create(azurite, counter.Options());
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        var stored = (await t.Store.AddAsync(added.License, added.Event, Ct))!;
        var asConfirmed = await ReminderRowsOfAsync(t, added.License.Serial);
        Assert.NotEmpty(asConfirmed);
        var change = TestLicenses.ReplaceContacts(stored.License, "new-buyer@acme.example");
        var changed = (await t.Store.UpdateAsync(stored, change.License, change.Event, Ct))!;
        foreach (var row in asConfirmed)
        {
            await t.Index.UpsertEntityAsync(row, TableUpdateMode.Replace, Ct); // the rows as the earlier release leaves them
        }

        counter.Reads.Clear();
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(DueOn, Ct))
        {
            listed.Add(license);
        }

        var only = Assert.Single(listed);
        Assert.Equal((changed.Version, changed.ConcurrencyToken), (only.Version, only.ConcurrencyToken));
        Assert.Equal(changed.License.Contacts.Select(c => c.ToString()), only.License.Contacts.Select(c => c.ToString()));
        Assert.Single(counter.Reads, r => r.Contains(added.License.Serial.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task R9_a_reminder_row_confirmed_under_other_offsets_is_not_trusted()
    {
        // Confirmed while other offsets owned the index: a store of these offsets reads the license.
        var counter = new LicenseReads();
        var t = StoreUnderTest.Create(azurite, counter.Options());
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        var stored = (await t.Store.AddAsync(added.License, added.Event, Ct))!;
        foreach (var row in await ReminderRowsOfAsync(t, added.License.Serial))
        {
            await t.Index.UpdateEntityAsync(new TableEntity(row.PartitionKey, row.RowKey) { [LicenseEntities.OffsetsColumn] = "60" }, row.ETag, TableUpdateMode.Merge, Ct);
        }

        counter.Reads.Clear();
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(DueOn, Ct))
        {
            listed.Add(license);
        }

        Assert.Equal(stored.ConcurrencyToken, Assert.Single(listed).ConcurrencyToken);
        Assert.Single(counter.Reads, r => r.Contains(added.License.Serial.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task R9_a_confirmed_row_whose_copy_no_longer_needs_it_is_not_trusted()
    {
        // A row of a reminder the copy has recorded (no key of the copy's any more): the license is read, the row is stale.
        var counter = new LicenseReads();
        var t = StoreUnderTest.Create(azurite, counter.Options());
        var (listed, reminder) = await ListedDueAsync(t);
        var change = RecordSent(listed.License, reminder);
        var recorded = (await t.Store.UpdateAsync(listed, change.License, change.Event, Ct))!;
        var key = LicenseIndex.ReminderKey(reminder, listed.License.Serial);
        await t.Index.UpsertEntityAsync(
            new TableEntity(key.PartitionKey, key.RowKey)
            {
                ["Serial"] = listed.License.Serial.Value,
                ["Version"] = recorded.Version,
                [LicenseEntities.SchemaColumn] = LicenseJsonMapper.CurrentSchema,
                [LicenseEntities.LicenseColumn] = LicenseJsonMapper.Serialize(recorded.License),
                [LicenseEntities.LicenseETagColumn] = recorded.ConcurrencyToken,
                [LicenseEntities.OffsetsColumn] = "90,30",
            },
            TableUpdateMode.Replace,
            Ct);

        counter.Reads.Clear();
        var again = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(DueOn, Ct))
        {
            again.Add(license);
        }

        Assert.Empty(again);
        Assert.Single(counter.Reads, r => r.Contains(listed.License.Serial.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task R9_a_reminder_row_rewritten_at_its_version_after_the_listing_is_still_retired()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);

        // Rewritten at the same version (a new ETag): the one the listing read no longer matches.
        var key = LicenseIndex.ReminderKey(reminder, listed.License.Serial);
        await t.Index.UpsertEntityAsync(
            new TableEntity(key.PartitionKey, key.RowKey) { ["Serial"] = listed.License.Serial.Value, ["Version"] = listed.Version },
            TableUpdateMode.Replace,
            Ct);

        var change = RecordSent(listed.License, reminder);
        Assert.NotNull(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        Assert.Null(await ReminderRowAsync(t, reminder, listed.License.Serial));
    }

    [Fact]
    public async Task R9_a_listed_license_changed_since_is_not_overwritten_by_the_recording()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);
        var contacts = TestLicenses.ReplaceContacts(listed.License, "cad@acme.example");
        Assert.True(await t.Store.TryUpdateAsync(listed, contacts.License, contacts.Event, Ct));

        var change = RecordSent(listed.License, reminder);
        Assert.Null(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        // The row stays for the recording that starts again from the license as it is now.
        Assert.NotNull(await ReminderRowAsync(t, reminder, listed.License.Serial));
    }

    /// <summary>A new license with its one reminder due on <see cref="DueOn"/>, as the reminder listing returns it.</summary>
    private static async Task<(StoredLicense Listed, PlannedReminder Reminder)> ListedDueAsync(StoreUnderTest t)
    {
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(added.License, added.Event, Ct));
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(DueOn, Ct))
        {
            listed.Add(license);
        }

        var only = Assert.Single(listed);
        var reminder = Assert.Single(ReminderSchedule.Default.Pending(only.License));
        Assert.Equal(DueOn, reminder.DueOn);
        Assert.NotNull(await ReminderRowAsync(t, reminder, only.License.Serial));
        return (only, reminder);
    }

    private static Decision.Change RecordSent(License license, PlannedReminder reminder) =>
        Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, reminder, ReminderOutcome.Sent, "mail-1", Instant.FromUtc(2026, 4, 1, 15, 0), TestLicenses.Context));

    private static void AssertConfirmedAs(StoredLicense stored, TableEntity row)
    {
        Assert.Equal(stored.ConcurrencyToken, row.GetString(LicenseEntities.LicenseETagColumn));
        Assert.Equal(stored.Version, row.GetInt64(LicenseEntities.VersionColumn));
        Assert.Equal(LicenseJsonMapper.Serialize(stored.License), row.GetString(LicenseEntities.LicenseColumn));
        Assert.Equal("90,30", row.GetString(LicenseEntities.OffsetsColumn));
    }

    private static async Task<List<TableEntity>> ReminderRowsOfAsync(StoreUnderTest t, Serial serial)
    {
        var rows = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LicenseIndex.RemindersPartition} and Serial eq {serial.Value}");
        await foreach (var row in t.Index.QueryAsync<TableEntity>(filter, cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The point reads of license records (summary rows), as request paths.</summary>
    private sealed class LicenseReads : global::Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Reads { get; } = [];

        public TableClientOptions Options()
        {
            var options = new TableClientOptions();
            options.AddPolicy(this, global::Azure.Core.HttpPipelinePosition.PerCall);
            return options;
        }

        public override void OnSendingRequest(global::Azure.Core.HttpMessage message)
        {
            var path = Uri.UnescapeDataString(message.Request.Uri.Path);
            if (message.Request.Method == global::Azure.Core.RequestMethod.Get && path.Contains("RowKey='license|", StringComparison.Ordinal))
            {
                Reads.Add(path);
            }
        }
    }

    /// <summary>Runs <see cref="Action"/> once, just before the first transaction on a licenses table is sent.</summary>
    private sealed class BeforeLicenseTransaction : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        public Func<Task>? Action { get; set; }

        public TableClientOptions Options()
        {
            var options = new TableClientOptions();
            options.AddPolicy(this, global::Azure.Core.HttpPipelinePosition.PerCall);
            return options;
        }

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store calls storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (Action is { } action && IsLicenseTransaction(message))
            {
                Action = null;
                await action();
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>Runs <see cref="Action"/> once, just after the first transaction on a licenses table answered.</summary>
    private sealed class AfterLicenseTransaction : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        public Func<Task>? Action { get; set; }

        public bool Ran { get; private set; }

        public TableClientOptions Options()
        {
            var options = new TableClientOptions();
            options.AddPolicy(this, global::Azure.Core.HttpPipelinePosition.PerCall);
            return options;
        }

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store calls storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            var isTransaction = IsLicenseTransaction(message);
            await ProcessNextAsync(message, pipeline);
            if (isTransaction && Action is { } action)
            {
                Action = null;
                await action();
                Ran = true;
            }
        }
    }

    /// <summary>Once armed, fails with a 503 the first write after a license transaction (a change's confirm: a batch, or a merge for one row).</summary>
    private sealed class FailConfirmOnce : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private bool afterTransaction;

        public bool Armed { get; set; }

        public bool Failed { get; private set; }

        public TableClientOptions Options()
        {
            var options = new TableClientOptions();
            options.AddPolicy(this, global::Azure.Core.HttpPipelinePosition.PerCall);
            return options;
        }

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store calls storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (Armed && afterTransaction && message.Request.Method != global::Azure.Core.RequestMethod.Get)
            {
                Armed = false;
                Failed = true;
                throw new global::Azure.RequestFailedException(503, "The server is busy (injected).");
            }

            var isTransaction = IsLicenseTransaction(message);
            await ProcessNextAsync(message, pipeline);
            afterTransaction |= Armed && isTransaction;
        }
    }


    private static bool IsLicenseTransaction(global::Azure.Core.HttpMessage message)
    {
        if (message.Request.Method != global::Azure.Core.RequestMethod.Post || !message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) || message.Request.Content is not { } content)
        {
            return false;
        }

        using var buffer = new MemoryStream();
        content.WriteTo(buffer, CancellationToken.None);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()).Contains("license|", StringComparison.Ordinal);
    }

    private static async Task<TableEntity?> ReminderRowAsync(StoreUnderTest t, PlannedReminder reminder, Serial serial)
    {
        var key = LicenseIndex.ReminderKey(reminder, serial);
        var row = await t.Index.GetEntityIfExistsAsync<TableEntity>(key.PartitionKey, key.RowKey, cancellationToken: Ct);
        return row.HasValue ? row.Value : null;
    }
}
