using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableLicenseStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_license_round_trips_with_its_renewals_training_contacts_and_events()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));

        var events = new List<LicenseEvent> { activated.Event };
        var current = (await t.Store.GetAsync(activated.License.Serial, Ct))!;
        foreach (var decide in new Func<Core.Plans.License, Decision.Change>[]
        {
            TestLicenses.RecordTraining,
            l => TestLicenses.Renew(l, "PO-2026-001", 12, Instant.FromUtc(2026, 4, 19, 12, 0)),
            l => TestLicenses.Renew(l, "PO-2026-002 'quoted' #2/3?", 24),
            l => TestLicenses.ReplaceContacts(l, "new.buyer@acme.example"),
        })
        {
            var change = decide(current.License);
            Assert.True(await t.Store.TryUpdateAsync(current, change.License, change.Event, Ct));
            events.Add(change.Event);
            current = (await t.Store.GetAsync(current.License.Serial, Ct))!;
            Assert.Equal(TestLicenses.Facts(change.License), TestLicenses.Facts(current.License));
        }

        Assert.Equal(5, current.Version);
        Assert.Equal(2, current.License.Renewals.Length);
        Assert.Equal(new LocalDate(2030, 4, 1), current.License.ExpiresOn);
        Assert.Equal(TestLicenses.Facts(events), TestLicenses.Facts(await t.Store.GetEventsAsync(current.License.Serial, Ct)));
    }

    [Fact]
    public async Task The_summary_row_carries_the_denormalized_columns_and_a_versioned_document()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "Kunde 'Müller' #7");
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));

        var summary = (await t.Licenses.GetEntityAsync<TableEntity>(activated.License.Serial.Value, "license|" + activated.License.Serial.Value, cancellationToken: Ct)).Value;
        Assert.Equal("Kunde 'Müller' #7", summary.GetString("CustomerId"));
        Assert.Equal("2026-05-01", summary.GetString("ExpiresOn"));
        Assert.Equal(1L, summary.GetInt64("Version"));
        Assert.Equal(1, summary.GetInt32("Schema"));
        Assert.Contains("\"emailSentOn\":\"2026-03-14\"", summary.GetString("License"), StringComparison.Ordinal);

        var firstEvent = (await t.Licenses.GetEntityAsync<TableEntity>(activated.License.Serial.Value, "event|" + activated.License.Serial.Value + "|0000000000000000001", cancellationToken: Ct)).Value;
        Assert.Equal(LicenseEventTypes.Activated, firstEvent.GetString("Type"));
        Assert.Equal("2026-03-14T16:00:00Z", firstEvent.GetString("At"));
        Assert.Equal("corr-0001", firstEvent.GetString("CorrelationId"));
    }

    [Fact]
    public async Task Adding_a_stored_serial_again_is_refused_and_keeps_one_event()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());

        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
        Assert.False(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));

        Assert.Single(await t.Store.GetEventsAsync(activated.License.Serial, Ct));
        Assert.Equal(1, (await t.Store.GetAsync(activated.License.Serial, Ct))!.Version);
    }

    [Fact]
    public async Task Of_twenty_concurrent_adds_of_one_serial_exactly_one_succeeds_with_exactly_one_event()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = TestLicenses.NewSerial();
        var attempts = Enumerable.Range(0, 20)
            .Select(i => TestLicenses.Activate(TestLicenses.Activation(serial, customerId: $"CUST-{i % 3}")))
            .Select(change => Task.Run(() => t.Store.TryAddAsync(change.License, change.Event, Ct)));

        var results = await Task.WhenAll(attempts);

        Assert.Single(results, added => added);
        var rows = await t.PartitionAsync(serial.Value);
        Assert.Single(rows, r => r.RowKey.StartsWith("event|", StringComparison.Ordinal));
        Assert.Single(rows, r => r.RowKey == "license|" + serial.Value);
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public async Task Of_concurrent_updates_from_the_same_read_exactly_one_wins()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
        var read = (await t.Store.GetAsync(activated.License.Serial, Ct))!;

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() =>
        {
            var change = TestLicenses.Renew(read.License, $"PO-{i}");
            return t.Store.TryUpdateAsync(read, change.License, change.Event, Ct);
        })));

        Assert.Single(results, won => won);
        var stored = (await t.Store.GetAsync(activated.License.Serial, Ct))!;
        Assert.Equal(2, stored.Version);
        Assert.Single(stored.License.Renewals);
        Assert.Equal(2, (await t.Store.GetEventsAsync(activated.License.Serial, Ct)).Count);
    }

    [Fact]
    public async Task An_update_from_a_stale_read_is_refused_and_writes_nothing()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
        var stale = (await t.Store.GetAsync(activated.License.Serial, Ct))!;
        var first = TestLicenses.Renew(stale.License, "PO-1");
        Assert.True(await t.Store.TryUpdateAsync(stale, first.License, first.Event, Ct));
        var before = await t.PartitionAsync(activated.License.Serial.Value);

        var second = TestLicenses.Renew(stale.License, "PO-2");
        Assert.False(await t.Store.TryUpdateAsync(stale, second.License, second.Event, Ct));

        var after = await t.PartitionAsync(activated.License.Serial.Value);
        Assert.Equal(before.Select(r => (r.RowKey, r.ETag)), after.Select(r => (r.RowKey, r.ETag)));
    }

    [Fact]
    public async Task An_unknown_serial_has_no_license_and_no_events()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = TestLicenses.NewSerial();

        Assert.Null(await t.Store.GetAsync(serial, Ct));
        Assert.Empty(await t.Store.GetEventsAsync(serial, Ct));
    }

    [Fact]
    public async Task An_update_cannot_change_the_serial()
    {
        var t = StoreUnderTest.Create(azurite);
        var activated = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(activated.License, activated.Event, Ct));
        var read = (await t.Store.GetAsync(activated.License.Serial, Ct))!;
        var other = TestLicenses.Activate(TestLicenses.NewSerial());

        await Assert.ThrowsAsync<ArgumentException>(() => t.Store.TryUpdateAsync(read, other.License, other.Event, Ct));
    }

    [Fact]
    public async Task Tables_are_created_on_first_use_and_not_before()
    {
        var t = StoreUnderTest.Create(azurite);
        var service = azurite.CreateServiceClient();
        bool Exists(string name) => service.Query(TableClient.CreateQueryFilter($"TableName eq {name}"), cancellationToken: Ct).Any();

        Assert.False(Exists(t.Options.LicensesTable));
        Assert.True(await t.Store.PingAsync(Ct));
        Assert.True(Exists(t.Options.LicensesTable));
        Assert.True(Exists(t.Options.IndexTable));
    }

    [Fact]
    public async Task Concurrent_first_uses_create_the_tables_once_without_errors()
    {
        var t = StoreUnderTest.Create(azurite);
        var reads = Enumerable.Range(0, 10).Select(_ => Task.Run(() => t.Store.GetAsync(TestLicenses.NewSerial(), Ct)));

        Assert.All(await Task.WhenAll(reads), Assert.Null);
    }

    [Fact]
    public async Task Ping_answers_true_when_storage_answers_and_false_when_it_does_not()
    {
        var t = StoreUnderTest.Create(azurite);
        Assert.True(await t.Store.PingAsync(Ct));

        var options = new TableClientOptions();
        options.Retry.MaxRetries = 0;
        var unreachable = new TableServiceClient(
            new Uri("http://127.0.0.1:9/devstoreaccount1"),
            new TableSharedKeyCredential(AzuriteProcess.AccountName, AzuriteProcess.AccountKey),
            options);
        Assert.False(await new TableLicenseStore(unreachable).PingAsync(Ct));
    }
}
