using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Search;

/// <summary>
/// A search as staff type it. A serial or its start, a customer id, a word of the customer's name (or the starts of
/// several), or a contact's email address: each is looked up in the index rows of its kind.
/// </summary>
public sealed record SearchQuery
{
    /// <summary>The longest query accepted, in characters.</summary>
    public const int MaxLength = 100;

    private SearchQuery(string text, IReadOnlyList<SearchLookup> lookups, IReadOnlyList<string> words)
    {
        Text = text;
        Lookups = lookups;
        Words = words;
    }

    /// <summary>The query as given, trimmed.</summary>
    public string Text { get; }

    /// <summary>The index look-ups that answer it, in the order their matches are listed.</summary>
    public IReadOnlyList<SearchLookup> Lookups { get; }

    /// <summary>The query's folded words: a match by name must have a name word starting with each.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The query, or null when it is empty, longer than <see cref="MaxLength"/> or has no letter or digit.</summary>
    public static SearchQuery? TryParse(string? text)
    {
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength || !trimmed.Any(char.IsLetterOrDigit))
        {
            return null;
        }

        var folded = SearchText.Fold(trimmed);
        var words = SearchText.Words(trimmed);
        var lookups = new List<SearchLookup>();
        if (folded.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            lookups.Add(new SearchLookup(SearchKind.Serial, SearchText.Cut(folded)));
        }

        lookups.Add(new SearchLookup(SearchKind.CustomerId, folded));
        if (folded.Contains('@', StringComparison.Ordinal))
        {
            lookups.Add(new SearchLookup(SearchKind.Email, folded));
        }

        if (words.Count > 0)
        {
            // The longest word narrows the index rows read the most; the others are checked on each license found.
            lookups.Add(new SearchLookup(SearchKind.NameWord, words.MaxBy(w => w.Length)!));
        }

        return new SearchQuery(trimmed, lookups, words);
    }

    /// <summary>True when <paramref name="license"/> answers this query through <paramref name="lookup"/>.</summary>
    public bool Accepts(SearchLookup lookup, License license)
    {
        ArgumentNullException.ThrowIfNull(license);
        if (lookup.Kind != SearchKind.NameWord)
        {
            return true;
        }

        var nameWords = SearchText.Words(license.Customer.Name);
        return Words.All(w => nameWords.Any(n => n.StartsWith(w, StringComparison.Ordinal)));
    }
}

/// <summary>One license found: what a result list shows of it.</summary>
public sealed record SearchMatch(Serial Serial, string CustomerId, string CustomerName, string Product, LocalDate ExpiresOn, PlanStatus Status);

/// <summary>The matches of one search, at most the limit asked for; <see cref="More"/> when there are others.</summary>
public sealed record SearchResult(IReadOnlyList<SearchMatch> Matches, bool More);

/// <summary>
/// Search answered from index rows (never by reading every license): the look-ups of the query one after the other,
/// each license listed once, until the limit. Its reads follow its results: one query per look-up (a page of index
/// rows) and one read per license found. A license found with a dongle replacement begun and not finished (a crash came
/// between its writes) is finished first, through <paramref name="licenses"/>, and shown as it is then (SPEC section 10:
/// never two current licenses for one plan); the host always gives it.
/// </summary>
public sealed class LicenseSearch(ILicenseSearchIndex index, BusinessCalendar calendar, LicenseService? licenses = null)
{
    /// <summary>The most matches one search lists.</summary>
    public const int MaxLimit = 100;

    /// <summary>Matches listed when no limit is asked for.</summary>
    public const int DefaultLimit = 20;

    public async Task<SearchResult> SearchAsync(SearchQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);

        await index.EnsureBuiltAsync(cancellationToken);
        var today = calendar.Today;
        var seen = new HashSet<Serial>();
        var matches = new List<SearchMatch>();
        foreach (var lookup in query.Lookups)
        {
            // One more than the limit: enough to tell whether there are more.
            await foreach (var stored in index.FindAsync(lookup, limit + 1, cancellationToken))
            {
                var license = stored.License;
                if (license.Replacement is { Completed: false } && licenses is not null)
                {
                    license = (await licenses.GetAsync(license.Serial, cancellationToken))?.License ?? license;
                }

                if (!query.Accepts(lookup, license) || !seen.Add(license.Serial))
                {
                    continue;
                }

                if (matches.Count == limit)
                {
                    return new SearchResult(matches, More: true);
                }

                matches.Add(new SearchMatch(license.Serial, license.Customer.Id, license.Customer.Name, license.Product, license.ExpiresOn, license.StatusOn(today)));
            }
        }

        return new SearchResult(matches, More: false);
    }
}
