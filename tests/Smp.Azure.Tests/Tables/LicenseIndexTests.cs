using Smp.Core.Reminders;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class LicenseIndexTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public void A_license_needs_one_customer_row_one_expiry_row_one_row_per_pending_reminder_and_its_search_rows()
    {
        var license = TestLicenses.Activate(Serial.Parse("AB-12"), customerId: "ACME/EU #1").License;

        var keys = LicenseIndex.KeysFor(license, ReminderSchedule.Default);

        Assert.Equal(
            new HashSet<IndexKey>
            {
                new("customer|ACME~002FEU~0020~00231", "AB-12"),
                new("expires", "2026-05-01|AB-12"),
                new("reminders", "2026-04-01|AB-12|2026-05-01|030"), // the 30-day term's only reminder, due on its start
                // Search (section 8): the serial, the customer id, each word of the customer's name, each contact; folded.
                new("search-terms", "serial|ab-12|AB-12"),
                new("search-terms", "customer|acme~002Feu~0020~00231|AB-12"),
                new("search-terms", "name|acme|AB-12"),
                new("search-terms", "name|tubes|AB-12"),
                new("search-terms", "email|buyer~0040acme.example|AB-12"),
                new("search-terms", "email|it~0040acme.example|AB-12"),
            },
            keys);
    }

    [Fact]
    public async Task Listing_by_customer_returns_that_customers_licenses_only_in_serial_order()
    {
        var t = StoreUnderTest.Create(azurite);
        var a1 = await AddAsync(t, "ACME");
        var a2 = await AddAsync(t, "ACME");
        var b1 = await AddAsync(t, "BETA");
        var lookalike = await AddAsync(t, "acme");

        Assert.Equal(Sorted(a1, a2), await SerialsAsync(t.Store.ListByCustomerAsync("ACME", Ct)));
        Assert.Equal([b1.Value], await SerialsAsync(t.Store.ListByCustomerAsync("BETA", Ct)));
        Assert.Equal([lookalike.Value], await SerialsAsync(t.Store.ListByCustomerAsync("acme", Ct)));
        Assert.Empty(await SerialsAsync(t.Store.ListByCustomerAsync("NOBODY", Ct)));
    }

    [Fact]
    public async Task Listing_by_customer_skips_rows_written_ahead_of_a_change_that_never_landed()
    {
        var t = StoreUnderTest.Create(azurite);
        var a1 = await AddAsync(t, "ACME");
        var b1 = await AddAsync(t, "BETA");

        // A crash after the index rows were written and before the license was: a row for a serial never
        // stored, and a row claiming BETA's license for ACME (an add of that serial for ACME that lost).
        var ghost = TestLicenses.NewSerial("GHOST");
        await WriteIndexRowAsync(t, LicenseIndex.CustomerKey("ACME", ghost), ghost, version: 1);
        await WriteIndexRowAsync(t, LicenseIndex.CustomerKey("ACME", b1), b1, version: 1);

        Assert.Equal([a1.Value], await SerialsAsync(t.Store.ListByCustomerAsync("ACME", Ct)));
        Assert.Equal([b1.Value], await SerialsAsync(t.Store.ListByCustomerAsync("BETA", Ct)));
    }

    [Fact]
    public async Task Listing_by_expiry_reads_the_date_range_and_returns_current_expiries_in_date_order()
    {
        var t = StoreUnderTest.Create(azurite);
        var trial = await AddAsync(t, "ACME");                          // expires 2026-05-01
        var year = await AddAsync(t, "ACME", onSiteTraining: true);     // expires 2027-04-01
        var renewed = await AddAsync(t, "BETA");                        // expires 2026-05-01, renewed to 2027-05-01
        await RenewAsync(t, renewed, "PO-1");

        Assert.Equal([trial.Value], await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2026, 5, 1), new LocalDate(2026, 5, 1), Ct)));
        Assert.Equal([trial.Value], await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2026, 4, 1), new LocalDate(2026, 12, 31), Ct)));
        Assert.Equal([year.Value, renewed.Value], await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2026, 5, 2), new LocalDate(2027, 5, 1), Ct)));
        Assert.Empty(await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2026, 5, 2), new LocalDate(2027, 3, 31), Ct)));
        Assert.Empty(await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2027, 5, 1), new LocalDate(2026, 5, 1), Ct)));
        Assert.Equal(
            [trial.Value, year.Value, renewed.Value],
            await SerialsAsync(t.Store.ListExpiringAsync(LocalDate.MinIsoValue, LocalDate.MaxIsoValue, Ct)));
    }

    [Fact]
    public async Task Listing_by_expiry_skips_stale_rows_and_removes_those_no_writer_can_still_need()
    {
        var t = StoreUnderTest.Create(azurite);
        var trial = await AddAsync(t, "ACME");      // expires 2026-05-01, version 1
        var renewed = await AddAsync(t, "BETA");    // expires 2026-05-01 -> 2027-05-01, version 2
        await RenewAsync(t, renewed, "PO-1");

        // An interrupted clean-up: the renewed license's old expiry row is back (written for version 1).
        var leftOver = LicenseIndex.ExpiresKey(new LocalDate(2026, 5, 1), renewed);
        await WriteIndexRowAsync(t, leftOver, renewed, version: 1);

        // A crash between the index write and the transaction of a renewal of the trial license (version 2).
        var aheadOfChange = LicenseIndex.ExpiresKey(new LocalDate(2026, 8, 1), trial);
        await WriteIndexRowAsync(t, aheadOfChange, trial, version: 2);

        var may = new LocalDate(2026, 5, 1);
        Assert.Equal([trial.Value], await SerialsAsync(t.Store.ListExpiringAsync(may, may, Ct)));
        Assert.Empty(await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2026, 7, 1), new LocalDate(2026, 9, 1), Ct)));
        Assert.Equal(
            [trial.Value, renewed.Value],
            await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2026, 1, 1), new LocalDate(2027, 12, 31), Ct)));

        // The left-over row was for a version the license has passed: removed. The row written ahead of a
        // change is for a version not stored yet (its writer may still commit): kept.
        Assert.False((await t.Index.GetEntityIfExistsAsync<TableEntity>(leftOver.PartitionKey, leftOver.RowKey, cancellationToken: Ct)).HasValue);
        Assert.True((await t.Index.GetEntityIfExistsAsync<TableEntity>(aheadOfChange.PartitionKey, aheadOfChange.RowKey, cancellationToken: Ct)).HasValue);
    }

    [Fact]
    public async Task A_change_moves_the_expiry_and_reminder_rows_and_keeps_the_customer_and_search_rows()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = await AddAsync(t, "ACME");
        await RenewAsync(t, serial, "PO-1");

        var rows = new List<(string, string, long?)>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey ne {TableLicenseStore.RecentPartition}"), cancellationToken: Ct))
        {
            // The latest events' rows (one per change, section 8) are not the license's index rows.
            rows.Add((row.PartitionKey, row.RowKey, row.GetInt64("Version")));
        }

        Assert.Equal(
            new[]
            {
                ("customer|ACME", serial.Value, (long?)1),
                ("expires", $"2027-05-01|{serial.Value}", (long?)2),
                // The renewed one-year term has both reminders; the trial's 30-day reminder row is gone.
                ("reminders", $"2027-01-31|{serial.Value}|2027-05-01|090", (long?)2),
                ("reminders", $"2027-04-01|{serial.Value}|2027-05-01|030", (long?)2),
                // A renewal changes no search term: the search rows stay as the activation wrote them.
                ("search-terms", $"customer|acme|{serial.Value}", (long?)1),
                ("search-terms", $"email|buyer~0040acme.example|{serial.Value}", (long?)1),
                ("search-terms", $"email|it~0040acme.example|{serial.Value}", (long?)1),
                ("search-terms", $"name|acme|{serial.Value}", (long?)1),
                ("search-terms", $"name|tubes|{serial.Value}", (long?)1),
                ("search-terms", $"serial|{serial.Value.ToLowerInvariant()}|{serial.Value}", (long?)1),
            },
            rows.Order());
    }

    [Fact]
    public async Task A_renewal_that_loses_a_race_leaves_only_rows_that_readers_skip()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = await AddAsync(t, "ACME");
        var read = (await t.Store.GetAsync(serial, Ct))!;
        var winner = TestLicenses.Renew(read.License, "PO-1", months: 12);
        var loser = TestLicenses.Renew(read.License, "PO-2", months: 24);
        Assert.True(await t.Store.TryUpdateAsync(read, winner.License, winner.Event, Ct));
        Assert.False(await t.Store.TryUpdateAsync(read, loser.License, loser.Event, Ct));

        Assert.Equal([serial.Value], await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2027, 5, 1), new LocalDate(2027, 5, 1), Ct)));
        Assert.Empty(await SerialsAsync(t.Store.ListExpiringAsync(new LocalDate(2028, 5, 1), new LocalDate(2028, 5, 1), Ct)));
        Assert.Equal([serial.Value], await SerialsAsync(t.Store.ListByCustomerAsync("ACME", Ct)));
    }

    private static async Task<Serial> AddAsync(StoreUnderTest t, string customerId, bool onSiteTraining = false)
    {
        var change = TestLicenses.Activate(TestLicenses.NewSerial(), customerId, onSiteTraining);
        Assert.True(await t.Store.TryAddAsync(change.License, change.Event, Ct));
        return change.License.Serial;
    }

    private static async Task RenewAsync(StoreUnderTest t, Serial serial, string orderReference)
    {
        var read = (await t.Store.GetAsync(serial, Ct))!;
        var change = TestLicenses.Renew(read.License, orderReference);
        Assert.True(await t.Store.TryUpdateAsync(read, change.License, change.Event, Ct));
    }

    private static async Task WriteIndexRowAsync(StoreUnderTest t, IndexKey key, Serial serial, long version) =>
        await t.Index.UpsertEntityAsync(
            new TableEntity(key.PartitionKey, key.RowKey) { ["Serial"] = serial.Value, ["Version"] = version },
            TableUpdateMode.Replace,
            Ct);

    private static async Task<string[]> SerialsAsync(IAsyncEnumerable<StoredLicense> licenses)
    {
        var serials = new List<string>();
        await foreach (var license in licenses)
        {
            serials.Add(license.License.Serial.Value);
        }

        return [.. serials];
    }

    private static string[] Sorted(params Serial[] serials) => [.. serials.Select(s => s.Value).Order(StringComparer.Ordinal)];
}
