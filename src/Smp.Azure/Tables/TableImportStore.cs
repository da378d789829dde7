using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Imports;

namespace Smp.Azure.Tables;

/// <summary>
/// <see cref="IImportStore"/> on Table Storage: one partition per import, holding the file in rows <c>file-NNNN</c>
/// (binary properties of at most 60,000 bytes, at most 8 to a row, so a row's 480,000 bytes stay about 640 KB on the
/// wire, well under the 1 MiB entity limit of Azure and Azurite) and the job in row <c>job</c>, written last, so a
/// stored job always has its whole file. A row is read part by part until a part is missing, so files stored with the
/// earlier 16 parts to a row still read. The job's errors are JSON in binary properties beside its counts; every
/// update is made under the row's ETag.
/// </summary>
public sealed class TableImportStore : IImportStore
{
    private const string JobRow = "job";
    private const string FileRowPrefix = "file-";
    private const int PartBytes = 60_000;
    private const int PartsPerRow = 8;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly TableClient table;
    private readonly AsyncOnce created;

    public TableImportStore(TableServiceClient service, string tableName = "imports")
    {
        ArgumentNullException.ThrowIfNull(service);
        table = service.GetTableClient(tableName);
        created = new AsyncOnce(async ct => await table.CreateIfNotExistsAsync(ct));
    }

    public async Task CreateAsync(ImportJob job, ReadOnlyMemory<byte> file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        await created.EnsureAsync(cancellationToken);
        var rowBytes = PartBytes * PartsPerRow;
        var rows = Math.Max(1, (file.Length + rowBytes - 1) / rowBytes);
        for (var r = 0; r < rows; r++)
        {
            var entity = new TableEntity(job.Id, FileRowPrefix + r.ToString("D4", CultureInfo.InvariantCulture));
            var rowSlice = file.Slice(r * rowBytes, Math.Min(rowBytes, file.Length - (r * rowBytes)));
            for (var p = 0; p * PartBytes < rowSlice.Length; p++)
            {
                entity[Part(p)] = rowSlice.Slice(p * PartBytes, Math.Min(PartBytes, rowSlice.Length - (p * PartBytes))).ToArray();
            }

            entity["Length"] = rowSlice.Length;
            await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        }

        var jobEntity = ToEntity(job);
        jobEntity["FileRows"] = rows;
        jobEntity["FileLength"] = file.Length;
        await table.AddEntityAsync(jobEntity, cancellationToken);
    }

    public async Task<StoredImportJob?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            return null;
        }

        await created.EnsureAsync(cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(id, JobRow, cancellationToken: cancellationToken);
        return response.HasValue ? FromEntity(response.Value!) : null;
    }

    public async Task<byte[]> ReadFileAsync(string id, CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        var job = (await table.GetEntityAsync<TableEntity>(id, JobRow, cancellationToken: cancellationToken)).Value;
        var length = job.GetInt32("FileLength") ?? 0;
        var rows = job.GetInt32("FileRows") ?? 0;
        var bytes = new byte[length];
        var offset = 0;
        for (var r = 0; r < rows; r++)
        {
            var entity = (await table.GetEntityAsync<TableEntity>(id, FileRowPrefix + r.ToString("D4", CultureInfo.InvariantCulture), cancellationToken: cancellationToken)).Value;
            for (var p = 0; entity.GetBinary(Part(p)) is { } part; p++)
            {
                part.CopyTo(bytes, offset);
                offset += part.Length;
            }
        }

        if (offset != length)
        {
            throw new InvalidDataException($"The stored file of import {id} has {offset} bytes; its job says {length}.");
        }

        return bytes;
    }

    public async Task<IReadOnlyList<StoredImportJob>> ListUnfinishedAsync(CancellationToken cancellationToken)
    {
        await created.EnsureAsync(cancellationToken);
        var jobs = new List<StoredImportJob>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {JobRow} and Status ne {nameof(ImportStatus.Done)} and Status ne {nameof(ImportStatus.Failed)}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            jobs.Add(FromEntity(entity));
        }

        return [.. jobs.OrderBy(j => j.Job.CreatedAt)];
    }

    public async Task<StoredImportJob?> TryUpdateAsync(StoredImportJob current, ImportJob updated, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(updated);
        await created.EnsureAsync(cancellationToken);
        var entity = ToEntity(updated);
        try
        {
            var response = await table.UpdateEntityAsync(entity, new ETag(current.ETag), TableUpdateMode.Merge, cancellationToken);
            return new StoredImportJob(updated, response.Headers.ETag?.ToString() ?? throw new InvalidOperationException("Table Storage answered an update without an ETag."));
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return null;
        }
    }

    private static string Part(int index) => "D" + index.ToString("D2", CultureInfo.InvariantCulture);

    private static string ErrorPart(int index) => "E" + index.ToString("D2", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(ImportJob job)
    {
        var entity = new TableEntity(job.Id, JobRow)
        {
            ["DryRun"] = job.DryRun,
            ["Status"] = job.Status.ToString(),
            ["FileSha256"] = job.FileSha256,
            ["ImportedOn"] = LocalDatePattern.Iso.Format(job.ImportedOn),
            ["Actor"] = job.Actor,
            ["CorrelationId"] = job.CorrelationId,
            ["ActorId"] = job.ActorId ?? string.Empty,
            ["CreatedAt"] = job.CreatedAt.ToDateTimeOffset(),
            ["Total"] = job.Total,
            ["Processed"] = job.Processed,
            ["Attempted"] = job.Attempted,
            ["Created"] = job.Created,
            ["Unchanged"] = job.Unchanged,
            ["Conflicts"] = job.Conflicts,
            ["Invalid"] = job.Invalid,
            ["Failures"] = job.Failures,
            ["Failure"] = job.Failure ?? string.Empty,
        };

        // The first 1,000 errors are bounded (every message and column name is), but larger than one property holds.
        var errors = JsonSerializer.SerializeToUtf8Bytes(job.Errors.Select(e => new ErrorJson(e.Row, e.Column, e.Message)).ToList(), Json);
        var parts = (errors.Length + PartBytes - 1) / PartBytes;
        entity["ErrorParts"] = parts;
        for (var p = 0; p < parts; p++)
        {
            entity[ErrorPart(p)] = errors.AsSpan(p * PartBytes, Math.Min(PartBytes, errors.Length - (p * PartBytes))).ToArray();
        }

        return entity;
    }

    private static StoredImportJob FromEntity(TableEntity entity)
    {
        var parts = entity.GetInt32("ErrorParts") ?? 0;
        var errorBytes = new List<byte>();
        for (var p = 0; p < parts; p++)
        {
            errorBytes.AddRange(entity.GetBinary(ErrorPart(p)));
        }

        var errors = parts == 0
            ? []
            : JsonSerializer.Deserialize<List<ErrorJson>>(errorBytes.ToArray(), Json)!.Select(e => new ImportError(e.Row, e.Column, e.Message)).ToImmutableArray();
        var job = new ImportJob(
            entity.PartitionKey,
            entity.GetBoolean("DryRun") ?? false,
            Enum.Parse<ImportStatus>(entity.GetString("Status")),
            entity.GetString("FileSha256"),
            LocalDatePattern.Iso.Parse(entity.GetString("ImportedOn")).GetValueOrThrow(),
            entity.GetString("Actor"),
            entity.GetString("CorrelationId"),
            Instant.FromDateTimeOffset(entity.GetDateTimeOffset("CreatedAt")!.Value),
            entity.GetInt32("Total") ?? 0,
            entity.GetInt32("Processed") ?? 0,
            entity.GetInt32("Attempted") ?? 0,
            entity.GetInt32("Created") ?? 0,
            entity.GetInt32("Unchanged") ?? 0,
            entity.GetInt32("Conflicts") ?? 0,
            entity.GetInt32("Invalid") ?? 0,
            errors)
        {
            ActorId = entity.GetString("ActorId") is { Length: > 0 } actorId ? actorId : null,
            Failures = entity.GetInt32("Failures") ?? 0,
            Failure = entity.GetString("Failure") is { Length: > 0 } failure ? failure : null,
        };
        return new StoredImportJob(job, entity.ETag.ToString());
    }

    private sealed record ErrorJson(int Row, string? Column, string Message);
}
