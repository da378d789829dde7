using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Smp.TestSupport;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// What SPEC section 3 (and the decisions recorded in the docs) say about one value, written from the
/// spec rather than from the code under test, so that a disagreement shows up as a failure.
/// </summary>
public static partial class FuzzOracles
{
    /// <summary>R1: 1-32 characters of <c>A-Z a-z 0-9 -</c> once trimmed.</summary>
    public static Verdict Serial(string value) =>
        value.Trim() is { Length: >= 1 and <= SpecLimits.SerialMaxLength } trimmed && SerialPattern().IsMatch(trimmed) ? Verdict.Valid : Verdict.Invalid;

    /// <summary>
    /// Free text (names, product, order reference, customer id): control characters, lone surrogates (not
    /// Unicode text at all), blank text and text over the field's length are refused. Text without a single
    /// letter or digit (only zero-width or combining characters, say) is left undecided.
    /// </summary>
    public static Verdict FreeText(string value, int maxLength)
    {
        if (value.Length > maxLength || value.Trim().Length == 0 || value.Any(char.IsControl) || HasLoneSurrogate(value))
        {
            return Verdict.Invalid;
        }

        return value.Any(char.IsLetterOrDigit) ? Verdict.Valid : Verdict.Unknown;
    }

    /// <summary>An email address: only the plainly broken ones are decided here (no '@', spaces, controls, lists, display names).</summary>
    public static Verdict Email(string value)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0 || trimmed.Length > SpecLimits.EmailMaxLength || !trimmed.Contains('@', StringComparison.Ordinal)
            || trimmed.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or ',' or ';')
            || HasLoneSurrogate(trimmed)
            || !trimmed[(trimmed.LastIndexOf('@') + 1)..].Contains('.', StringComparison.Ordinal))
        {
            return Verdict.Invalid;
        }

        return Verdict.Unknown;
    }

    /// <summary>A calendar date written exactly <c>yyyy-MM-dd</c> with a year from 0001 to 9999; other ISO forms are undecided.</summary>
    public static Verdict Date(string value, out DateOnly date)
    {
        if (DateOnly.TryParseExact(value, "yyyy'-'MM'-'dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date) && StrictDate().IsMatch(value))
        {
            return Verdict.Valid;
        }

        return value.StartsWith('-') || value.StartsWith('+') || value.StartsWith("0000", StringComparison.Ordinal) ? Verdict.Unknown : Verdict.Invalid;
    }

    /// <summary>
    /// <c>GET /api/reports/expiring</c>: exactly one <c>from</c> and one <c>to</c> (keys are case-insensitive, as the
    /// host decodes them), each a date, <c>to</c> not before <c>from</c>, however far apart (a large answer is paged);
    /// <c>limit</c>, when given, once and 1-100; <c>continuationToken</c>, when given, once and <c>yyyy-MM-dd_SERIAL</c>
    /// with the serial as stored (upper case).
    /// </summary>
    public static Verdict ExpiringQuery(string? rawQuery)
    {
        var query = QueryHelpers.ParseQuery(rawQuery is null ? null : "?" + rawQuery);
        if (query.TryGetValue("limit", out var limits)
            && (limits.Count != 1 || !(limits[0] is { Length: > 0 and <= 9 } l && l.All(char.IsAsciiDigit) && int.Parse(l, CultureInfo.InvariantCulture) is var size && size >= 1 && size <= SpecLimits.ReportPageSizeMax)))
        {
            return Verdict.Invalid;
        }

        if (query.TryGetValue("continuationToken", out var tokens)
            && (tokens.Count != 1 || tokens[0]!.Split('_') is not [var tokenDate, var tokenSerial]
                || Date(tokenDate, out _) != Verdict.Valid || tokenSerial.Length > SpecLimits.SerialMaxLength || !ContinuationSerial().IsMatch(tokenSerial)))
        {
            return Verdict.Invalid;
        }

        var verdicts = new List<Verdict>();
        var dates = new List<DateOnly>();
        foreach (var name in new[] { "from", "to" })
        {
            if (!query.TryGetValue(name, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
            {
                return Verdict.Invalid;
            }

            verdicts.Add(Date(values[0]!, out var date));
            dates.Add(date);
        }

        var verdict = Fuzzed.Combine(verdicts);
        if (verdict != Verdict.Valid)
        {
            return verdict;
        }

        return dates[1] < dates[0] ? Verdict.Invalid : Verdict.Valid;
    }

    /// <summary>Search (section 8): q once, 1-100 characters once trimmed with a letter or digit; limit, if given, once and 1-100.</summary>
    public static Verdict SearchQuery(string? rawQuery)
    {
        var query = QueryHelpers.ParseQuery(rawQuery is null ? null : "?" + rawQuery);
        if (query.TryGetValue("limit", out var limits)
            && (limits.Count != 1 || !(limits[0] is { Length: > 0 and <= 3 } l && l.All(char.IsAsciiDigit) && int.Parse(l, CultureInfo.InvariantCulture) is >= 1 and <= 100)))
        {
            return Verdict.Invalid;
        }

        if (!query.TryGetValue("q", out var texts) || texts.Count != 1 || texts[0]!.Trim() is not { Length: > 0 and <= 100 } text || !text.Any(char.IsLetterOrDigit))
        {
            return Verdict.Invalid;
        }

        return Verdict.Valid;
    }

    /// <summary>A route's customer id: 1-64 characters once trimmed, no control characters.</summary>
    public static Verdict CustomerId(string value)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0 || trimmed.Length > SpecLimits.CustomerIdMaxLength || trimmed.Any(char.IsControl))
        {
            return Verdict.Invalid;
        }

        // The host decodes route values from UTF-8, so a lone surrogate never arrives; not decided.
        return HasLoneSurrogate(trimmed) ? Verdict.Unknown : Verdict.Valid;
    }

    /// <summary>An update version: 1-20 characters of <c>0-9 A-Z a-z .</c> once trimmed.</summary>
    public static Verdict Version(string value) =>
        value.Trim() is { Length: >= 1 and <= SpecLimits.VersionMaxLength } trimmed && VersionPattern().IsMatch(trimmed) ? Verdict.Valid : Verdict.Invalid;

    /// <summary>A mail id: a GUID in its 36-character form (either case); anything else is refused.</summary>
    public static Verdict MailId(string value) =>
        MailIdPattern().IsMatch(value) ? Verdict.Valid : Verdict.Invalid;

    /// <summary>A quotation's scope: <c>license</c> (also when empty or absent) or <c>customer</c>, exactly.</summary>
    public static Verdict Scope(string value) =>
        value is "" or "license" or "customer" ? Verdict.Valid : Verdict.Invalid;

    /// <summary>An update password: 1-200 characters of Unicode text, no control characters, no white space at either end.</summary>
    public static Verdict Password(string value) =>
        value.Length == 0 || value.Length > SpecLimits.PasswordMaxLength || value.Any(char.IsControl) || char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]) || HasLoneSurrogate(value)
            ? Verdict.Invalid
            : Verdict.Valid;

    /// <summary>
    /// The query of a password link: <c>serial</c>, <c>expires</c> and <c>sig</c> each exactly once and not empty, the
    /// serial by R1 and the expiry as Unix seconds (ASCII digits, at most 12, within the calendar). A well-formed link
    /// is never a 400: whether it is genuine, current or entitled decides between 200, 403, 404 and 410.
    /// </summary>
    public static Verdict PasswordLinkQuery(string? rawQuery)
    {
        var query = QueryHelpers.ParseQuery(rawQuery is null ? null : "?" + rawQuery);
        string? Single(string name) => query.TryGetValue(name, out var values) && values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
        if (Single("serial") is not { } serial || Single("expires") is not { } expires || Single("sig") is null)
        {
            return Verdict.Invalid;
        }

        var inRange = expires.Length <= 12 && expires.All(char.IsAsciiDigit)
            && long.Parse(expires, NumberStyles.None, CultureInfo.InvariantCulture) <= NodaTime.Instant.MaxValue.ToUnixTimeSeconds();
        return inRange ? Serial(serial) : Verdict.Invalid;
    }

    /// <summary>
    /// The query of a customer page: each field's values as the page reads them (several are joined with commas,
    /// absent is empty), judged by <paramref name="rules"/>.
    /// </summary>
    public static Verdict PageQuery(string? rawQuery, IReadOnlyDictionary<string, Func<string, Verdict>> rules)
    {
        var query = QueryHelpers.ParseQuery(rawQuery is null ? null : "?" + rawQuery);
        return Fuzzed.Combine(rules.Select(r => r.Value(query.TryGetValue(r.Key, out var values) ? values.ToString() : "")));
    }

    /// <summary><c>GET /api/mail</c>: exactly one <c>status</c>, and it is <c>failed</c>.</summary>
    public static Verdict MailQuery(string? rawQuery)
    {
        var query = QueryHelpers.ParseQuery(rawQuery is null ? null : "?" + rawQuery);
        return query.TryGetValue("status", out var values) && values.Count == 1 && values[0] == "failed" ? Verdict.Valid : Verdict.Invalid;
    }

    public static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("^[A-Za-z0-9-]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex SerialPattern();

    [GeneratedRegex("^[A-Z0-9-]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ContinuationSerial();

    [GeneratedRegex("^[0-9A-Za-z.]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    [GeneratedRegex("^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex MailIdPattern();

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex StrictDate();
}
