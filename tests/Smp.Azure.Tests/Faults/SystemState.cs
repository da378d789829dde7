using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// Everything a system stores, as sorted "what = value" facts that compare by value: every row of the license,
/// index, outbox, rate-limit, customer-request and update tables, the secrets (by a hash of their value), and the deliveries the mail service saw per mail id. What may legitimately
/// differ between two histories that did the same work is left out, each with its reason (see <see cref="ReadAsync"/>
/// and <see cref="WithoutRecentTimes"/>).
/// </summary>
internal sealed class SystemState
{
    /// <summary>A customer request's failed attempts: a history under faults fails more often, to the same end.</summary>
    public static readonly IReadOnlySet<string> RequestAttemptColumns = new HashSet<string>(StringComparer.Ordinal) { "FailedAttempts", "NextAttemptAt" };

    /// <summary>Outbox columns that record how delivery went, not what was to be delivered (see <see cref="ReadAsync"/>).</summary>
    public static readonly IReadOnlySet<string> DeliveryHistoryColumns = new HashSet<string>(StringComparer.Ordinal)
    {
        "Version", "Attempts", "NextAttemptAt", "LastError", "SentAt", "FirstAttemptAt", "HandedOverAt", "UnknownAnswerAt", "Takeovers",
    };

    private const string MessagePrefix = "outbox/" + TableMailOutbox.Partition + "|msg|";

    /// <summary>
    /// Row metadata, and the dates of a reminder configuration's row (<c>FirstSeen</c>, <c>LastSeen</c>) and of the index
    /// record (<c>ConfiguredSince</c>, kept moving forward for hosts on older code): they record when hosts ran, which
    /// differs between two runs of the same history by design.
    /// </summary>
    private static readonly string[] RowMetadata = ["odata.etag", "Timestamp", "FirstSeen", "LastSeen", "ConfiguredSince"];

    private SystemState(SortedDictionary<string, string> facts) => Facts = facts;

    public SortedDictionary<string, string> Facts { get; }

    /// <summary>The outbox messages: id to status.</summary>
    public IReadOnlyDictionary<string, string> MessageStatuses =>
        Facts.Where(f => f.Key.StartsWith(MessagePrefix, StringComparison.Ordinal))
            .ToDictionary(f => f.Key[MessagePrefix.Length..], f => Column(f.Value, "Status"), StringComparer.Ordinal);

    /// <summary>The mail service's hand-overs: mail id to count.</summary>
    public IReadOnlyDictionary<string, int> Deliveries =>
        Facts.Where(f => f.Key.StartsWith("delivered/", StringComparison.Ordinal))
            .ToDictionary(f => f.Key["delivered/".Length..], f => int.Parse(f.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>Event types per license, oldest first.</summary>
    public IReadOnlyDictionary<string, string> EventTypes =>
        Facts.Where(f => f.Key.StartsWith("licenses/", StringComparison.Ordinal) && f.Key.Contains("|event|", StringComparison.Ordinal))
            .GroupBy(f => f.Key["licenses/".Length..f.Key.IndexOf('|', StringComparison.Ordinal)], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => string.Join(",", g.Select(f => Column(f.Value, "Type"))), StringComparer.Ordinal);

    /// <summary>
    /// Reads the state. Before reading the rows, it reads every index (search rows included) and marker the way the application's readers
    /// do, with the application's own classes: readers remove stale index rows and outbox markers (left by a change
    /// whose clean-up was interrupted, which the design allows), so what remains is what any reader would see.
    /// Outbox messages are compared without their delivery history (<see cref="DeliveryHistoryColumns"/>): a message
    /// whose lease or outcome was lost is delivered on a later run, after more attempts, which is by design.
    /// </summary>
    public static async Task<SystemState> ReadAsync(TableServiceClient client, SmpTables tables, IEnumerable<string> customerIds, MailServiceDouble mailService, TableLicenseStoreOptions? storeOptions = null, string? secretsFolder = null)
    {
        // The reader is configured like the system read (its reminder offsets): a reader with other offsets would rebuild the index.
        var store = new TableLicenseStore(client, storeOptions ?? tables.StoreOptions);

        // The confirmations as the writers left them: the reminder listing below proves a trusted copy current with a
        // write that moves the summary's ETag, after which a row it did not record is outdated by design (its next proof
        // fails and the license is read).
        var staleConfirmations = await StaleConfirmationsAsync(client.GetTableClient(tables.Index), client.GetTableClient(tables.Licenses));
        await foreach (var unused in store.ListExpiringAsync(LocalDate.MinIsoValue, LocalDate.MaxIsoValue, CancellationToken.None))
        {
        }

        await foreach (var unused in store.ListReminderCandidatesAsync(LocalDate.MaxIsoValue, CancellationToken.None))
        {
        }

        await foreach (var unused in store.ListPendingReplacementsAsync(CancellationToken.None))
        {
        }

        foreach (var customer in customerIds)
        {
            await foreach (var unused in store.ListByCustomerAsync(customer, CancellationToken.None))
            {
            }
        }

        // Search rows: each term found by the search that reads its rows (section 8), which removes the stale ones.
        var searchLookups = new HashSet<Smp.Core.Search.SearchLookup>();
        await foreach (var row in client.GetTableClient(tables.Index).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            if (LicenseSearchKeys.LookupOf(new IndexKey(row.PartitionKey, row.RowKey)) is { } lookup)
            {
                searchLookups.Add(lookup);
            }
        }

        foreach (var lookup in searchLookups)
        {
            await foreach (var unused in store.FindAsync(lookup, 100, CancellationToken.None))
            {
            }
        }

        // The latest events: the reader removes rows of changes that lost the race for their version.
        await store.ListLatestEventsAsync(1000, CancellationToken.None);

        var outbox = new TableMailOutbox(client, tables.Outbox);
        await outbox.ListDueAsync(Instant.MaxValue, int.MaxValue, CancellationToken.None);
        await outbox.ListFailedAsync(CancellationToken.None);

        var facts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await AddRowsAsync(facts, client.GetTableClient(tables.Licenses), "licenses", (row, column) => !IsWithdrawalTime(row, column), WithoutWithdrawalTimes);
        await AddRowsAsync(facts, client.GetTableClient(tables.Index), "index", (row, column) => !IsReminderRowBookkeeping(row, column));
        foreach (var key in staleConfirmations)
        {
            facts[key] = (facts.TryGetValue(key, out var row) ? row : "(removed by a reader)") + "; STALE CONFIRMATION (not the license as stored)";
        }

        WithoutRecentTimes(facts);
        await AddRowsAsync(facts, client.GetTableClient(tables.RateLimits), "ratelimits", (_, _) => true);
        await AddRowsAsync(facts, client.GetTableClient(tables.CustomerRequests), "customerrequests", (_, column) => !RequestAttemptColumns.Contains(column)); // How often it failed first is bookkeeping.
        await AddRowsAsync(facts, client.GetTableClient(tables.Updates), "updates", (_, _) => true);
        await AddRowsAsync(facts, client.GetTableClient(tables.Outbox), "outbox", (row, column) =>
            row.RowKey.StartsWith("msg|", StringComparison.Ordinal) ? !DeliveryHistoryColumns.Contains(column)
            : row.RowKey.StartsWith("claim|", StringComparison.Ordinal)); // A marker's presence is the fact; its version and time are bookkeeping.
        if (secretsFolder is not null && Directory.Exists(secretsFolder))
        {
            // One file per secret; a name starting with a dot is a write in progress, not a secret.
            foreach (var file in Directory.EnumerateFiles(secretsFolder).Where(f => !Path.GetFileName(f).StartsWith('.')))
            {
                facts["secrets/" + Path.GetFileName(file)] = Format(await File.ReadAllBytesAsync(file));
            }
        }

        foreach (var (id, count) in mailService.Deliveries)
        {
            facts["delivered/" + id] = count.ToString(CultureInfo.InvariantCulture);
        }

        return new SystemState(facts);
    }

    /// <summary>Where this state and <paramref name="other"/> differ, one line each (at most <paramref name="max"/>).</summary>
    public IReadOnlyList<string> Differences(SystemState other, int max = 25)
    {
        ArgumentNullException.ThrowIfNull(other);
        var lines = new List<string>();
        foreach (var key in Facts.Keys.Union(other.Facts.Keys).Order(StringComparer.Ordinal))
        {
            var mine = Facts.GetValueOrDefault(key);
            var theirs = other.Facts.GetValueOrDefault(key);
            if (!string.Equals(mine, theirs, StringComparison.Ordinal))
            {
                lines.Add($"{key}:\n    expected {mine ?? "(absent)"}\n    actual   {theirs ?? "(absent)"}");
            }
        }

        return lines.Count <= max ? lines : [.. lines.Take(max), $"... and {lines.Count - max} more"];
    }

    /// <summary>
    /// A reminder withdrawn from its mail at dispatch (R15) is recorded when a dispatcher decides it; after a crash that
    /// is the next dispatcher, once the lease ran out: a later instant, truthfully. Its event's time is bookkeeping.
    /// </summary>
    private static bool IsWithdrawalTime(TableEntity row, string column) =>
        column == "At" && row.GetString("Type") == "reminderWithdrawn";

    /// <summary>
    /// A row among the latest events is keyed by its event's time, then serial and version. Once the reader has run, every
    /// row left whose event exists has that event's time, which the event row itself is compared by (or, for a withdrawal,
    /// is bookkeeping): the row is compared by its serial and version.
    /// </summary>
    private static void WithoutRecentTimes(SortedDictionary<string, string> facts)
    {
        const string Prefix = "index/" + TableLicenseStore.RecentPartition + "|";
        foreach (var key in facts.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal)).ToList())
        {
            var rest = key[Prefix.Length..];
            facts[Prefix + "(time)" + rest[rest.IndexOf('|', StringComparison.Ordinal)..]] = facts[key];
            facts.Remove(key);
        }
    }

    /// <summary>
    /// A reminder row's version and confirmation are its write protocol's bookkeeping: a change interrupted after its
    /// transaction leaves its reminder rows unconfirmed at the version they had, which readers handle by reading the
    /// license, while the same change uninterrupted confirms them at the new version. Whether a row exists, and for which
    /// serial, is compared; a confirmation is checked against the license instead (<see cref="StaleConfirmationsAsync"/>).
    /// </summary>
    private static bool IsReminderRowBookkeeping(TableEntity row, string column) =>
        row.PartitionKey == LicenseIndex.RemindersPartition
        && column is LicenseEntities.VersionColumn or LicenseEntities.LicenseETagColumn or LicenseEntities.OffsetsColumn
            or LicenseEntities.SchemaColumn or LicenseEntities.LicenseColumn;

    /// <summary>
    /// The invariant of confirmed reminder rows as the writers keep it: a row that is confirmed carries its license as
    /// stored now (its content and version). The facts' keys of the rows that break it; each gets a fact no
    /// uninterrupted run has, so the states differ.
    /// </summary>
    private static async Task<List<string>> StaleConfirmationsAsync(TableClient index, TableClient licenses)
    {
        var stale = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LicenseIndex.RemindersPartition}");
        try
        {
            await foreach (var row in index.QueryAsync<TableEntity>(filter))
            {
                if (row.GetString(LicenseEntities.LicenseETagColumn) is not { Length: > 0 })
                {
                    continue;
                }

                var partition = TableKey.Encode(row.GetString(LicenseEntities.SerialColumn) ?? string.Empty);
                var summary = await licenses.GetEntityIfExistsAsync<TableEntity>(partition, LicenseEntities.SummaryRowKeyOf(partition));

                // Not the ETag: the reminder listing's proof of a copy moves it without changing the license (the
                // state read after a first run, in a use case run twice, follows such a proof). A copy outdated that
                // way fails its next proof, so only a copy of another content or version breaks the invariant. A wrong
                // ETag written by a confirm costs a read per scan, which the scan's cost tests count.
                var current = summary.HasValue
                    && summary.Value!.GetString(LicenseEntities.LicenseColumn) == row.GetString(LicenseEntities.LicenseColumn)
                    && summary.Value!.GetInt64(LicenseEntities.VersionColumn) == row.GetInt64(LicenseEntities.VersionColumn);
                if (!current)
                {
                    stale.Add($"index/{row.PartitionKey}|{row.RowKey}");
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The use case never used the index.
        }

        return stale;
    }

    /// <summary>As <see cref="IsWithdrawalTime"/>, for the license's own record of the withdrawn reminder; everything else of it is compared.</summary>
    private static string WithoutWithdrawalTimes(string value) =>
        System.Text.RegularExpressions.Regex.Replace(value, "\"outcome\":\"Withdrawn\",\"at\":\"[^\"]*\"", "\"outcome\":\"Withdrawn\",\"at\":\"(when decided)\"");

    private static async Task AddRowsAsync(SortedDictionary<string, string> facts, TableClient table, string name, Func<TableEntity, string, bool> compared, Func<string, string>? normalized = null)
    {
        var rows = new List<TableEntity>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>())
            {
                rows.Add(row);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return; // The use case never used this table.
        }

        foreach (var row in rows)
        {
            var columns = row.Keys
                .Where(k => k is not ("PartitionKey" or "RowKey") && !RowMetadata.Contains(k) && compared(row, k))
                .Order(StringComparer.Ordinal)
                .Select(k => $"{k}={Format(row[k])}");
            var value = string.Join("; ", columns);
            facts[$"{name}/{row.PartitionKey}|{row.RowKey}"] = normalized is null ? value : normalized(value);
        }
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        byte[] bytes => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes))[..16],
        BinaryData data => "sha256:" + Convert.ToHexString(SHA256.HashData(data.ToArray()))[..16],
        DateTimeOffset time => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Column(string row, string column)
    {
        var prefix = column + "=";
        return row.Split("; ").FirstOrDefault(c => c.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..] ?? string.Empty;
    }
}
