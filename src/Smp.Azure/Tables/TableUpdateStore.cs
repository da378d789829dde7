using Azure;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="IUpdateStore"/> on Azure Table Storage: one row per update in the single partition
/// <see cref="Partition"/> (updates are few, so one partition query lists them all), keyed by the normalized
/// version. Replaces are single-entity writes under the ETag that was read.
/// </summary>
public sealed class TableUpdateStore : IUpdateStore
{
    public const string Partition = "updates";

    private const string VersionColumn = "Version";
    private const string ReleasedOnColumn = "ReleasedOn";
    private const string PublishedAtColumn = "PublishedAt";
    private const string AnnouncedAtColumn = "AnnouncedAt";
    private const string HasPasswordColumn = "HasPassword";

    private readonly TableClient table;
    private readonly AsyncOnce tableCreated;

    /// <summary>Creates the store; the table is created on first use, not here.</summary>
    public TableUpdateStore(TableServiceClient service, string tableName)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        table = service.GetTableClient(tableName);
        tableCreated = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public async Task<StoredUpdate?> GetAsync(UpdateVersion version, CancellationToken cancellationToken)
    {
        RequireVersion(version);
        await tableCreated.EnsureAsync(cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(Partition, RowKey(version), cancellationToken: cancellationToken);
        return response.HasValue ? new StoredUpdate(ToRelease(response.Value!), response.Value!.ETag.ToString()) : null;
    }

    public async Task<bool> TryAddAsync(UpdateRelease release, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(release);
        RequireVersion(release.Version);
        await tableCreated.EnsureAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(ToEntity(release), cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task<bool> TryReplaceAsync(StoredUpdate current, UpdateRelease updated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        if (current.Release.Version != updated.Version)
        {
            throw new ArgumentException($"A replace cannot change the version ({current.Release.Version} to {updated.Version}).", nameof(updated));
        }

        await tableCreated.EnsureAsync(cancellationToken);
        try
        {
            await table.UpdateEntityAsync(ToEntity(updated), new ETag(current.ConcurrencyToken), TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<UpdateRelease>> ListAsync(CancellationToken cancellationToken)
    {
        await tableCreated.EnsureAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition}");
        var releases = new List<UpdateRelease>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            releases.Add(ToRelease(row));
        }

        return [.. releases.OrderBy(r => r.ReleasedOn).ThenBy(r => r.Version.Value, StringComparer.Ordinal)];
    }

    private static string RowKey(UpdateVersion version) => TableKey.Encode(version.Value);

    private static void RequireVersion(UpdateVersion version)
    {
        if (version.Value is null)
        {
            throw new ArgumentException("The update version is not set.", nameof(version));
        }
    }

    private static TableEntity ToEntity(UpdateRelease release)
    {
        var entity = new TableEntity(Partition, RowKey(release.Version))
        {
            [VersionColumn] = release.Version.Value,
            [ReleasedOnColumn] = LocalDatePattern.Iso.Format(release.ReleasedOn),
            [PublishedAtColumn] = InstantPattern.ExtendedIso.Format(release.PublishedAt),
            [HasPasswordColumn] = release.HasPassword,
        };
        if (release.AnnouncedAt is { } announcedAt)
        {
            entity[AnnouncedAtColumn] = InstantPattern.ExtendedIso.Format(announcedAt);
        }

        return entity;
    }

    private static UpdateRelease ToRelease(TableEntity row)
    {
        var announcedAt = row.GetString(AnnouncedAtColumn);
        return new UpdateRelease(
            UpdateVersion.Parse(Required(row, VersionColumn)),
            LocalDatePattern.Iso.Parse(Required(row, ReleasedOnColumn)).Value,
            InstantPattern.ExtendedIso.Parse(Required(row, PublishedAtColumn)).Value,
            announcedAt is null ? null : InstantPattern.ExtendedIso.Parse(announcedAt).Value,
            row.GetBoolean(HasPasswordColumn) ?? false);
    }

    private static string Required(TableEntity row, string column) =>
        row.GetString(column) ?? throw new InvalidDataException($"Stored update row ({row.PartitionKey}, {row.RowKey}) has no {column}.");
}
