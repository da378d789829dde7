using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Smp.Functions.Hosting;

/// <summary>
/// Last line of defence before telemetry leaves the process. By name: an attribute whose name says it holds a
/// password, a secret, a key or a token has its value replaced. By value: in any text (a URL, a query string, a
/// log message or template, an exception message) the value of a link signature (<c>sig=</c>), of a function key
/// (<c>code=</c>, <c>x-functions-key:</c>, <c>"code":</c>, <c>[x-functions-key, ...]</c>) and of any parameter,
/// header, header pair or JSON member with a sensitive name is replaced, while the names and the other parameters
/// (<c>serial</c>, <c>expires</c>, ...) stay readable. The first line is the code itself, which never puts such a
/// value in a tag or a log message; this catches the slip and what frameworks log on their own (request lines with
/// their query strings).
/// </summary>
internal static partial class SensitiveTelemetry
{
    public const string Redacted = "[REDACTED]";

    // Compared with separators removed and case ignored: "smp.update_password" and "Password" both match.
    private static readonly string[] Markers =
    [
        "password", "passwd", "secret", "token", "authorization", "signature", "credential", "cookie",
        "apikey", "accesskey", "accountkey", "signingkey", "privatekey", "connectionstring",
        "functionskey", "functionkey", "masterkey", "clientprincipal",
    ];

    public static bool IsSensitive(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        Span<char> buffer = name.Length <= 256 ? stackalloc char[name.Length] : new char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                buffer[length++] = c;
            }
        }

        ReadOnlySpan<char> letters = buffer[..length];
        foreach (var marker in Markers)
        {
            if (letters.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The text with every secret value replaced by <see cref="Redacted"/> (the same instance when there was none):
    /// <c>?serial=VT-1&amp;expires=1&amp;sig=abc</c> becomes <c>?serial=VT-1&amp;expires=1&amp;sig=[REDACTED]</c>.
    /// Where a value ends (<see cref="ParameterValue"/>) errs towards replacing too much: a secret may hold any character.
    /// </summary>
    public static string Scrub(string text)
    {
        // "3D" covers "%3D", "%253D" (encoded twice) and "\u003d".
        if (string.IsNullOrEmpty(text) || (text.AsSpan().IndexOfAny(':', '=', ',') < 0 && !text.Contains("3D", StringComparison.OrdinalIgnoreCase)))
        {
            return text;
        }

        // First JSON members with a sensitive name (also JSON escaped inside a JSON string), then every parameter,
        // header or name-and-value pair wherever it sits (after "?", "&", their percent-encoded or JSON-escaped forms,
        // or in plain text), then sensitive headers written as a pair without ":" or "=" ("[x-functions-key, value]").
        var scrubbed = Redact(text, JsonMemberName(), Kind.Json);
        scrubbed = Redact(scrubbed, ParameterName(), Kind.Parameter);
        return Redact(scrubbed, HeaderPairName(), Kind.HeaderPair);
    }

    private enum Kind
    {
        Json,
        Parameter,
        HeaderPair,
    }

    private static string Redact(string text, Regex names, Kind kind)
    {
        System.Text.StringBuilder? result = null;
        var copied = 0;
        var position = 0;
        while (position < text.Length && names.Match(text, position) is { Success: true } match)
        {
            var name = kind is Kind.Parameter ? DecodedName(match.Groups["name"].Value) : match.Groups["name"].Value;
            var valueStart = match.Index + match.Length;
            position = valueStart;
            if (!(kind is Kind.HeaderPair ? IsHeaderPair(text, match) : IsSecretParameter(name)))
            {
                continue;
            }

            var (start, end) = kind switch
            {
                Kind.Json => JsonValue(text, valueStart),
                Kind.Parameter => ParameterValue(text, match, valueStart),
                _ => HeaderPairValue(text, match, valueStart),
            };
            if (end > start && !text.AsSpan(start, end - start).SequenceEqual(Redacted))
            {
                result ??= new System.Text.StringBuilder(text.Length);
                result.Append(text, copied, start - copied).Append(Redacted);
                copied = end;
            }

            position = Math.Max(end, valueStart);
        }

        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>
    /// A parameter name as the host reads it: ASP.NET decodes <c>%73ig</c> to <c>sig</c>. The name pattern admits only
    /// encoded letters, digits, "_", "." and "-" (at most three levels of encoding), so this is bounded and never
    /// yields a separator.
    /// </summary>
    private static string DecodedName(string name)
    {
        for (var level = 0; level < MaxEncodingLevels && name.Contains('%', StringComparison.Ordinal); level++)
        {
            name = Uri.UnescapeDataString(name);
        }

        return name;
    }

    /// <summary>How many times a URL may be percent-encoded (a link inside a link inside a link) and still be read.</summary>
    private const int MaxEncodingLevels = 3;

    // A JSON member is judged like a parameter: "sig" and "code" lose every value. An error document's "code" may be a
    // harmless error code, but a function key cannot be told from one by its shape, and a leaked key is worse.
    private static bool IsSecretParameter(string name) =>
        IsSensitive(name)
        || name.Equals("sig", StringComparison.OrdinalIgnoreCase)
        || name.Equals("code", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether a sensitive header name followed by "," starts a header pair: always for the names that are nothing but
    /// header names (<c>x-functions-key</c>, <c>x-ms-client-principal</c>); for the ordinary words (<c>authorization</c>,
    /// <c>cookie</c>) only inside brackets or quotes (<c>[Cookie, a=b]</c>, <c>["Authorization", "Bearer x"]</c>) or at
    /// the start of a line, so that prose ("set a cookie, then retry") stays readable.
    /// </summary>
    private static bool IsHeaderPair(string text, Match match)
    {
        if (match.Groups["name"].Value.StartsWith("x-", StringComparison.OrdinalIgnoreCase)
            || match.Groups["open"].Length > 0 || match.Groups["quote"].Length > 0)
        {
            return true;
        }

        var lineStart = text.AsSpan(0, match.Index).LastIndexOfAny('\r', '\n') + 1;
        return text.AsSpan(lineStart, match.Index - lineStart).IsWhiteSpace();
    }

    /// <summary>
    /// A header pair's value: a quoted one to its closing quote; after "[" or "(" to the last "]" or ")" on its line
    /// (a value may hold either, so this errs towards too much); otherwise to the end of its line.
    /// </summary>
    private static (int Start, int End) HeaderPairValue(string text, Match match, int i)
    {
        if (Quoted(text, i) is { } quoted)
        {
            return quoted;
        }

        var lineEnd = text.AsSpan(i).IndexOfAny('\r', '\n');
        var line = text.AsSpan(i, lineEnd < 0 ? text.Length - i : lineEnd);
        var close = match.Groups["open"].Value switch
        {
            "[" => line.LastIndexOf(']'),
            "(" => line.LastIndexOf(')'),
            _ => -1,
        };
        return (i, i + (close < 0 ? line.Length : close));
    }

    /// <summary>A JSON member's value: a string's content (to its closing quote, at its level of escaping), or a bare value.</summary>
    private static (int Start, int End) JsonValue(string text, int i)
    {
        if (Quoted(text, i) is { } quoted)
        {
            return quoted;
        }

        if (At(text, i, Redacted))
        {
            return (i, i + Redacted.Length);
        }

        var end = i;
        while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] is not (',' or '}' or ']' or '"' or '\\'))
        {
            end++;
        }

        return (i, end);
    }

    /// <summary>
    /// A parameter's value. In a URL query (the name follows "?" or "&amp;", or their encoded forms) it ends at
    /// whitespace, a closing quote, "&lt;", "&gt;", "#", or a separator followed by another <c>name=</c> at the same level of
    /// encoding as its own "=" (a "%26" inside a plain query is part of the value). A header's ("name: value") runs to
    /// the end of its line. Any other runs to whitespace, or to the quote closing a JSON string it sits in. A quoted
    /// value runs to its closing quote.
    /// </summary>
    private static (int Start, int End) ParameterValue(string text, Match match, int i)
    {
        if (Quoted(text, i) is { } quoted)
        {
            return quoted;
        }

        var separator = match.Groups["separator"].ValueSpan.Trim();
        var nameStart = match.Groups["name"].Index;
        if (separator is ":")
        {
            var end = text.AsSpan(i).IndexOfAny('\r', '\n');
            return (i, end < 0 ? text.Length : i + end);
        }

        if (!InQuery(text, nameStart))
        {
            return (i, EndOfPlainValue(text, AfterScheme(text, i)));
        }

        // A value after "%3D" ends at "%26" before another "name%3D"; after "%253D" (encoded twice) at "%2526" before
        // "name%253D"; and so on: at the same level of encoding as its own "=".
        var percentEncoded = separator.StartsWith('%');
        var encodedEquals = percentEncoded ? separator.ToString() : string.Empty;
        var encodedAmpersand = percentEncoded ? string.Concat(separator[..^2], "26") : string.Empty;
        for (var end = i; end < text.Length; end++)
        {
            var c = text[end];
            if (char.IsWhiteSpace(c) || c is '<' or '>' or '#' || ClosingQuote(text, end) > 0)
            {
                return (i, end);
            }

            if (c == '&' && NextParameter(text, end + 1, "="))
            {
                return (i, end);
            }

            if (!percentEncoded && At(text, end, "\\u0026") && NextParameter(text, end + 6, "=", "\\u003d"))
            {
                return (i, end);
            }

            if (percentEncoded && At(text, end, encodedAmpersand) && NextParameter(text, end + encodedAmpersand.Length, encodedEquals))
            {
                return (i, end);
            }
        }

        return (i, text.Length);
    }

    /// <summary>
    /// The end of a value outside a query: the next whitespace, or a quote (plain or JSON-escaped) that closes the
    /// JSON string around it (followed by the end, whitespace or ",", "}", "]").
    /// </summary>
    private static int EndOfPlainValue(string text, int i)
    {
        for (var end = i; end < text.Length; end++)
        {
            var c = text[end];
            if (char.IsWhiteSpace(c))
            {
                return end;
            }

            if (char.IsWhiteSpace(c) || ClosingQuote(text, end) > 0)
            {
                return end;
            }
        }

        return text.Length;
    }

    /// <summary>
    /// The length of a quote at <paramref name="i"/> (plain, or JSON-escaped) that closes the string or attribute
    /// around a value (followed by the end, whitespace, or one of <c>, } ] &gt; " \</c>), else 0.
    /// </summary>
    private static int ClosingQuote(string text, int i)
    {
        var quote = text[i] == '"' ? 1 : text[i] == '\\' && At(text, i + 1, "\"") ? 2 : 0;
        var next = i + quote;
        return quote > 0 && (next == text.Length || char.IsWhiteSpace(text[next]) || text[next] is ',' or '}' or ']' or '>' or '"' or '\\')
            ? quote
            : 0;
    }

    /// <summary>Past an authentication scheme and its spaces ("Bearer abc": the token is the secret too).</summary>
    private static int AfterScheme(string text, int i)
    {
        foreach (var scheme in (ReadOnlySpan<string>)["Bearer", "Basic", "SharedKey", "SharedAccessSignature"])
        {
            var end = i + scheme.Length;
            if (At(text, i, scheme) && end < text.Length && text[end] is ' ' or '\t')
            {
                while (end < text.Length && text[end] is ' ' or '\t')
                {
                    end++;
                }

                return end;
            }
        }

        return i;
    }

    /// <summary>
    /// The content of a quoted value starting at <paramref name="i"/> ("...", '...', or \"...\" inside a JSON string),
    /// to its closing quote with escapes honoured, or to the end of the text when it has none; null when not quoted.
    /// </summary>
    private static (int Start, int End)? Quoted(string text, int i)
    {
        if (i >= text.Length)
        {
            return null;
        }

        var (quote, escaped) = text[i] switch
        {
            '"' => ('"', false),
            '\'' => ('\'', false),
            '\\' when At(text, i + 1, "\"") => ('"', true),
            _ => ('\0', false),
        };
        if (quote == '\0')
        {
            return null;
        }

        var start = i + (escaped ? 2 : 1);
        var position = start;
        while (position < text.Length)
        {
            var unitStart = position;
            var c = Unit(text, ref position, escaped, out var endsOuter);
            if (endsOuter || c == quote)
            {
                return (start, unitStart);
            }

            if (c == '\\' && position < text.Length)
            {
                _ = Unit(text, ref position, escaped, out _); // the escaped character
            }
        }

        return (start, text.Length);
    }

    /// <summary>
    /// One character of a string, read through one level of JSON escaping when <paramref name="escaped"/> (a JSON
    /// string inside a JSON string): <paramref name="endsOuter"/> when it is the unescaped quote of the outer string.
    /// </summary>
    private static char Unit(string text, ref int position, bool escaped, out bool endsOuter)
    {
        var c = text[position++];
        endsOuter = escaped && c == '"';
        if (escaped && c == '\\' && position < text.Length)
        {
            c = text[position++];
        }

        return c;
    }

    /// <summary>
    /// Whether the name at <paramref name="nameStart"/> is a URL query parameter: it follows "?" or "&amp;", plain,
    /// JSON-escaped or percent-encoded (up to <see cref="MaxEncodingLevels"/> times: "%3F", "%253F", ...).
    /// </summary>
    private static bool InQuery(string text, int nameStart)
    {
        var before = text.AsSpan(0, nameStart);
        if (before.EndsWith("?") || before.EndsWith("&")
            || before.EndsWith("\\u0026", StringComparison.Ordinal) || before.EndsWith("\\u003F", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!(before.EndsWith("3F", StringComparison.OrdinalIgnoreCase) || before.EndsWith("26", StringComparison.Ordinal)))
        {
            return false;
        }

        before = before[..^2];
        for (var level = 1; level < MaxEncodingLevels && before.EndsWith("%25", StringComparison.Ordinal); level++)
        {
            before = before[..^2];
        }

        return before.EndsWith("%");
    }

    /// <summary>Whether a parameter name followed by one of <paramref name="separators"/> starts at <paramref name="i"/>.</summary>
    private static bool NextParameter(string text, int i, params ReadOnlySpan<string> separators)
    {
        if (i >= text.Length || !char.IsAsciiLetter(text[i]))
        {
            return false;
        }

        var end = i + 1;
        while (end < text.Length && end - i < 100 && (char.IsLetterOrDigit(text[end]) || text[end] is '_' or '.' or '-'))
        {
            end++;
        }

        foreach (var separator in separators)
        {
            if (At(text, end, separator))
            {
                return true;
            }
        }

        return false;
    }

    private static bool At(string text, int i, string value) =>
        i >= 0 && i <= text.Length && text.AsSpan(i).StartsWith(value, StringComparison.OrdinalIgnoreCase);

    /// <summary>The value as text with secrets replaced, or null when it holds none (numbers, dates, ordinary text).</summary>
    public static string? ScrubValue(object? value)
    {
        var text = value switch
        {
            // Numbers and times hold no URL; anything else (a Uri is IFormattable too) is read as text.
            null or bool or Enum or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal
                or DateTime or DateTimeOffset or TimeSpan or Guid => null,
            string s => s,
            Uri uri => uri.OriginalString,
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };
        if (text is null)
        {
            return null;
        }

        var scrubbed = Scrub(text);
        return ReferenceEquals(scrubbed, text) || scrubbed == text ? null : scrubbed;
    }

    // "password": "any text" and \"password\": \"any text\" (JSON inside a JSON string); the value is read by JsonValue.
    [GeneratedRegex(@"(?<open>\\?"")(?<name>[^""\\\r\n]{1,100})\k<open>\s*:\s*", RegexOptions.CultureInvariant)]
    private static partial Regex JsonMemberName();

    // A parameter's name and separator anywhere: ?code=, https://host/p?sig=, next=https%3A...%3Fsig%3D, ...\u0026sig\u003d,
    // sig: (a header). A scheme ("https://") is not a name; a name right after "?", "&" or their encodings is always
    // looked at. "?", "&", "=" may be percent-encoded up to three times (%3F, %253F, %25253F), and a name's letters,
    // digits, "_", "." and "-" too (&%73ig=, which the host reads as sig=; decoded by DecodedName), never a
    // separator. The value is read by ParameterValue.
    [GeneratedRegex(
        @"(?:(?<![\w.\-%\\])|(?<=%(?:25){0,2}(?:3[Ff]|26)|\\u00(?:26|3[Ff])))" +
        @"(?<name>(?:[A-Za-z]|%(?:25){0,2}(?:[46][1-9A-Fa-f]|[57][0-9Aa]))(?:[\w.\-]|%(?:25){0,2}(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[DdEe]|5[Ff])){0,99})" +
        @"(?<separator>\s*(?:=|%(?:25){0,2}3[Dd]|\\u003[Dd]|:(?!//))\s*)",
        RegexOptions.CultureInvariant)]
    private static partial Regex ParameterName();

    // A sensitive header as a pair: [x-functions-key, value], (Cookie, value), ["authorization","value"] (also with
    // JSON-escaped quotes), or x-functions-key, value. Whether it is a pair is decided by IsHeaderPair, the value is
    // read by HeaderPairValue.
    [GeneratedRegex(
        @"(?<![\w.\-])(?<open>[\[(]?)\s*(?<quote>\\?[""']?)(?<name>x-functions-key|x-ms-client-principal[\w\-]*|(?:proxy-)?authorization|(?:set-)?cookie)\k<quote>\s*,\s*",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex HeaderPairName();
}

/// <summary>
/// Stands in for an exception whose message or stack trace held a secret: the original type's name, and the
/// message and text with the secrets replaced (telemetry reads the message, the type and the text).
/// </summary>
internal sealed class RedactedException(Exception original)
    : Exception($"{original.GetType().FullName}: {SensitiveTelemetry.Scrub(original.Message)}")
{
    private readonly string _text = SensitiveTelemetry.Scrub(original.ToString());
    private readonly string? _stackTrace = original.StackTrace is { } trace ? SensitiveTelemetry.Scrub(trace) : null;

    public override string? StackTrace => _stackTrace;

    public override string ToString() => _text;

    /// <summary>The exception itself when its text holds no secret, else a redacted stand-in.</summary>
    public static Exception? For(Exception? exception)
    {
        if (exception is null or RedactedException)
        {
            return exception;
        }

        var text = exception.ToString();
        return SensitiveTelemetry.Scrub(text) == text ? exception : new RedactedException(exception);
    }
}

/// <summary>
/// Replaces secrets in spans before any exporter sees them: the value of a tag with a sensitive name, and secret
/// values inside any text tag (<c>url.full</c>, <c>url.query</c>, <c>http.target</c>, ...), the span's name, its
/// status description, and the tags of its events (an exception recorded on the span - by the Functions worker when
/// it escapes a function, or by <c>Activity.AddException</c> - is an event whose <c>exception.message</c> and
/// <c>exception.stacktrace</c> tags hold the message). Neither an event nor its tags can be edited, and
/// <c>Activity.Events</c> is read-only with no public way to remove one; so when an event holds a secret, the span's
/// event list is emptied (its private field) and every event is added again through <c>AddEvent</c>, scrubbed. Should
/// a runtime lack that field, the span is not exported at all (its Recorded flag is cleared) rather than leak.
/// </summary>
internal sealed class SensitiveTagRedactor : BaseProcessor<Activity>
{
    private static readonly System.Reflection.FieldInfo? EventsField =
        typeof(Activity).GetField("_events", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);

    public override void OnEnd(Activity data)
    {
        foreach (var (key, value) in Replacements(data.TagObjects))
        {
            data.SetTag(key, value);
        }

        ScrubEvents(data);
        data.DisplayName = SensitiveTelemetry.Scrub(data.DisplayName);
        if (data.StatusDescription is { } description)
        {
            data.SetStatus(data.Status, SensitiveTelemetry.Scrub(description));
        }
    }

    private static void ScrubEvents(Activity data)
    {
        List<ActivityEvent> events = [];
        var changed = false;
        foreach (var spanEvent in data.Events)
        {
            var name = SensitiveTelemetry.Scrub(spanEvent.Name);
            var replacements = Replacements(spanEvent.Tags);
            if (replacements.Count == 0 && ReferenceEquals(name, spanEvent.Name))
            {
                events.Add(spanEvent);
                continue;
            }

            changed = true;
            var tags = new ActivityTagsCollection(spanEvent.Tags);
            foreach (var (key, value) in replacements)
            {
                tags[key] = value;
            }

            events.Add(new ActivityEvent(name, spanEvent.Timestamp, tags));
        }

        if (!changed)
        {
            return;
        }

        if (EventsField is null || EventsField.FieldType.IsValueType)
        {
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            return;
        }

        EventsField.SetValue(data, null);
        foreach (var spanEvent in events)
        {
            data.AddEvent(spanEvent);
        }
    }

    /// <summary>The tags whose values must change, with their new values (collected first: the tags are rewritten after).</summary>
    private static List<(string Key, string Value)> Replacements(IEnumerable<KeyValuePair<string, object?>> tags)
    {
        List<(string Key, string Value)> replaced = [];
        foreach (var tag in tags)
        {
            if (tag.Value is null)
            {
                continue;
            }

            var replacement = SensitiveTelemetry.IsSensitive(tag.Key) ? SensitiveTelemetry.Redacted : SensitiveTelemetry.ScrubValue(tag.Value);
            if (replacement is not null && !Equals(replacement, tag.Value))
            {
                replaced.Add((tag.Key, replacement));
            }
        }

        return replaced;
    }
}

/// <summary>
/// Replaces secrets in log records before any exporter sees them: the value of an attribute with a sensitive name
/// (the formatted message was built from it, so it is dropped and the message template stands in for it), and
/// secret values inside text attributes (a query string, a URL), the formatted message, the template and the
/// exception. Log scopes cannot be rewritten here, so they are not exported at all (see Telemetry).
/// </summary>
internal sealed class SensitiveLogAttributeRedactor : BaseProcessor<LogRecord>
{
    public override void OnEnd(LogRecord data)
    {
        var dropMessage = false;
        List<string>? scrubbedOriginals = null;
        var attributes = data.Attributes;
        if (attributes is not null)
        {
            List<KeyValuePair<string, object?>>? redacted = null;
            for (var i = 0; i < attributes.Count; i++)
            {
                var attribute = attributes[i];
                if (attribute.Value is null)
                {
                    continue;
                }

                string? replacement;
                if (SensitiveTelemetry.IsSensitive(attribute.Key))
                {
                    replacement = SensitiveTelemetry.Redacted;
                    dropMessage = true;
                }
                else
                {
                    replacement = SensitiveTelemetry.ScrubValue(attribute.Value);
                    if (replacement is not null)
                    {
                        (scrubbedOriginals ??= []).Add(Convert.ToString(attribute.Value, CultureInfo.InvariantCulture)!);
                    }
                }

                if (replacement is not null)
                {
                    redacted ??= [.. attributes];
                    redacted[i] = new(attribute.Key, replacement);
                }
            }

            if (redacted is not null)
            {
                data.Attributes = redacted;
            }
        }

        if (data.FormattedMessage is { } message)
        {
            message = SensitiveTelemetry.Scrub(message);
            data.FormattedMessage = dropMessage || (scrubbedOriginals?.Exists(o => message.Contains(o, StringComparison.Ordinal)) ?? false)
                ? null
                : message;
        }

        if (data.Body is { } body)
        {
            data.Body = SensitiveTelemetry.Scrub(body);
        }

        data.Exception = RedactedException.For(data.Exception);
    }
}
