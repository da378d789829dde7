using System.Text.Json;
using NodaTime;
using NodaTime.Text;

namespace Smp.Functions.Http;

/// <summary>
/// Reads the fields of one JSON object, recording a message per bad field under its path. Fields the
/// contract does not know are refused, so a misspelt optional field cannot be silently ignored.
/// </summary>
public sealed class JsonFields
{
    private static readonly IPattern<OffsetDateTime>[] InstantPatterns =
    [
        OffsetDateTimePattern.ExtendedIso,
        OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mmo<G>"),
    ];

    /// <summary>
    /// The instants a request may carry. The calendar ends at -9998 and 9999, and a date rule applied near either
    /// end (the business zone's local date, the first of the next month, a year's term) would leave it.
    /// </summary>
    private static readonly Interval AllowedInstants = new(NodaTime.Instant.FromUtc(1, 1, 1, 0, 0), NodaTime.Instant.FromUtc(9999, 1, 1, 0, 0));

    private readonly JsonElement _object;
    private readonly ValidationErrors _errors;
    private readonly string _prefix;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public JsonFields(JsonElement obj, ValidationErrors errors, string prefix = "")
    {
        _object = obj;
        _errors = errors;
        _prefix = prefix;
    }

    public string Path(string name) => _prefix.Length == 0 ? name : $"{_prefix}.{name}";

    public void Error(string name, string message) => _errors.Add(Path(name), message);

    /// <summary>Records an error for every property not read through this instance. Call after reading all fields.</summary>
    public void RefuseUnknown()
    {
        foreach (var property in _object.EnumerateObject())
        {
            if (!_known.Contains(property.Name))
            {
                _errors.Add(Path(property.Name), "Unknown field.");
            }
        }
    }

    public JsonElement? Get(string name, bool required, JsonValueKind kind, string kindName)
    {
        _known.Add(name);
        if (!_object.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(name, "The field is required.");
            }

            return null;
        }

        if (value.ValueKind != kind && !(kind == JsonValueKind.True && value.ValueKind == JsonValueKind.False))
        {
            Error(name, $"Expected {kindName}.");
            return null;
        }

        return value;
    }

    public string? String(string name, bool required, int maxLength)
    {
        if (Get(name, required, JsonValueKind.String, "a string") is not { } value)
        {
            return null;
        }

        var text = value.GetString()!;
        if (text.Trim().Length == 0)
        {
            Error(name, "The field must not be empty.");
            return null;
        }

        if (text.Length > maxLength)
        {
            Error(name, $"At most {maxLength} characters.");
            return null;
        }

        if (text.Any(char.IsControl))
        {
            Error(name, "Control characters are not allowed.");
            return null;
        }

        // Text shown in mail must still show something once mail has cleaned it (invisible direction marks removed).
        if (!Smp.Core.Mail.MailableText.HasVisibleText(text))
        {
            Error(name, "The field must contain visible text.");
            return null;
        }

        return text.Trim();
    }

    public bool? Boolean(string name, bool required) =>
        Get(name, required, JsonValueKind.True, "true or false") is { } value ? value.GetBoolean() : null;

    public int? Integer(string name, bool required, int min, int max)
    {
        if (Get(name, required, JsonValueKind.Number, "a whole number") is not { } value)
        {
            return null;
        }

        if (!value.TryGetInt32(out var number) || number < min || number > max)
        {
            Error(name, $"Expected a whole number from {min} to {max}.");
            return null;
        }

        return number;
    }

    public Instant? Instant(string name, bool required)
    {
        if (Get(name, required, JsonValueKind.String, "an ISO-8601 date and time with offset") is not { } value)
        {
            return null;
        }

        var text = value.GetString()!;

        // NodaTime's parser takes a NUL as the end of the text, so "...Z\u0000" would parse: refuse controls first.
        if (!text.Any(char.IsControl))
        {
            foreach (var pattern in InstantPatterns)
            {
                var parsed = pattern.Parse(text);
                if (!parsed.Success)
                {
                    continue;
                }

                Instant? instant;
                try
                {
                    instant = parsed.Value.ToInstant();
                }
                catch (OverflowException)
                {
                    // A date at the calendar's edge with an offset that takes it past the range of instants.
                    instant = null;
                }

                if (instant is not { } inRange || !AllowedInstants.Contains(inRange))
                {
                    Error(name, "The date and time is out of range (years 1 to 9998).");
                    return null;
                }

                return inRange;
            }
        }

        Error(name, "Expected an ISO-8601 date and time with offset, such as 2026-03-14T09:30:00-06:00.");
        return null;
    }

    /// <summary>A calendar date field, <c>yyyy-MM-dd</c> and nothing else (section 3).</summary>
    public LocalDate? Date(string name, bool required)
    {
        if (Get(name, required, JsonValueKind.String, "a date (yyyy-MM-dd)") is not { } value)
        {
            return null;
        }

        if (TryParseDate(value.GetString()!, out var date))
        {
            return date;
        }

        Error(name, "Expected a date as yyyy-MM-dd.");
        return null;
    }

    /// <summary>
    /// Parses a <c>yyyy-MM-dd</c> date. Every date field of the API reads through here: NodaTime's parser takes a NUL
    /// as the end of the text, so "2026-05-01\0" would parse, and control characters are refused first.
    /// </summary>
    public static bool TryParseDate(string text, out LocalDate date)
    {
        ArgumentNullException.ThrowIfNull(text);
        date = default;
        if (text.Any(char.IsControl))
        {
            return false;
        }

        var parsed = LocalDatePattern.Iso.Parse(text);
        if (!parsed.Success)
        {
            return false;
        }

        date = parsed.Value;
        return true;
    }

    public JsonFields? Object(string name, bool required) =>
        Get(name, required, JsonValueKind.Object, "an object") is { } value ? new JsonFields(value, _errors, Path(name)) : null;

    public JsonElement? Array(string name, bool required) =>
        Get(name, required, JsonValueKind.Array, "an array");
}
