using System.Globalization;
using System.Text;

namespace Smp.Core.Search;

/// <summary>
/// How search compares text: case folded (invariant lower case) and accents folded (each letter reduced to the base
/// letter of its Unicode canonical decomposition, combining marks dropped: "Müller" and "MULLER" both become "muller"). Names are
/// split into words at every character that is neither a letter nor a digit. The same rules make the stored terms and
/// the query's, so whatever they do to one they do to the other.
/// </summary>
public static class SearchText
{
    /// <summary>
    /// Stored prefix terms (serials, name words) keep at most this many characters, so that any of them fits a storage key
    /// unabridged and a prefix of it is a prefix of its key; a longer query word is cut the same way.
    /// </summary>
    public const int MaxPrefixTermLength = 40;

    /// <summary>The text case and accent folded: <c>"Ärzte-Zentrum Süd"</c> gives <c>"arzte-zentrum sud"</c>.</summary>
    public static string Fold(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var kept = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            // A decomposed accent is a combining mark after its letter; a precomposed one folds through its decomposition.
            if (CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
            {
                kept.Append(AccentFolding.BaseOf(c));
            }
        }

        return kept.ToString().ToLowerInvariant();
    }

    /// <summary>The folded words of a text, in order, duplicates kept: <c>"Acme Tube-Works, Inc."</c> gives acme, tube, works, inc.</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var folded = Fold(text);
        var words = new List<string>();
        var start = -1;
        for (var i = 0; i <= folded.Length; i++)
        {
            var inWord = i < folded.Length && (char.IsLetterOrDigit(folded, i) || char.IsSurrogate(folded[i]));
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                words.Add(Cut(folded[start..i]));
                start = -1;
            }
        }

        return words;
    }

    /// <summary>A folded term cut to <see cref="MaxPrefixTermLength"/> characters, never inside a surrogate pair.</summary>
    public static string Cut(string folded)
    {
        ArgumentNullException.ThrowIfNull(folded);
        if (folded.Length <= MaxPrefixTermLength)
        {
            return folded;
        }

        var length = char.IsHighSurrogate(folded[MaxPrefixTermLength - 1]) ? MaxPrefixTermLength - 1 : MaxPrefixTermLength;
        return folded[..length];
    }
}
