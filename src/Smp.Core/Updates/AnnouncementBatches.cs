using System.Collections.Immutable;
using Smp.Core.Mail;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Core.Updates;

/// <summary>
/// One announcement email (R14, grouped as R10): licenses of one customer sharing the same recipients, whatever
/// their products; <see cref="Product"/> names them all (see <see cref="MailProducts"/>).
/// Its id is derived from the version and the serials, so announcing again composes the same mail with the same id.
/// </summary>
public sealed record AnnouncementBatch(string CustomerId, ImmutableArray<EmailAddress> Recipients, ImmutableArray<License> Licenses)
{
    public string Product => MailProducts.Name(Licenses.Select(l => l.Product));


    public string MailIdFor(UpdateVersion version) =>
        DeterministicId.From(["announcement", version.Value, .. Licenses.Select(l => l.Serial.Value).Order(StringComparer.Ordinal)]);
}

public static class AnnouncementBatches
{
    /// <summary>
    /// Groups licenses by customer and recipient set (whatever their products) (addresses compared
    /// case-insensitively, order ignored), in a stable order. Groups larger than <paramref name="maxPerMail"/> are
    /// split in serial order, so one mail never lists more licenses than one outbox write can claim.
    /// </summary>
    public static ImmutableArray<AnnouncementBatch> Group(IEnumerable<License> licenses, int maxPerMail)
    {
        ArgumentNullException.ThrowIfNull(licenses);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerMail, 1);
        return [.. RecipientGroups.Group(licenses.DistinctBy(l => l.Serial), l => l, maxPerMail)
            .Select(g => new AnnouncementBatch(g.CustomerId, g.Recipients, g.Items))];
    }
}
