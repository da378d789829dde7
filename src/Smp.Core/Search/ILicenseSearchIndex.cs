using Smp.Core.Licenses;

namespace Smp.Core.Search;

/// <summary>
/// The search index: one row per license and <see cref="SearchKey"/> of its current state, kept in step with every
/// change of the license (written with it, by the same protocol as the store's other indexes).
/// </summary>
public interface ILicenseSearchIndex
{
    /// <summary>
    /// Makes every stored license findable: licenses stored before the search index existed get their rows, page by
    /// page, the progress recorded so that an interrupted run resumes. Once done, a cheap check.
    /// </summary>
    Task EnsureBuiltAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The licenses whose current state has a key answering <paramref name="lookup"/>, in the order of their terms (a
    /// license with two answering keys comes twice). Reads the matching index rows, <paramref name="pageSize"/> at a
    /// time (a caller that stops early reads no more than that many ahead), and each license they point to; never the
    /// licenses that do not match.
    /// </summary>
    IAsyncEnumerable<StoredLicense> FindAsync(SearchLookup lookup, int pageSize, CancellationToken cancellationToken);
}
