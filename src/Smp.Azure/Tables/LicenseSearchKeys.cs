using Smp.Core.Plans;
using Smp.Core.Search;

namespace Smp.Azure.Tables;

/// <summary>
/// The search index rows in the index table: one per license and <see cref="SearchKey"/> of its current state, in
/// partition <c>search-KIND|BUCKET</c> (BUCKET: the term's first character, escaped) with row key
/// <c>TERM|SERIAL</c> (both escaped by <see cref="TableKey"/>). Escaping keeps a prefix a prefix, and its characters
/// all sort at or below '~' with '~' followed only by hex digits, so the rows of the terms starting with P are the
/// row-key range [P, P + "~~") of one partition, and those of the term T exactly are [T + "|", T + "}").
/// </summary>
internal static class LicenseSearchKeys
{
    private const string PartitionPrefix = "search-";
    private const char Separator = '|';

    private static readonly Dictionary<SearchKind, string> KindNames = new()
    {
        [SearchKind.Serial] = "serial",
        [SearchKind.CustomerId] = "customer",
        [SearchKind.NameWord] = "name",
        [SearchKind.Email] = "email",
    };

    public static IEnumerable<IndexKey> KeysFor(License license) =>
        SearchKey.For(license).Select(key => KeyOf(key, license.Serial));

    public static IndexKey KeyOf(SearchKey key, Serial serial) =>
        new(Partition(key.Kind, key.Term), TableKey.Encode(key.Term) + Separator + TableKey.Encode(serial.Value));

    /// <summary>The partition and row-key range [lower, upper) holding the rows that answer <paramref name="lookup"/>; null for an empty term.</summary>
    public static (string Partition, string Lower, string Upper)? RangeOf(SearchLookup lookup)
    {
        if (lookup.Term.Length == 0)
        {
            return null;
        }

        var term = TableKey.Encode(lookup.Term);
        return lookup.IsPrefix
            ? (Partition(lookup.Kind, lookup.Term), term, term + "~~")
            : (Partition(lookup.Kind, lookup.Term), term + Separator, term + '}');
    }

    /// <summary>The look-up that finds exactly the term of a search row (its kind, its term whole), or null for another row.</summary>
    public static SearchLookup? LookupOf(IndexKey key)
    {
        if (!key.PartitionKey.StartsWith(PartitionPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var kindName = key.PartitionKey[PartitionPrefix.Length..key.PartitionKey.IndexOf(Separator, StringComparison.Ordinal)];
        var kind = KindNames.Single(k => k.Value == kindName).Key;
        var term = TableKey.TryDecode(key.RowKey[..key.RowKey.LastIndexOf(Separator)]);
        return term is null ? null : new SearchLookup(kind, term);
    }

    private static string Partition(SearchKind kind, string term) =>
        PartitionPrefix + KindNames[kind] + Separator + TableKey.Encode(term[..1]);
}
