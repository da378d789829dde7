using Smp.Azure.Secrets;

namespace Smp.Azure.Tests.Secrets;

public sealed class NoReplaceRenameTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("smp-no-replace-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task Of_ten_concurrent_movers_to_one_name_exactly_one_wins_and_its_content_stays()
    {
        // Enough rounds that a check-then-rename (File.Move without overwrite on Linux) shows two winners.
        for (var round = 0; round < 200; round++)
        {
            var target = Path.Combine(folder, $"target-{round}");
            var sources = Enumerable.Range(0, 10).Select(i => Path.Combine(folder, $".source-{round}-{i}")).ToArray();
            for (var i = 0; i < sources.Length; i++)
            {
                await File.WriteAllTextAsync(sources[i], $"content-{i}");
            }

            using var start = new ManualResetEventSlim();
            var movers = sources.Select(s => Task.Run(() =>
            {
                start.Wait();
                return NoReplaceRename.TryMove(s, target);
            })).ToArray();
            start.Set();
            var won = await Task.WhenAll(movers);

            var winner = Assert.Single(Enumerable.Range(0, 10), i => won[i]);
            Assert.Equal($"content-{winner}", await File.ReadAllTextAsync(target));
            Assert.False(File.Exists(sources[winner]));
        }
    }

    [Fact]
    public async Task An_existing_file_is_never_replaced()
    {
        var target = Path.Combine(folder, "target");
        var source = Path.Combine(folder, ".source");
        await File.WriteAllTextAsync(target, "original");
        await File.WriteAllTextAsync(source, "newcomer");

        Assert.False(NoReplaceRename.TryMove(source, target));
        Assert.Equal("original", await File.ReadAllTextAsync(target));
    }
}
