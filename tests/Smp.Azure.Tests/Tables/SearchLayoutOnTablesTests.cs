using Azure.Data.Tables;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Search;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// Section 8, search rows: all of a license's search rows share one partition (so that they can be written in one
/// transaction), and a store whose rows are of the first search layout (a partition per kind and first character)
/// answers the same throughout the move: from both layouts until <see cref="SearchLayoutMigration"/> has rebuilt its
/// rows in the one partition, then from that one, and the old rows deleted.
/// </summary>
public sealed class SearchLayoutOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Section8_all_search_rows_of_a_license_are_in_one_partition()
    {
        var t = StoreUnderTest.Create(azurite);
        var license = await AddAsync(t, "CUST-ONE", "Zeta Alpha Metal Works", "buyer@zeta.example", "it@alpha.example");

        var searchRows = new List<TableEntity>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Serial eq {license.Serial.Value}"), cancellationToken: Ct))
        {
            if (row.PartitionKey.StartsWith("search", StringComparison.Ordinal))
            {
                searchRows.Add(row);
            }
        }

        // The serial, the customer id, four name words and two contacts: eight terms, no two with the same first character.
        Assert.Equal(SearchKey.For(license).Count, searchRows.Count);
        Assert.Equal(8, searchRows.Count);
        Assert.Single(searchRows.Select(r => r.PartitionKey).Distinct(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Section8_a_store_with_search_rows_of_the_first_layout_answers_every_search_after_the_move_and_keeps_no_old_row()
    {
        var t = StoreUnderTest.Create(azurite);
        var acme = await AddAsync(t, "CUST-ACME", "Acme Tubes", "buyer@acme.example");
        var mueller = await AddAsync(t, "CUST-MUE", "Müller & Söhne GmbH", "einkauf@mueller.example", "it@mueller.example");
        var atlas = await AddAsync(t, "CUST-ATL", "Atlas Tube Bending", "buyer@atlas.example");

        // As the first search layout stored them: a partition per kind and first character, and the index built.
        var oldRows = await ToFirstLayoutAsync(t, acme, mueller, atlas);
        Assert.Equal(SearchKey.For(acme).Count + SearchKey.For(mueller).Count + SearchKey.For(atlas).Count, oldRows);
        Assert.Empty(await SearchRowsAsync(t, current: true));

        // The process started after the upgrade answers as before at once, from both layouts, and writes no row for it.
        var upgraded = new TableLicenseStore(azurite.CreateServiceClient(), new TableLicenseStoreOptions { LicensesTable = t.Options.LicensesTable, IndexTable = t.Options.IndexTable, ReminderRebuildPageSize = 2 });
        await AssertAnswersAsync(upgraded, acme, mueller, atlas);
        Assert.Empty(await SearchRowsAsync(t, current: true));

        // A license changed meanwhile has its rows in the current layout; it answers from those (and no more by the
        // contact it no longer has, whose first-layout row is still there).
        var changed = await ChangeContactsAsync(upgraded, atlas, "works@atlas.example");
        Assert.Equal([atlas.Serial.Value], await SearchAsync(upgraded, "works@atlas.example"));
        Assert.Empty(await SearchAsync(upgraded, "buyer@atlas.example"));

        // The one-off step: deleting before the rebuild is refused (searches still read the old rows)...
        var migration = new SearchLayoutMigration(azurite.CreateServiceClient(), t.Options.LicensesTable, t.Options.IndexTable);
        await Assert.ThrowsAsync<InvalidOperationException>(() => migration.RunAsync(null, Ct));

        // ... it rebuilds every license's rows in the current layout, then deletes the first layout's, all of them.
        Assert.Equal(3, await migration.RebuildAsync(null, Ct));
        Assert.Equal(oldRows, (await SearchRowsAsync(t, current: true)).Count); // the new contact in place of the old
        Assert.Equal(oldRows, await migration.RunAsync(null, Ct));
        Assert.Empty(await SearchRowsAsync(t, current: false));
        await AssertAnswersAsync(upgraded, acme, mueller, changed);
        await AssertAnswersAsync(new TableLicenseStore(azurite.CreateServiceClient(), t.Options), acme, mueller, changed);

        // Run again: nothing left to do.
        Assert.Equal(0, await migration.RebuildAsync(null, Ct));
        Assert.Equal(0, await migration.RunAsync(null, Ct));
        Assert.Equal(oldRows, (await SearchRowsAsync(t, current: true)).Count);
    }

    [Fact]
    public async Task Section8_the_search_layout_step_run_before_the_first_search_changes_no_answer()
    {
        var t = StoreUnderTest.Create(azurite);
        var acme = await AddAsync(t, "CUST-ACME", "Acme Tubes", "buyer@acme.example");
        var mueller = await AddAsync(t, "CUST-MUE", "Müller & Söhne GmbH", "einkauf@mueller.example", "it@mueller.example");
        var atlas = await AddAsync(t, "CUST-ATL", "Atlas Tube Bending", "buyer@atlas.example");
        var oldRows = await ToFirstLayoutAsync(t, acme, mueller, atlas);

        // The step may run as soon as the new version is deployed (and the old one stopped), before any search.
        var migration = new SearchLayoutMigration(azurite.CreateServiceClient(), t.Options.LicensesTable, t.Options.IndexTable);
        Assert.Equal(3, await migration.RebuildAsync(null, Ct));
        var deleted = 0;
        Assert.Equal(oldRows, await migration.RunAsync(n => deleted = n, Ct));
        Assert.Equal(oldRows, deleted);
        Assert.Empty(await SearchRowsAsync(t, current: false));

        await AssertAnswersAsync(new TableLicenseStore(azurite.CreateServiceClient(), t.Options), acme, mueller, atlas);
    }

    [Fact]
    public async Task Section8_a_search_under_way_when_the_move_is_done_still_finds_every_license()
    {
        var t = StoreUnderTest.Create(azurite);
        var acme = await AddAsync(t, "CUST-ACME", "Acme Tubes", "buyer@acme.example");
        var atlas = await AddAsync(t, "CUST-ATL", "Atlas Tube Bending", "buyer@atlas.example");
        await ToFirstLayoutAsync(t, acme, atlas);
        var added = await AddAsync(t, "CUST-NEW", "Tubeworks New", "buyer@new.example"); // its rows in the current layout only
        var upgraded = new TableLicenseStore(azurite.CreateServiceClient(), t.Options);

        // The search has read the current layout's first answer when the step rebuilds every license and deletes the old rows.
        var serials = new List<string>();
        await using (var search = upgraded.FindAsync(new SearchLookup(SearchKind.NameWord, "tube"), 21, Ct).GetAsyncEnumerator(Ct))
        {
            Assert.True(await search.MoveNextAsync());
            serials.Add(search.Current.License.Serial.Value);
            var migration = new SearchLayoutMigration(azurite.CreateServiceClient(), t.Options.LicensesTable, t.Options.IndexTable);
            await migration.RebuildAsync(null, Ct);
            await migration.RunAsync(null, Ct);
            while (await search.MoveNextAsync())
            {
                serials.Add(search.Current.License.Serial.Value);
            }
        }

        Assert.Equal(
            new[] { acme.Serial.Value, atlas.Serial.Value, added.Serial.Value }.Order(StringComparer.Ordinal),
            serials.Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Section8_a_host_of_the_first_layout_that_records_its_index_built_again_changes_nothing_of_the_move()
    {
        var t = StoreUnderTest.Create(azurite);
        var acme = await AddAsync(t, "CUST-ACME", "Acme Tubes", "buyer@acme.example");
        var mueller = await AddAsync(t, "CUST-MUE", "Müller & Söhne GmbH", "einkauf@mueller.example", "it@mueller.example");
        var atlas = await AddAsync(t, "CUST-ATL", "Atlas Tube Bending", "buyer@atlas.example");
        await ToFirstLayoutAsync(t, acme, mueller, atlas);
        var migration = new SearchLayoutMigration(azurite.CreateServiceClient(), t.Options.LicensesTable, t.Options.IndexTable);

        // An old host writes its own record (built, or a backfill's progress) during the swap: the move keeps its own.
        await t.Licenses.UpsertEntityAsync(new TableEntity("~meta", "search-index") { ["Built"] = false, ["RebuiltThrough"] = "ZZZ" }, TableUpdateMode.Replace, Ct);
        Assert.Equal(3, await migration.RebuildAsync(null, Ct));
        await t.Licenses.UpsertEntityAsync(new TableEntity("~meta", "search-index") { ["Built"] = true }, TableUpdateMode.Replace, Ct);
        await migration.RunAsync(null, Ct);

        await AssertAnswersAsync(new TableLicenseStore(azurite.CreateServiceClient(), t.Options), acme, mueller, atlas);
    }

    [Fact]
    public async Task Section8_the_search_layout_step_on_a_store_never_used_finds_nothing_to_delete()
    {
        var migration = new SearchLayoutMigration(azurite.CreateServiceClient(), AzuriteFixture.UniqueTableName("licenses"), AzuriteFixture.UniqueTableName("licenseindex"));
        Assert.Equal(0, await migration.RebuildAsync(null, Ct));
        Assert.Equal(0, await migration.RunAsync(null, Ct));
    }

    private static async Task AssertAnswersAsync(TableLicenseStore store, License acme, License mueller, License atlas)
    {
        Assert.Equal([acme.Serial.Value], await SearchAsync(store, "acme"));
        Assert.Equal(new[] { acme.Serial.Value, atlas.Serial.Value }.Order(StringComparer.Ordinal), (await SearchAsync(store, "tube")).Order(StringComparer.Ordinal));
        Assert.Equal([mueller.Serial.Value], await SearchAsync(store, "MÜL"));
        Assert.Equal([mueller.Serial.Value], await SearchAsync(store, "söhne gm"));
        Assert.Equal([mueller.Serial.Value], await SearchAsync(store, "cust-mue"));
        Assert.Empty(await SearchAsync(store, "cust"));
        Assert.Equal([mueller.Serial.Value], await SearchAsync(store, "IT@mueller.example"));
        Assert.Empty(await SearchAsync(store, "it@mueller"));
        Assert.Equal([atlas.Serial.Value], await SearchAsync(store, atlas.Serial.Value.ToLowerInvariant()));
        Assert.Equal([atlas.Serial.Value], await SearchAsync(store, atlas.Serial.Value));
    }

    /// <summary>
    /// Rewrites the search rows of <paramref name="licenses"/> as the first search layout kept them (partition
    /// <c>search-KIND|BUCKET</c>, row key <c>TERM|SERIAL</c>), and the store's records as code of that layout left them.
    /// </summary>
    private static async Task<int> ToFirstLayoutAsync(StoreUnderTest t, params License[] licenses)
    {
        foreach (var row in await SearchRowsAsync(t, current: true))
        {
            await t.Index.DeleteEntityAsync(row.PartitionKey, row.RowKey, cancellationToken: Ct);
        }

        var written = 0;
        foreach (var license in licenses)
        {
            foreach (var key in SearchKey.For(license))
            {
                var kind = key.Kind switch
                {
                    SearchKind.Serial => "serial",
                    SearchKind.CustomerId => "customer",
                    SearchKind.NameWord => "name",
                    _ => "email",
                };
                var row = new TableEntity($"search-{kind}|{TableKey.Encode(key.Term[..1])}", TableKey.Encode(key.Term) + "|" + TableKey.Encode(license.Serial.Value))
                {
                    ["Serial"] = license.Serial.Value,
                    ["Version"] = 1L,
                };
                await t.Index.AddEntityAsync(row, Ct);
                written++;
            }
        }

        await t.Licenses.DeleteEntityAsync("~meta", "search-terms-index", cancellationToken: Ct);
        await t.Licenses.UpsertEntityAsync(new TableEntity("~meta", "search-index") { ["Built"] = true }, TableUpdateMode.Replace, Ct);
        return written;
    }

    /// <summary>Replaces the license's contacts through the store (a change of this version: its rows in the current layout).</summary>
    private static async Task<License> ChangeContactsAsync(TableLicenseStore store, License license, params string[] contacts)
    {
        var stored = (await store.GetAsync(license.Serial, Ct))!;
        var change = TestLicenses.ReplaceContacts(stored.License, contacts);
        Assert.NotNull(await store.UpdateAsync(stored, change.License, change.Event, Ct));
        return change.License;
    }

    private static async Task<License> AddAsync(StoreUnderTest t, string customerId, string customerName, params string[] contacts)
    {
        var request = TestLicenses.Activation(TestLicenses.NewSerial(), customerId, customerName) with { Contacts = [.. contacts.Select(EmailAddress.Parse)] };
        var change = TestLicenses.Activate(request);
        Assert.True(await t.Store.TryAddAsync(change.License, change.Event, Ct));
        return change.License;
    }

    private static async Task<List<string>> SearchAsync(TableLicenseStore store, string text)
    {
        var calendar = new BusinessCalendar(new FakeClock(Instant.FromUtc(2026, 4, 10, 16, 0)), TestLicenses.Zone);
        var result = await new LicenseSearch(store, calendar).SearchAsync(SearchQuery.TryParse(text)!, LicenseSearch.MaxLimit, Ct);
        return [.. result.Matches.Select(m => m.Serial.Value)];
    }

    /// <summary>The search rows of the current layout (its one partition), or those of the first layout (the other "search-" partitions).</summary>
    private static async Task<List<TableEntity>> SearchRowsAsync(StoreUnderTest t, bool current)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            if (row.PartitionKey.StartsWith("search-", StringComparison.Ordinal) && (row.PartitionKey == "search-terms") == current)
            {
                rows.Add(row);
            }
        }

        return rows;
    }
}
