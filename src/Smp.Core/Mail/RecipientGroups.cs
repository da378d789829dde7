using System.Collections.Immutable;
using Smp.Core.Plans;

namespace Smp.Core.Mail;

/// <summary>
/// The grouping behind "one mail per customer" (R10, R14): items whose licenses share customer and recipient set
/// (addresses compared case-insensitively, order ignored) go into one mail, whatever their products (the mail names
/// the product of each serial);
/// groups larger than one outbox write can claim are split in serial order. The order is stable, so the same
/// items always give the same groups.
/// </summary>
public static class RecipientGroups
{
    public static ImmutableArray<RecipientGroup<T>> Group<T>(IEnumerable<T> items, Func<T, License> licenseOf, int maxPerMail)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(licenseOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerMail, 1);
        var groups = items.GroupBy(i =>
        {
            var license = licenseOf(i);
            return (license.Customer.Id, Recipients: RecipientKey(license.Contacts));
        });

        var result = ImmutableArray.CreateBuilder<RecipientGroup<T>>();
        foreach (var group in groups
            .OrderBy(g => g.Key.Id, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Recipients, StringComparer.Ordinal))
        {
            var members = group.OrderBy(i => licenseOf(i).Serial.Value, StringComparer.Ordinal).ToList();
            var recipients = licenseOf(members[0]).Contacts;
            foreach (var chunk in members.Chunk(maxPerMail))
            {
                result.Add(new RecipientGroup<T>(group.Key.Id, recipients, [.. chunk]));
            }
        }

        return result.ToImmutable();
    }

    private static string RecipientKey(ImmutableArray<EmailAddress> contacts) =>
        string.Join('\n', contacts.Select(c => c.Value.ToUpperInvariant()).Distinct().Order(StringComparer.Ordinal));
}

/// <summary>Items for one mail: one customer, one recipient set.</summary>
public sealed record RecipientGroup<T>(string CustomerId, ImmutableArray<EmailAddress> Recipients, ImmutableArray<T> Items);

/// <summary>How a mail about licenses of possibly several products names them (section 4: each mail names the product).</summary>
public static class MailProducts
{
    /// <summary>The distinct products, in ordinal order, joined for a subject or sentence: "A", "A and B", "A, B and C".</summary>
    public static string Name(IEnumerable<string> products)
    {
        ArgumentNullException.ThrowIfNull(products);
        var names = products.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return names.Count <= 1 ? names.SingleOrDefault() ?? string.Empty : string.Join(", ", names[..^1]) + " and " + names[^1];
    }
}
