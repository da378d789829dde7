using System.Runtime.CompilerServices;
using System.Text;

namespace Smp.Core.Tests.Mail;

/// <summary>
/// Exact comparison with expected files under <c>Mail/Snapshots</c> (copied to the output directory).
/// When a file is missing or differs, the actual output is written next to the source snapshot as
/// <c>NAME.received.EXT</c> for review, and the test fails. Nothing is ever accepted automatically: a
/// reviewer renames the received file to accept it.
/// </summary>
internal static class Snapshot
{
    /// <param name="name">The snapshot's name; each output is compared with <c>NAME.EXT</c>.</param>
    /// <param name="outputs">The actual outputs by file extension; all are checked before the test fails.</param>
    public static void Match(string name, IReadOnlyList<(string Extension, string Actual)> outputs, [CallerFilePath] string callerFile = "")
    {
        var sourceFolder = Path.Combine(Path.GetDirectoryName(callerFile) ?? string.Empty, "Snapshots");
        var expectedFolder = Path.Combine(AppContext.BaseDirectory, "Mail", "Snapshots");
        var receivedFolder = Directory.Exists(sourceFolder) ? sourceFolder : expectedFolder;
        var missing = new List<string>();
        (string Expected, string Actual)? firstDifference = null;

        foreach (var (extension, actual) in outputs)
        {
            var fileName = $"{name}.{extension}";
            var expectedPath = Path.Combine(expectedFolder, fileName);
            var receivedPath = Path.Combine(receivedFolder, $"{name}.received.{extension}");

            // A snapshot deleted from the sources may still linger in the output directory: it is missing all the same.
            var deletedFromSources = receivedFolder == sourceFolder && !File.Exists(Path.Combine(sourceFolder, fileName));
            if (!File.Exists(expectedPath) || deletedFromSources)
            {
                File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
                missing.Add($"{fileName} (output written to {receivedPath})");
                continue;
            }

            var expected = File.ReadAllText(expectedPath, Encoding.UTF8);
            if (string.Equals(expected, actual, StringComparison.Ordinal))
            {
                File.Delete(receivedPath);
                continue;
            }

            File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
            firstDifference ??= (expected, actual);
        }

        if (missing.Count > 0)
        {
            Assert.Fail($"No snapshot {string.Join(", ", missing)}. Review the output, then rename NAME.received.EXT to NAME.EXT.");
        }

        if (firstDifference is { } difference)
        {
            Assert.Equal(difference.Expected, difference.Actual);
        }
    }
}
