using Smp.Core.Plans;
using Smp.Core.Search;

namespace Smp.Azure.Tables;

/// <summary>
/// The search index rows in the index table: one per license and <see cref="SearchKey"/> of its current state, all in
/// partition <see cref="Partition"/>, with row key <c>KIND|TERM|SERIAL</c> (KIND a plain word, TERM and SERIAL escaped by
/// <see cref="TableKey"/>). One partition, so that the search rows of a license can be written in one entity group
/// transaction. Escaping keeps a prefix a prefix, and its characters all sort below '|' except '~', which sorts above
/// '}' and is followed only by hex digits (or a second '~' before a hash), so the rows of the terms of one kind starting
/// with P are the row-key range [KIND|P, KIND|P + "~~"), and those of the term T exactly are [KIND|T|, KIND|T}).
/// </summary>
internal static class LicenseSearchKeys
{
    /// <summary>The one partition of every search row.</summary>
    public const string Partition = "search-terms";

    /// <summary>
    /// The partitions of the first search layout began with this (<c>search-KIND|BUCKET</c>, BUCKET the term's first
    /// character): one per kind and first character. <see cref="SearchLayoutMigration"/> deletes their rows.
    /// </summary>
    private const string OldPartitionPrefix = "search-";

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
        new(Partition, KindNames[key.Kind] + Separator + TableKey.Encode(key.Term) + Separator + TableKey.Encode(serial.Value));

    /// <summary>The partition and row-key range [lower, upper) holding the rows that answer <paramref name="lookup"/>; null for an empty term.</summary>
    public static (string Partition, string Lower, string Upper)? RangeOf(SearchLookup lookup)
    {
        if (lookup.Term.Length == 0)
        {
            return null;
        }

        var term = KindNames[lookup.Kind] + Separator + TableKey.Encode(lookup.Term);
        return lookup.IsPrefix
            ? (Partition, term, term + "~~")
            : (Partition, term + Separator, term + '}');
    }

    /// <summary>The look-up that finds exactly the term of a search row (its kind, its term whole), or null for another row.</summary>
    public static SearchLookup? LookupOf(IndexKey key)
    {
        if (key.PartitionKey != Partition)
        {
            return null;
        }

        var kindEnd = key.RowKey.IndexOf(Separator, StringComparison.Ordinal);
        var termEnd = key.RowKey.LastIndexOf(Separator);
        if (kindEnd <= 0 || termEnd <= kindEnd)
        {
            return null;
        }

        var kindName = key.RowKey[..kindEnd];
        var kind = KindNames.Where(k => k.Value == kindName).Select(k => (SearchKind?)k.Key).SingleOrDefault();
        var term = TableKey.TryDecode(key.RowKey[(kindEnd + 1)..termEnd]);
        return kind is null || term is null ? null : new SearchLookup(kind.Value, term);
    }

    /// <summary>
    /// As <see cref="RangeOf"/>, in the first search layout (partition <c>search-KIND|BUCKET</c>, BUCKET the term's first
    /// character escaped, row key <c>TERM|SERIAL</c>): read while a store moved from it has not rebuilt its rows.
    /// </summary>
    public static (string Partition, string Lower, string Upper)? FirstLayoutRangeOf(SearchLookup lookup)
    {
        if (lookup.Term.Length == 0)
        {
            return null;
        }

        var partition = OldPartitionPrefix + KindNames[lookup.Kind] + Separator + TableKey.Encode(lookup.Term[..1]);
        var term = TableKey.Encode(lookup.Term);
        return lookup.IsPrefix ? (partition, term, term + "~~") : (partition, term + Separator, term + '}');
    }

    /// <summary>
    /// The current layout's key of a first-layout search row (the same term and serial, the kind moved from the partition
    /// into the row key); null for any other row.
    /// </summary>
    public static IndexKey? CurrentKeyOfFirstLayout(IndexKey key)
    {
        if (!key.PartitionKey.StartsWith(OldPartitionPrefix, StringComparison.Ordinal) || key.PartitionKey == Partition)
        {
            return null;
        }

        var kindEnd = key.PartitionKey.IndexOf(Separator, StringComparison.Ordinal);
        var kindName = kindEnd > OldPartitionPrefix.Length ? key.PartitionKey[OldPartitionPrefix.Length..kindEnd] : null;
        return kindName is not null && KindNames.ContainsValue(kindName) ? new IndexKey(Partition, kindName + Separator + key.RowKey) : null;
    }

    /// <summary>
    /// The partition-key ranges [lower, upper) of the first search layout's partitions (<c>search-KIND|BUCKET</c>), one per
    /// kind; none of them holds <see cref="Partition"/>.
    /// </summary>
    public static IEnumerable<(string Lower, string Upper)> OldPartitionRanges() =>
        KindNames.Values.Order(StringComparer.Ordinal).Select(kind => (OldPartitionPrefix + kind + Separator, OldPartitionPrefix + kind + '}'));
}
