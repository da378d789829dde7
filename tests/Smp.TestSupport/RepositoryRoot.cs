namespace Smp.TestSupport;

/// <summary>Finds the repository's top folder from wherever the test assembly runs.</summary>
public static class RepositoryRoot
{
    public const string MarkerFile = "SmpFunctions.sln";

    private static readonly Lazy<string> Root = new(() => Find(AppContext.BaseDirectory));

    /// <summary>The folder holding <see cref="MarkerFile"/>, found by walking up from the test assembly's folder.</summary>
    public static string Path => Root.Value;

    /// <summary>Walks up from <paramref name="start"/> to the first folder holding <see cref="MarkerFile"/>.</summary>
    public static string Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, MarkerFile)))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder above '{start}' holds {MarkerFile}; run the tests from a clone of the repository.");
    }
}
