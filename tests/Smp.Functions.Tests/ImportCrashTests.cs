using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 9: an import is durable. The process "dies" at every write boundary of a run (before the write is
/// sent, or just after storage carried it out); a new process on the same storage finishes the import with the exact
/// counts of a run that never crashed, and no row is imported twice.
/// </summary>
public sealed class ImportCrashTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = InDenver(2027, 2, 15, 9);

    /// <summary>The writes of one clean run of <see cref="ImportApiTests.Sample"/>: the batch announced, three licenses added, the batch counted.</summary>
    private const int WritesOfOneRun = 5;

    public static TheoryData<int, bool> Boundaries()
    {
        var data = new TheoryData<int, bool>();
        for (var write = 1; write <= WritesOfOneRun; write++)
        {
            data.Add(write, false);
            data.Add(write, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task Section9_an_import_that_dies_at_any_write_finishes_with_exact_counts_and_no_row_twice(int crashOnWrite, bool afterTheWrite)
    {
        var prefix = ApiHarness.UniqueTablePrefix();
        var settings = new Dictionary<string, string?> { ["Smp:TablePrefix"] = prefix };
        var writes = new WriteCounter(crashOnWrite, afterTheWrite);
        string id;
        using (var crashing = new ApiHarness(azurite.ConnectionString, Now, settings, s => s
            .Decorate<ILicenseStore>((inner, _) => new CrashingAddStore(inner, writes))
            .Decorate<IImportStore>((inner, _) => new CrashingImportStore(inner, writes))))
        {
            var posted = await ImportApiTests.PostAsync(crashing, ImportApiTests.Sample);
            id = posted.Json().GetProperty("id").GetString()!;
            await Assert.ThrowsAsync<SimulatedCrashException>(() => ImportApiTests.ProcessAsync(crashing));
        }

        using var restarted = new ApiHarness(azurite.ConnectionString, Now, settings);
        await ImportApiTests.ProcessAsync(restarted);

        var done = (await ImportApiTests.GetAsync(restarted, id)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal(
            (5, 5, 3, 0, 1, 1),
            (done.GetProperty("total").GetInt32(), done.GetProperty("processed").GetInt32(), done.GetProperty("created").GetInt32(),
             done.GetProperty("unchanged").GetInt32(), done.GetProperty("conflicts").GetInt32(), done.GetProperty("invalid").GetInt32()));
        Assert.Equal(2, done.GetProperty("errors").GetArrayLength());
        var store = restarted.Services.GetRequiredService<ILicenseStore>();
        foreach (var serial in new[] { "VT-101", "VT-102", "VT-103" })
        {
            var events = await store.GetEventsAsync(Serial.Parse(serial), CancellationToken.None);
            Assert.Equal(LicenseEventTypes.Imported, Assert.Single(events).Type);
        }
    }

    /// <summary>Counts the writes of both stores and "kills the process" at one of them.</summary>
    private sealed class WriteCounter(int crashOnWrite, bool afterTheWrite)
    {
        private int writes;

        public async Task<T> WriteAsync<T>(Func<Task<T>> write)
        {
            if (Interlocked.Increment(ref writes) != crashOnWrite)
            {
                return await write();
            }

            if (afterTheWrite)
            {
                await write();
            }

            throw new SimulatedCrashException();
        }
    }

    private sealed class CrashingImportStore(IImportStore inner, WriteCounter counter) : IImportStore
    {
        public Task CreateAsync(ImportJob job, ReadOnlyMemory<byte> file, CancellationToken cancellationToken) => inner.CreateAsync(job, file, cancellationToken);

        public Task<StoredImportJob?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public Task<byte[]> ReadFileAsync(string id, CancellationToken cancellationToken) => inner.ReadFileAsync(id, cancellationToken);

        public Task<IReadOnlyList<StoredImportJob>> ListUnfinishedAsync(CancellationToken cancellationToken) => inner.ListUnfinishedAsync(cancellationToken);

        public Task<StoredImportJob?> TryUpdateAsync(StoredImportJob current, ImportJob updated, CancellationToken cancellationToken) =>
            counter.WriteAsync(() => inner.TryUpdateAsync(current, updated, cancellationToken));
    }

    private sealed class CrashingAddStore(ILicenseStore inner, WriteCounter counter) : ILicenseStore
    {
        public Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) =>
            counter.WriteAsync(() => inner.TryAddAsync(license, firstEvent, cancellationToken));

        public Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) => inner.GetAsync(serial, cancellationToken);

        public Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) => inner.GetEventsAsync(serial, cancellationToken);

        public Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);

        public Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.UpdateAsync(current, updated, newEvent, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => inner.ListExpiringAsync(from, to, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) => inner.ListExpiringAfterAsync(from, to, after, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => inner.ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(onFailure, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListAllAsync(after, pageSize, onFailure, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }
}
