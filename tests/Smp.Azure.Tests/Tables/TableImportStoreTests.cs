using System.Collections.Immutable;
using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Imports;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>SPEC section 9: the import store keeps a file up to 10 MiB whole, under the Table Storage entity limit.</summary>
public sealed class TableImportStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    private static ImportJob Job() => new(
        Guid.NewGuid().ToString("N"), true, ImportStatus.Queued, "sha", new LocalDate(2027, 2, 15), "admin", "corr",
        Instant.FromUtc(2027, 2, 15, 16, 0), 0, 0, 0, 0, 0, 0, 0, ImmutableArray<ImportError>.Empty);

    private static byte[] File(int length)
    {
        var bytes = new byte[length];
        new Random(13).NextBytes(bytes);
        return bytes;
    }

    private (TableImportStore Store, TableClient Table) Create()
    {
        var service = new TableServiceClient(azurite.ConnectionString);
        var name = "imp" + Guid.NewGuid().ToString("N")[..12];
        return (new TableImportStore(service, name), service.GetTableClient(name));
    }

    [Fact]
    public async Task Section9_an_import_file_of_10_MiB_is_stored_and_read_back_byte_identical()
    {
        var (store, _) = Create();
        var job = Job();
        var file = File(ImportFile.MaxBytes);

        await store.CreateAsync(job, file, Ct);

        Assert.Equal(file, await store.ReadFileAsync(job.Id, Ct));
    }

    [Fact]
    public async Task Section9_a_file_stored_with_the_earlier_16_parts_to_a_row_still_reads()
    {
        var (store, table) = Create();
        var job = Job();
        var file = File(700_000);
        await store.CreateAsync(job, ReadOnlyMemory<byte>.Empty, Ct);

        // The earlier layout: one row holds up to 16 parts of 60,000 bytes.
        var row = new TableEntity(job.Id, "file-0000") { ["Length"] = file.Length };
        for (var p = 0; p * 60_000 < file.Length; p++)
        {
            row["D" + p.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)] = file.AsSpan(p * 60_000, Math.Min(60_000, file.Length - (p * 60_000))).ToArray();
        }

        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, Ct);
        await table.UpdateEntityAsync(new TableEntity(job.Id, "job") { ["FileRows"] = 1, ["FileLength"] = file.Length }, global::Azure.ETag.All, TableUpdateMode.Merge, Ct);

        Assert.Equal(file, await store.ReadFileAsync(job.Id, Ct));
    }
}
