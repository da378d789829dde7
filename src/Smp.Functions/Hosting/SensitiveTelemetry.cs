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
/// (<c>code=</c>, <c>x-functions-key:</c>) and of any parameter, header or JSON member with a sensitive name is
/// replaced, while the names and the other parameters (<c>serial</c>, <c>expires</c>, ...) stay readable. The
/// first line is the code itself, which never puts such a value in a tag or a log message; this catches the slip
/// and what frameworks log on their own (request lines with their query strings).
/// </summary>
internal static partial class SensitiveTelemetry
{
    public const string Redacted = "[REDACTED]";

    // Compared with separators removed and case ignored: "smp.update_password" and "Password" both match.
    private static readonly string[] Markers =
    [
        "password", "passwd", "secret", "token", "authorization", "signature", "credential", "cookie",
        "apikey", "accesskey", "accountkey", "signingkey", "privatekey", "connectionstring",
        "functionskey", "functionkey", "masterkey",
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
    /// </summary>
    public static string Scrub(string text)
    {
        if (string.IsNullOrEmpty(text) || (text.AsSpan().IndexOfAny(':', '=') < 0 && !text.Contains("%3D", StringComparison.OrdinalIgnoreCase) && !text.Contains("\\u003d", StringComparison.OrdinalIgnoreCase)))
        {
            return text;
        }

        var scrubbed = JsonMember().Replace(text, m => IsSensitive(m.Groups["name"].Value) ? Keep(m, m.Groups["value"]) : m.Value);

        // First every parameter wherever it sits (after "?", "&", their percent-encoded or JSON-escaped forms, or as
        // "name: value"), its value ending where the next parameter begins; then the looser name-and-value pass,
        // whose value runs to the next space (a password may hold "?" or "&").
        scrubbed = Parameter().Replace(scrubbed, RedactSecret);
        return NameAndValue().Replace(scrubbed, RedactSecret);
    }

    private static string RedactSecret(Match m)
    {
        var name = m.Groups["name"].Value;
        var secret = IsSensitive(name)
            || name.Equals("sig", StringComparison.OrdinalIgnoreCase)
            || name.Equals("code", StringComparison.OrdinalIgnoreCase);
        return secret && m.Groups["value"].Value != Redacted ? Keep(m, m.Groups["value"]) : m.Value;
    }

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

    private static string Keep(Match match, Group value) =>
        string.Concat(match.ValueSpan[..(value.Index - match.Index)], Redacted, match.ValueSpan[(value.Index - match.Index + value.Length)..]);

    // "password": "any text, \"escaped\" quotes too"
    [GeneratedRegex(@"""(?<name>[^""\\\r\n]{1,100})""\s*:\s*""(?<value>(?:[^""\\]|\\.)*)""", RegexOptions.CultureInvariant)]
    private static partial Regex JsonMember();

    // A query or form parameter anywhere: ?code=abc, https://host/p?sig=abc&serial=1, next=https%3A...%3Fsig%3Dabc%26...,
    // ...\u0026sig\u003dabc, sig: abc. A scheme ("https://") is not a name; the value stops at the next parameter in any
    // of its encodings, so the name after "?" in an absolute URL is always looked at.
    [GeneratedRegex(
        @"(?:(?<![\w.\-%\\])|(?<=%3[Ff]|%26|\\u00(?:26|3[Ff])))(?<name>[A-Za-z][\w.\-]{0,99})" +
        @"(?<separator>\s*(?:=|%3[Dd]|\\u003[Dd]|:(?!//))\s*)" +
        @"(?<value>(?:(?:Bearer|Basic|SharedKey|SharedAccessSignature)\s+)?(?:%(?!26|3[DdFf])[0-9A-Fa-f]{2}|\\(?!u00[0-9A-Fa-f]{2}|"")|[^\s&;,?#""'<>()\[\]{}%\\])+)",
        RegexOptions.CultureInvariant)]
    private static partial Regex Parameter();

    // sig=abc (a query string or form), x-functions-key: abc (a header), Authorization: Bearer abc
    [GeneratedRegex(@"(?<![\w.\-])(?<name>[A-Za-z][\w.\-]{0,99})(?<separator>\s*(?:=|:(?!//))\s*)(?<value>(?:(?:Bearer|Basic|SharedKey|SharedAccessSignature)\s+)?[^\s&;,""'<>()\[\]{}]+)", RegexOptions.CultureInvariant)]
    private static partial Regex NameAndValue();
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
/// values inside any text tag (<c>url.full</c>, <c>url.query</c>, <c>http.target</c>, ...), the span's name and
/// its status description.
/// </summary>
internal sealed class SensitiveTagRedactor : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        List<(string Key, string Value)>? replaced = null;
        foreach (var tag in data.TagObjects)
        {
            if (tag.Value is null)
            {
                continue;
            }

            var replacement = SensitiveTelemetry.IsSensitive(tag.Key) ? SensitiveTelemetry.Redacted : SensitiveTelemetry.ScrubValue(tag.Value);
            if (replacement is not null && !Equals(replacement, tag.Value))
            {
                (replaced ??= []).Add((tag.Key, replacement));
            }
        }

        foreach (var (key, value) in replaced ?? [])
        {
            data.SetTag(key, value);
        }

        data.DisplayName = SensitiveTelemetry.Scrub(data.DisplayName);
        if (data.StatusDescription is { } description)
        {
            data.SetStatus(data.Status, SensitiveTelemetry.Scrub(description));
        }
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
