using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Smp.Functions.Hosting;

/// <summary>
/// Last line of defence before telemetry leaves the process: an attribute whose name says it holds a password,
/// a secret, a key or a token has its value replaced. The first line is the code itself, which never puts such a
/// value in a tag or a log message; this catches the slip.
/// </summary>
internal static class SensitiveTelemetry
{
    public const string Redacted = "[REDACTED]";

    // Compared with separators removed and case ignored: "smp.update_password" and "Password" both match.
    private static readonly string[] Markers =
    [
        "password", "passwd", "secret", "token", "authorization", "signature", "credential", "cookie",
        "apikey", "accesskey", "accountkey", "signingkey", "privatekey", "connectionstring",
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
}

/// <summary>Replaces the value of sensitive span tags before any exporter sees the span.</summary>
internal sealed class SensitiveTagRedactor : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        List<string>? sensitive = null;
        foreach (var tag in data.TagObjects)
        {
            if (tag.Value is not null && SensitiveTelemetry.IsSensitive(tag.Key))
            {
                (sensitive ??= []).Add(tag.Key);
            }
        }

        if (sensitive is null)
        {
            return;
        }

        foreach (var key in sensitive)
        {
            data.SetTag(key, SensitiveTelemetry.Redacted);
        }
    }
}

/// <summary>
/// Replaces the value of sensitive log attributes before any exporter sees the record. The formatted message
/// was built from those values, so it is dropped and the message template stands in for it.
/// </summary>
internal sealed class SensitiveLogAttributeRedactor : BaseProcessor<LogRecord>
{
    public override void OnEnd(LogRecord data)
    {
        var attributes = data.Attributes;
        if (attributes is null)
        {
            return;
        }

        List<KeyValuePair<string, object?>>? redacted = null;
        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            if (attribute.Value is not null && SensitiveTelemetry.IsSensitive(attribute.Key))
            {
                redacted ??= [.. attributes];
                redacted[i] = new(attribute.Key, SensitiveTelemetry.Redacted);
            }
        }

        if (redacted is null)
        {
            return;
        }

        data.Attributes = redacted;
        data.FormattedMessage = null;
    }
}
