using System.Collections.Immutable;
using Smp.Core.Plans;

namespace Smp.Core.Mail.Templates;

/// <summary>Checks a renderer makes on its model before writing anything: a mail with a hole in it is never sent.</summary>
internal static class MailGuard
{
    /// <summary>The cleaned value; refused when nothing printable is left.</summary>
    public static string Text(string? value, string paramName)
    {
        var clean = MailFormat.Clean(value);
        return clean.Length > 0 ? clean : throw new UnmailableDataException("A value is required.", paramName);
    }

    public static Serial Serial(Serial serial, string paramName) =>
        serial.Value is { Length: > 0 } ? serial : throw new UnmailableDataException("A serial is required.", paramName);

    public static EmailAddress Address(EmailAddress address, string paramName) =>
        address.Value is { Length: > 0 } ? address : throw new UnmailableDataException("An email address is required.", paramName);

    /// <summary>At least one item, each with a serial, no serial twice; ordered by date, then serial, so that output is stable.</summary>
    public static ImmutableArray<T> Licenses<T>(ImmutableArray<T> items, Func<T, Serial> serialOf, Func<T, NodaTime.LocalDate> dateOf, string paramName)
        where T : class
    {
        if (items.IsDefaultOrEmpty)
        {
            throw new UnmailableDataException("At least one license is required.", paramName);
        }

        var seen = new HashSet<Serial>();
        foreach (var item in items)
        {
            if (item is null)
            {
                throw new UnmailableDataException("A license entry is missing.", paramName);
            }

            if (!seen.Add(Serial(serialOf(item), paramName)))
            {
                throw new UnmailableDataException($"Serial {serialOf(item)} is listed twice.", paramName);
            }
        }

        return [.. items.OrderBy(dateOf).ThenBy(i => serialOf(i).Value, StringComparer.Ordinal)];
    }
}
