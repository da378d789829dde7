using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Testing;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Search;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>Section 8, search: answered from index rows kept in step with every change, never by reading every license.</summary>
public sealed class LicenseSearchOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Section8_a_license_is_found_by_its_serial_or_its_start_its_customer_id_a_name_word_and_a_contact()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = await AddAsync(t, "CUST-MUE", "Müller & Söhne GmbH", "einkauf@mueller.example");
        var other = await AddAsync(t, "CUST-ACME", "Acme Tubes", "buyer@acme.example");

        foreach (var text in new[] { serial.Value, serial.Value[..10].ToLowerInvariant(), "cust-mue", "muller", "MÜL", "söhne", "sohne gm", "EINKAUF@mueller.example" })
        {
            Assert.True(await SearchAsync(t, text) is [var only] && only == serial.Value, $"Not found by '{text}' alone.");
        }

        foreach (var text in new[] { "cust", "einkauf@mueller", "ller", "gmbhx", "acme muller" })
        {
            Assert.DoesNotContain(serial.Value, await SearchAsync(t, text));
        }

        Assert.Equal([other.Value], await SearchAsync(t, "ac"));
    }

    [Fact]
    public async Task Section8_a_contact_change_moves_the_license_from_the_old_address_to_the_new_and_leaves_no_row_behind()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = await AddAsync(t, "CUST-CON", "Contact Works", "old@contact.example");
        var read = (await t.Store.GetAsync(serial, Ct))!;
        var change = TestLicenses.ReplaceContacts(read.License, "new@contact.example");
        Assert.True(await t.Store.TryUpdateAsync(read, change.License, change.Event, Ct));

        Assert.Empty(await SearchAsync(t, "old@contact.example"));
        Assert.Equal([serial.Value], await SearchAsync(t, "new@contact.example"));
        Assert.Equal(
            SearchKey.For(change.License).Select(k => LicenseSearchKeys.KeyOf(k, serial)).ToHashSet(),
            (await SearchRowsAsync(t)).ToHashSet());
    }

    [Fact]
    public async Task Section8_a_search_row_written_ahead_of_a_change_that_never_landed_is_skipped_and_removed()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = await AddAsync(t, "CUST-GST", "Ghost Inc", "real@ghost.example");

        // A crash after the index rows of a contact change were written and before the change was.
        var ahead = LicenseSearchKeys.KeyOf(new SearchKey(SearchKind.Email, "never@ghost.example"), serial);
        await t.Index.UpsertEntityAsync(new TableEntity(ahead.PartitionKey, ahead.RowKey) { ["Serial"] = serial.Value, ["Version"] = 1L }, TableUpdateMode.Replace, Ct);

        Assert.Empty(await SearchAsync(t, "never@ghost.example"));
        Assert.DoesNotContain(ahead, await SearchRowsAsync(t));
        Assert.Equal([serial.Value], await SearchAsync(t, "real@ghost.example"));
    }

    [Fact]
    public async Task Section8_licenses_stored_before_the_search_index_are_found_after_a_backfill_that_resumes_where_it_stopped()
    {
        var t = StoreUnderTest.Create(azurite);
        var serials = new List<Serial>();
        for (var i = 0; i < 5; i++)
        {
            serials.Add(await AddAsync(t, $"CUST-OLD-{i}", "Oldtimer Tools", $"buyer{i}@old.example"));
        }

        // As stored before search existed: no search rows, no record of the search index.
        foreach (var key in await SearchRowsAsync(t))
        {
            await t.Index.DeleteEntityAsync(key.PartitionKey, key.RowKey, cancellationToken: Ct);
        }

        await t.Licenses.DeleteEntityAsync("~meta", "search-terms-index", cancellationToken: Ct);

        // A backfill that died after its first two licenses (in key order): it recorded how far it got.
        var ordered = serials.Select(s => TableKey.Encode(s.Value)).Order(StringComparer.Ordinal).ToList();
        await t.Licenses.UpsertEntityAsync(new TableEntity("~meta", "search-terms-index") { ["Built"] = false, ["RebuiltThrough"] = ordered[1] }, TableUpdateMode.Replace, Ct);

        var fresh = new TableLicenseStore(azurite.CreateServiceClient(), new TableLicenseStoreOptions { LicensesTable = t.Options.LicensesTable, IndexTable = t.Options.IndexTable, ReminderRebuildPageSize = 2 });
        var found = await SearchAsync(fresh, "oldtimer", limit: 10);

        // Resumed after the recorded license: the three after it are found; the two it had done are not rewritten.
        Assert.Equal(ordered[2..], found.Select(s => TableKey.Encode(s)).Order(StringComparer.Ordinal));
        Assert.Equal(true, (await t.Licenses.GetEntityAsync<TableEntity>("~meta", "search-terms-index", cancellationToken: Ct)).Value.GetBoolean("Built"));
        var indexed = (await SearchRowsAsync(t)).Select(k => k.RowKey[(k.RowKey.LastIndexOf('|') + 1)..]).ToHashSet();
        Assert.Equal(ordered[2..].ToHashSet(), indexed);
    }

    [Fact]
    public async Task Section8_a_store_used_before_search_existed_backfills_every_license_on_the_first_search()
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = await AddAsync(t, "CUST-PRE", "Prehistoric Pipes", "buyer@pre.example");
        foreach (var key in await SearchRowsAsync(t))
        {
            await t.Index.DeleteEntityAsync(key.PartitionKey, key.RowKey, cancellationToken: Ct);
        }

        await t.Licenses.DeleteEntityAsync("~meta", "search-terms-index", cancellationToken: Ct);

        // A process started after the upgrade: the store holds licenses, so it is not new, and the first search backfills.
        var upgraded = new TableLicenseStore(azurite.CreateServiceClient(), t.Options);
        Assert.Equal([serial.Value], await SearchAsync(upgraded, "prehist"));
        Assert.Equal([serial.Value], await SearchAsync(upgraded, "buyer@pre.example"));
    }

    [Fact]
    public async Task Section8_a_search_lists_each_license_once_up_to_its_limit_and_says_when_there_are_more()
    {
        var t = StoreUnderTest.Create(azurite);
        for (var i = 0; i < 4; i++)
        {
            await AddAsync(t, $"CUST-LIM-{i}", "Limit Lathe Lines", $"buyer@limit{i}.example");
        }

        var search = new LicenseSearch(t.Store, Calendar());
        var all = await search.SearchAsync(SearchQuery.TryParse("li")!, 10, Ct);
        Assert.Equal(4, all.Matches.Select(m => m.Serial).Distinct().Count());
        Assert.Equal(4, all.Matches.Count);
        Assert.False(all.More);

        var page = await search.SearchAsync(SearchQuery.TryParse("li")!, 3, Ct);
        Assert.Equal(3, page.Matches.Count);
        Assert.True(page.More);

        var match = all.Matches[0];
        Assert.Equal(("Limit Lathe Lines", TestLicenses.Product, new LocalDate(2026, 5, 1), PlanStatus.Current), (match.CustomerName, match.Product, match.ExpiresOn, match.Status));
    }

    [Fact]
    public async Task Section8_a_search_reads_the_index_rows_it_needs_and_the_licenses_it_finds_not_every_license()
    {
        var recorder = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(recorder, HttpPipelinePosition.PerRetry);
        var t = StoreUnderTest.Create(azurite, options);
        var wanted = await AddAsync(t, "CUST-NEEDLE", "Needle Works", "buyer@needle.example");
        for (var i = 0; i < 30; i++)
        {
            await AddAsync(t, $"CUST-HAY-{i}", "Haystack Holdings", $"buyer@hay{i}.example");
        }

        var search = new LicenseSearch(t.Store, Calendar());
        await search.SearchAsync(SearchQuery.TryParse("needle")!, 20, Ct);
        recorder.Reset();

        var result = await search.SearchAsync(SearchQuery.TryParse("needle")!, 20, Ct);

        Assert.Equal(wanted, Assert.Single(result.Matches).Serial);

        // One query per look-up (serial start, customer id, name word) and one point read of the license found.
        Assert.Equal(4, recorder.Count);
        Assert.All(recorder.Uris, u => Assert.DoesNotContain($"/{t.Options.LicensesTable}()", u, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Section8_a_search_cut_by_its_limit_reads_no_more_than_one_license_past_it()
    {
        var recorder = new RequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(recorder, HttpPipelinePosition.PerRetry);
        var t = StoreUnderTest.Create(azurite, options);
        for (var i = 0; i < 30; i++)
        {
            await AddAsync(t, $"CUST-HAY-{i}", "Haystack Holdings", $"buyer@hay{i}.example");
        }

        var search = new LicenseSearch(t.Store, Calendar());
        await search.SearchAsync(SearchQuery.TryParse("zzz")!, 1, Ct);
        recorder.Reset();

        var result = await search.SearchAsync(SearchQuery.TryParse("haystack")!, 5, Ct);

        Assert.Equal(5, result.Matches.Count);
        Assert.True(result.More);
        var licenseReads = recorder.Uris.Count(u => u.Contains($"/{t.Options.LicensesTable}(PartitionKey", StringComparison.Ordinal));
        Assert.True(licenseReads <= 6, $"{licenseReads} licenses read for 5 listed.");
    }

    private static BusinessCalendar Calendar() =>
        new(new FakeClock(Instant.FromUtc(2026, 4, 10, 16, 0)), TestLicenses.Zone);

    private static async Task<Serial> AddAsync(StoreUnderTest t, string customerId, string customerName, string contact)
    {
        var request = TestLicenses.Activation(TestLicenses.NewSerial(), customerId, customerName) with { Contacts = [EmailAddress.Parse(contact)] };
        var change = TestLicenses.Activate(request);
        Assert.True(await t.Store.TryAddAsync(change.License, change.Event, Ct));
        return change.License.Serial;
    }

    private static Task<List<string>> SearchAsync(StoreUnderTest t, string text, int limit = LicenseSearch.MaxLimit) => SearchAsync(t.Store, text, limit);

    private static async Task<List<string>> SearchAsync(TableLicenseStore store, string text, int limit = LicenseSearch.MaxLimit)
    {
        var result = await new LicenseSearch(store, Calendar()).SearchAsync(SearchQuery.TryParse(text)!, limit, Ct);
        return [.. result.Matches.Select(m => m.Serial.Value)];
    }

    private static async Task<List<IndexKey>> SearchRowsAsync(StoreUnderTest t)
    {
        var keys = new List<IndexKey>();
        await foreach (var row in t.Index.QueryAsync<TableEntity>(cancellationToken: Ct))
        {
            if (row.PartitionKey.StartsWith("search-", StringComparison.Ordinal))
            {
                keys.Add(new IndexKey(row.PartitionKey, row.RowKey));
            }
        }

        return keys;
    }

    /// <summary>Counts the requests the store's client sends.</summary>
    private sealed class RequestCounter : HttpPipelinePolicy
    {
        private readonly ConcurrentQueue<string> uris = new();

        public int Count => uris.Count;

        public IReadOnlyList<string> Uris => [.. uris];

        public void Reset() => uris.Clear();

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            uris.Enqueue(message.Request.Uri.ToString());
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            uris.Enqueue(message.Request.Uri.ToString());
            return ProcessNextAsync(message, pipeline);
        }
    }
}
