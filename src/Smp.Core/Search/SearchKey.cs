using Smp.Core.Plans;

namespace Smp.Core.Search;

/// <summary>What a search term is of.</summary>
public enum SearchKind
{
    /// <summary>The serial, folded; found by any start of it.</summary>
    Serial,

    /// <summary>The customer id, folded; found whole.</summary>
    CustomerId,

    /// <summary>One word of the customer's name, folded; found by any start of it.</summary>
    NameWord,

    /// <summary>One contact's email address, folded; found whole.</summary>
    Email,
}

/// <summary>One term a license is found by: the search index holds one row per license and key.</summary>
public readonly record struct SearchKey(SearchKind Kind, string Term)
{
    /// <summary>True when terms of this kind are found by any start of them, not only whole.</summary>
    public static bool IsPrefixKind(SearchKind kind) => kind is SearchKind.Serial or SearchKind.NameWord;

    /// <summary>The terms a license's current state is found by: its serial, customer id, each word of its customer's name, each contact.</summary>
    public static IReadOnlySet<SearchKey> For(License license)
    {
        ArgumentNullException.ThrowIfNull(license);
        var keys = new HashSet<SearchKey>
        {
            new(SearchKind.Serial, SearchText.Cut(SearchText.Fold(license.Serial.Value))),
            new(SearchKind.CustomerId, SearchText.Fold(license.Customer.Id)),
        };
        foreach (var word in SearchText.Words(license.Customer.Name))
        {
            keys.Add(new SearchKey(SearchKind.NameWord, word));
        }

        foreach (var contact in license.Contacts)
        {
            keys.Add(new SearchKey(SearchKind.Email, SearchText.Fold(contact.Value)));
        }

        keys.RemoveWhere(k => k.Term.Length == 0);
        return keys;
    }
}

/// <summary>One look-up in the search index: the licenses with a key of <see cref="Kind"/> whose term is <see cref="Term"/> or, for a prefix kind, starts with it.</summary>
public readonly record struct SearchLookup(SearchKind Kind, string Term)
{
    public bool IsPrefix => SearchKey.IsPrefixKind(Kind);

    /// <summary>True when <paramref name="key"/> answers this look-up.</summary>
    public bool Matches(SearchKey key) =>
        key.Kind == Kind && (IsPrefix ? key.Term.StartsWith(Term, StringComparison.Ordinal) : string.Equals(key.Term, Term, StringComparison.Ordinal));
}
