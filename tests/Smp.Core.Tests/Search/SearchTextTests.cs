using Smp.Core.Plans;
using Smp.Core.Search;

namespace Smp.Core.Tests.Search;

/// <summary>Section 8, search: case-insensitive, accents folded, a word of the customer's name from its start.</summary>
public class SearchTextTests
{
    [Theory]
    [InlineData("Müller", "muller")]
    [InlineData("MÜLLER", "muller")]
    [InlineData("Ärzte-Zentrum Süd", "arzte-zentrum sud")]
    [InlineData("Crème Brûlée", "creme brulee")]
    [InlineData("ÅNGSTRÖM", "angstrom")]
    [InlineData("Ça", "ca")]
    [InlineData("CUST-042", "cust-042")]
    public void Section8_text_is_folded_to_lower_case_without_accents(string text, string expected) =>
        Assert.Equal(expected, SearchText.Fold(text));

    /// <summary>
    /// The app runs with invariant globalization (no decomposition by the runtime); this test project does not, so it
    /// can check the folding table against the runtime's Unicode canonical decomposition, letter by letter.
    /// </summary>
    [Fact]
    public void Section8_every_accented_latin_greek_and_cyrillic_letter_folds_to_the_base_of_its_canonical_decomposition()
    {
        var checkedLetters = 0;
        foreach (var code in Enumerable.Range(0x80, 0x500 - 0x80).Concat(Enumerable.Range(0x1E00, 0x200)))
        {
            var letter = ((char)code).ToString();
            var decomposed = letter.Normalize(System.Text.NormalizationForm.FormD);
            var marks = decomposed.Where(c => char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark or System.Globalization.UnicodeCategory.EnclosingMark).ToList();
            var bases = decomposed.Where(c => !marks.Contains(c)).ToList();
            if (decomposed == letter || marks.Count == 0 || bases.Count != 1)
            {
                continue;
            }

            Assert.True(SearchText.Fold(bases[0].ToString()) == SearchText.Fold(letter), $"U+{code:X4} {letter} folds to {SearchText.Fold(letter)}, not {bases[0]}");
            checkedLetters++;
        }

        Assert.True(checkedLetters > 700, $"Only {checkedLetters} letters checked.");
    }

    [Fact]
    public void Section8_a_decomposed_accent_folds_like_a_precomposed_one() =>
        Assert.Equal(SearchText.Fold("M\u00FCller"), SearchText.Fold("Mu\u0308ller"));

    [Theory]
    [InlineData("Acme Tube-Works, Inc.", new[] { "acme", "tube", "works", "inc" })]
    [InlineData("  Société  Générale  ", new[] { "societe", "generale" })]
    [InlineData("O'Brien & Söhne GmbH", new[] { "o", "brien", "sohne", "gmbh" })]
    [InlineData("3D Print Ltd", new[] { "3d", "print", "ltd" })]
    [InlineData("---", new string[0])]
    public void Section8_a_name_is_split_into_folded_words(string name, string[] expected) =>
        Assert.Equal(expected, SearchText.Words(name));

    [Fact]
    public void A_very_long_word_is_cut_to_the_longest_prefix_term() =>
        Assert.Equal(new string('a', SearchText.MaxPrefixTermLength), Assert.Single(SearchText.Words(new string('A', 70))));

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair()
    {
        var word = new string('a', SearchText.MaxPrefixTermLength - 1) + "\U0001D49C" + "bc";
        var cut = SearchText.Cut(word);
        Assert.Equal(SearchText.MaxPrefixTermLength - 1, cut.Length);
        Assert.False(char.IsHighSurrogate(cut[^1]));
    }

    [Fact]
    public void Section8_a_license_is_found_by_its_serial_customer_id_name_words_and_contacts()
    {
        var license = Given.ActivatedOn("2026-03-02") with
        {
            Activation = Given.ActivatedOn("2026-03-02").Activation with { Customer = new Customer("CUST-042", "Acme Tube Wörks") },
        };

        var keys = SearchKey.For(license);

        Assert.Equal(
            new HashSet<SearchKey>
            {
                new(SearchKind.Serial, "vt-10042"),
                new(SearchKind.CustomerId, "cust-042"),
                new(SearchKind.NameWord, "acme"),
                new(SearchKind.NameWord, "tube"),
                new(SearchKind.NameWord, "works"),
                new(SearchKind.Email, "buyer@acme.example"),
                new(SearchKind.Email, "cad.lead@acme.example"),
            },
            keys.ToHashSet());
    }

    [Theory]
    [InlineData("vt-100", SearchKind.Serial, "vt-100", true)]
    [InlineData("vt-100", SearchKind.Serial, "vt-10042", true)]
    [InlineData("vt-10042", SearchKind.Serial, "vt-100", false)]
    [InlineData("acm", SearchKind.NameWord, "acme", true)]
    [InlineData("cust", SearchKind.CustomerId, "cust-042", false)]
    [InlineData("cust-042", SearchKind.CustomerId, "cust-042", true)]
    [InlineData("buyer@acme", SearchKind.Email, "buyer@acme.example", false)]
    public void Section8_serials_and_name_words_match_from_their_start_ids_and_emails_whole(string term, SearchKind kind, string stored, bool matches) =>
        Assert.Equal(matches, new SearchLookup(kind, term).Matches(new SearchKey(kind, stored)));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("--- ...")]
    [InlineData(null)]
    public void A_query_without_a_letter_or_digit_is_refused(string? text) =>
        Assert.Null(SearchQuery.TryParse(text));

    [Fact]
    public void A_query_longer_than_its_maximum_is_refused()
    {
        Assert.NotNull(SearchQuery.TryParse(new string('a', SearchQuery.MaxLength)));
        Assert.Null(SearchQuery.TryParse(new string('a', SearchQuery.MaxLength + 1)));
    }

    [Fact]
    public void Section8_a_serial_like_query_looks_up_serials_customer_ids_and_name_words()
    {
        var query = SearchQuery.TryParse(" VT-100 ")!;

        Assert.Equal("VT-100", query.Text);
        Assert.Equal(
            [new SearchLookup(SearchKind.Serial, "vt-100"), new SearchLookup(SearchKind.CustomerId, "vt-100"), new SearchLookup(SearchKind.NameWord, "100")],
            query.Lookups);
    }

    [Fact]
    public void Section8_an_email_query_looks_up_contacts_and_not_serials()
    {
        var query = SearchQuery.TryParse("Buyer@ACME.example")!;

        Assert.Contains(new SearchLookup(SearchKind.Email, "buyer@acme.example"), query.Lookups);
        Assert.DoesNotContain(query.Lookups, l => l.Kind == SearchKind.Serial);
    }

    [Fact]
    public void Section8_several_words_look_up_the_longest_and_each_must_start_a_name_word()
    {
        var query = SearchQuery.TryParse("tub acmé")!;
        var lookup = Assert.Single(query.Lookups, l => l.Kind == SearchKind.NameWord);
        Assert.Equal("acme", lookup.Term);

        var acme = Given.ActivatedOn("2026-03-02");
        var other = acme with { Activation = acme.Activation with { Customer = new Customer("CUST-043", "Acme Pipes") } };
        Assert.True(query.Accepts(lookup, acme));
        Assert.False(query.Accepts(lookup, other));
    }
}
