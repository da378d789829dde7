using System.Text;
using Microsoft.Extensions.Logging.Testing;
using Smp.Azure.Secrets;
using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;

namespace Smp.Azure.Tests.Secrets;

public sealed class LocalFolderSecretStoreTests : IDisposable
{
    private static readonly SecretName Update196 = SecretName.ForUpdate(UpdateVersion.Parse("1.96"));

    private readonly string root = Path.Combine(Path.GetTempPath(), "smp-secrets-tests-" + Guid.NewGuid().ToString("N"));
    private readonly FakeLogCollector logs = new();

    private string Folder => Path.Combine(root, "secrets");

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_value_set_is_read_back_from_a_file_named_after_the_secret()
    {
        var store = Store();

        await store.SetAsync(Update196, "p@ss-1.96 ünïcode", CancellationToken.None);

        Assert.Equal("p@ss-1.96 ünïcode", await store.GetAsync(Update196, CancellationToken.None));
        Assert.Equal("p@ss-1.96 ünïcode", await File.ReadAllTextAsync(Path.Combine(Folder, "smp-update-1-96"), Encoding.UTF8));
        Assert.Equal("p@ss-1.96 ünïcode", await Store().GetAsync(Update196, CancellationToken.None));
    }

    [Fact]
    public async Task The_local_store_keeps_one_version_so_its_enabled_versions_are_the_current_value_alone()
    {
        var store = Store();
        Assert.Empty(await store.GetEnabledVersionsAsync(SecretName.LinkSigningKey, CancellationToken.None));
        await store.SetAsync(SecretName.LinkSigningKey, "key-one", CancellationToken.None);
        await store.SetAsync(SecretName.LinkSigningKey, "key-two", CancellationToken.None);

        Assert.Equal(["key-two"], await store.GetEnabledVersionsAsync(SecretName.LinkSigningKey, CancellationToken.None));
    }

    [Fact]
    public async Task A_new_value_replaces_the_old_one()
    {
        var store = Store();

        await store.SetAsync(Update196, "first", CancellationToken.None);
        await store.SetAsync(Update196, "second", CancellationToken.None);

        Assert.Equal("second", await store.GetAsync(Update196, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_secret_reads_as_null() =>
        Assert.Null(await Store().GetAsync(Update196, CancellationToken.None));

    [Fact]
    public async Task A_line_break_at_the_end_of_a_hand_written_file_is_ignored()
    {
        var store = Store();
        await File.WriteAllTextAsync(Path.Combine(Folder, "smp-update-1-96"), "typed-in-an-editor\r\n");

        Assert.Equal("typed-in-an-editor", await store.GetAsync(Update196, CancellationToken.None));
    }

    [Fact]
    public async Task An_empty_file_is_an_error_not_an_empty_secret()
    {
        var store = Store();
        await File.WriteAllTextAsync(Path.Combine(Folder, "smp-update-1-96"), "\n");

        var e = await Assert.ThrowsAsync<SecretStoreException>(() => store.GetAsync(Update196, CancellationToken.None));
        Assert.Contains("smp-update-1-96", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_folder_and_the_files_are_readable_by_their_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Windows has no Unix modes; files inherit the folder's access rules there.
        }

        var store = Store();
        await store.SetAsync(Update196, "secret", CancellationToken.None);
        await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => "key", CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Folder, "smp-update-1-96")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Folder, "smp-link-signing-key")));
    }

    [Fact]
    public async Task GetOrCreate_creates_once_and_then_returns_the_stored_value()
    {
        var store = Store();
        var created = 0;

        var first = await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => { created++; return "key-one"; }, CancellationToken.None);
        var second = await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => { created++; return "key-two"; }, CancellationToken.None);

        Assert.Equal(("key-one", "key-one", 1), (first, second, created));
    }

    [Fact]
    public async Task Ten_concurrent_creators_converge_on_one_value()
    {
        for (var round = 0; round < 20; round++)
        {
            var name = SecretName.Parse($"smp-race-{round}");
            var stores = Enumerable.Range(0, 10).Select(_ => Store()).ToArray();
            var start = new TaskCompletionSource();
            var racers = stores.Select((store, i) => Task.Run(async () =>
            {
                await start.Task;
                return await store.GetOrCreateAsync(name, () => $"value-from-creator-{i}", CancellationToken.None);
            })).ToArray();

            start.SetResult();
            var values = await Task.WhenAll(racers);

            var value = Assert.Single(values.Distinct());
            Assert.Equal(value, await Store().GetAsync(name, CancellationToken.None));
        }

        Assert.Equal(20, Directory.GetFiles(Folder).Length);
    }

    [Fact]
    public async Task Writes_leave_no_temporary_files_and_readers_never_see_a_partial_value()
    {
        var store = Store();
        var values = Enumerable.Range(0, 8).Select(i => new string((char)('a' + i), 200_000)).ToArray();
        await store.SetAsync(Update196, values[0], CancellationToken.None);
        using var stop = new CancellationTokenSource();

        var reader = Task.Run(async () =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested)
            {
                var read = await store.GetAsync(Update196, CancellationToken.None);
                Assert.Contains(read, values);
                reads++;
            }

            return reads;
        });
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                await store.SetAsync(Update196, values[(w + i) % values.Length], CancellationToken.None);
            }
        }));
        await Task.WhenAll(writers);
        await stop.CancelAsync();

        Assert.True(await reader > 0);
        Assert.Equal(["smp-update-1-96"], Directory.GetFileSystemEntries(Folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Invalid_names_and_values_are_refused_before_touching_the_folder()
    {
        var store = Store();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(default, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(default, "value", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetOrCreateAsync(default, () => "value", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(Update196, "", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetOrCreateAsync(Update196, () => "", CancellationToken.None));

        Assert.Empty(Directory.GetFileSystemEntries(Folder));
    }

    [Fact]
    public async Task Secret_values_never_reach_a_log_line()
    {
        const string Password = "LOCAL-NEVER-LOGGED-2b7c";
        var store = Store();

        await store.SetAsync(Update196, Password, CancellationToken.None);
        await store.GetAsync(Update196, CancellationToken.None);
        await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => Password, CancellationToken.None);
        await store.GetAsync(SecretName.Parse("smp-missing"), CancellationToken.None);

        var records = logs.GetSnapshot();
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.DoesNotContain(Password, r.Message, StringComparison.Ordinal));
    }

    private LocalFolderSecretStore Store() => new(Folder, new FakeLogger<LocalFolderSecretStore>(logs));
}
