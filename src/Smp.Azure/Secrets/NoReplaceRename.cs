using System.Runtime.InteropServices;

namespace Smp.Azure.Secrets;

/// <summary>
/// Puts a finished file in place under a new name only if that name is free, atomically: of concurrent
/// callers for one name exactly one succeeds.
/// </summary>
/// <remarks>
/// <c>File.Move(source, target, overwrite: false)</c> is not enough on Linux: .NET checks that the target
/// is missing and then calls <c>rename</c>, which replaces, so two callers can both pass the check and
/// the second silently replaces the first. On Unix this uses <c>link(2)</c> instead, which fails with
/// <c>EEXIST</c> when the name is taken; on Windows <c>MoveFileEx</c> without replace is already atomic.
/// </remarks>
internal static partial class NoReplaceRename
{
    private const int EEXIST = 17; // Linux and macOS alike.

    /// <summary>True when <paramref name="target"/> now holds <paramref name="source"/>'s content; false when it already existed.</summary>
    public static bool TryMove(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(source, target, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(target))
            {
                return false;
            }
        }

        if (Link(source, target) == 0)
        {
            File.Delete(source);
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == EEXIST
            ? false
            : throw new IOException($"Could not link the new file into place (errno {errno}); the file system must support hard links.");
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);
}
