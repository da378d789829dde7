using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Links;
using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Core.Updates;

/// <summary>What became of an announcement (R14).</summary>
public abstract record AnnouncementResult
{
    private AnnouncementResult()
    {
    }

    /// <summary>No update has this version.</summary>
    public sealed record NotFound : AnnouncementResult;

    /// <summary>The update's release date is still to come: its password goes to no one yet (R13).</summary>
    public sealed record NotReleased(LocalDate ReleasedOn) : AnnouncementResult;

    /// <summary>No password is stored for the update, so no link could show one.</summary>
    public sealed record NoPassword : AnnouncementResult;

    /// <summary>
    /// The announcement is done: <paramref name="Mails"/> new mails to <paramref name="Recipients"/> distinct addresses
    /// about <paramref name="Licenses"/> licenses were enqueued by this call (zero when every license had heard already).
    /// </summary>
    /// <param name="Failed">Licenses whose batch failed (data no mail can carry, storage that failed for good); announcing again retries them.</param>
    /// <param name="Failures">What failed, one entry per batch.</param>
    public sealed record Announced(UpdateRelease Release, int Mails, int Recipients, int Licenses, int Failed = 0, IReadOnlyList<AnnouncementFailure>? Failures = null) : AnnouncementResult;
}

/// <summary>One batch of an announcement that failed: its serials and why.</summary>
public sealed record AnnouncementFailure(IReadOnlyList<Serial> Serials, Exception Error);

/// <summary>
/// Announces a released update (R14) to the contacts of every license current today (entitled or not: the link of
/// one not entitled answers 403 with the way forward), one mail per customer and recipient set, with a personal password link per license.
/// Each license's announcement is claimed in the outbox in the same atomic write as its mail, so whatever runs
/// twice, overlaps or crashes, a license hears of a version at most once; the license records the announcement
/// afterwards, and a run that finds a claim already taken only repairs that record.
/// </summary>
public sealed class UpdateAnnouncer(
    IUpdateStore updates,
    ILicenseStore store,
    LicenseService licenses,
    IMailOutbox outbox,
    LinkService links,
    MailSettings mail,
    BusinessCalendar calendar,
    IStorageFailures? storageFailures = null)
{
    /// <summary>How often a batch is recomposed after losing claims to a concurrent announcement before it is left alone.</summary>
    private const int MaxRecompositions = 10;

    private const int MaxAttempts = 20;

    /// <summary>License records written at once; each is one license's own partition.</summary>
    private const int ParallelRecords = 4;

    private static readonly LocalDate LastIndexedDate = new(9999, 12, 31);

    public async Task<AnnouncementResult> AnnounceAsync(UpdateVersion version, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stored = await updates.GetAsync(version, cancellationToken);
        if (stored is null)
        {
            return new AnnouncementResult.NotFound();
        }

        var release = stored.Release;
        var today = calendar.Today;
        if (!release.IsReleasedOn(today))
        {
            return new AnnouncementResult.NotReleased(release.ReleasedOn);
        }

        if (!release.HasPassword)
        {
            return new AnnouncementResult.NoPassword();
        }

        // A license current today expires after today, so the expiry index from tomorrow on holds every one of them.
        var audience = new List<License>();
        int mails = 0, announced = 0, failed = 0;
        var failures = new List<AnnouncementFailure>();
        void Unreadable(LicenseReadFailure failure)
        {
            // One license that cannot be read never stops the others; it is not claimed, so announcing again retries it.
            failures.Add(new AnnouncementFailure(failure.Serial is { } serial ? [serial] : [], failure.Error));
            failed++;
        }

        await licenses.FinishPendingReplacementsAsync(cancellationToken); // SPEC section 10: each plan under its one current license.
        await foreach (var candidate in store.ListExpiringAsync(today.PlusDays(1), LastIndexedDate, Unreadable, cancellationToken))
        {
            var license = candidate.License;
            // R14: every current license's contacts hear of it; one not entitled under the policy finds the way forward
            // on its link's page (403 with how to renew), so its customer learns of the update all the same.
            if (license.StatusOn(today) == PlanStatus.Current)
            {
                audience.Add(license);
            }
        }

        var recipients = new HashSet<EmailAddress>();
        foreach (var batch in AnnouncementBatches.Group(audience, outbox.MaxClaimsPerMessage))
        {
            try
            {
                if (await SendAsync(batch, release, context, cancellationToken) is { } sent)
                {
                    mails++;
                    announced += sent.Licenses.Length;
                    recipients.UnionWith(sent.Recipients);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && (e is UnmailableDataException || storageFailures?.IsStorageFailure(e) == true))
            {
                // One batch's failure never stops the others; its licenses are not claimed, so announcing again retries them.
                failures.Add(new AnnouncementFailure([.. batch.Licenses.Select(l => l.Serial)], e));
                failed += batch.Licenses.Length;
            }
        }

        return new AnnouncementResult.Announced(await MarkAnnouncedAsync(version, cancellationToken), mails, recipients.Count, announced, failed, failures);
    }

    /// <summary>Enqueues the batch's mail; returns what was enqueued by this call, or null when nothing new was.</summary>
    private async Task<AnnouncementBatch?> SendAsync(AnnouncementBatch batch, UpdateRelease release, CommandContext context, CancellationToken cancellationToken)
    {
        var version = release.Version;
        for (var attempt = 0; attempt < MaxRecompositions && batch.Licenses.Length > 0; attempt++)
        {
            var mailId = batch.MailIdFor(version);
            var claims = batch.Licenses.ToDictionary(l => MailClaim.Announcement(l.Serial, version.Value));
            var message = await ComposeAsync(batch, release, mailId, cancellationToken);
            switch (await outbox.EnqueueAsync(message, MailKinds.Announcement, claims.Keys, calendar.Now, cancellationToken))
            {
                case EnqueueResult.Enqueued:
                    await RecordAsync(batch.Licenses.Select(l => (l.Serial, mailId)), version, context, cancellationToken);
                    return batch;
                case EnqueueResult.AlreadyEnqueued:
                    // The same mail was enqueued by an earlier or concurrent run: only make sure the licenses record it.
                    await RecordAsync(batch.Licenses.Select(l => (l.Serial, mailId)), version, context, cancellationToken);
                    return null;
                case EnqueueResult.ClaimsTaken taken:
                    await RecordAsync(taken.TakenBy.Select(t => (claims[t.Key].Serial, t.Value)), version, context, cancellationToken);
                    batch = batch with { Licenses = [.. batch.Licenses.Where(l => !taken.TakenBy.ContainsKey(MailClaim.Announcement(l.Serial, version.Value)))] };
                    break;
            }
        }

        return null;
    }

    private async Task<OutgoingMail> ComposeAsync(AnnouncementBatch batch, UpdateRelease release, string mailId, CancellationToken cancellationToken)
    {
        var items = new List<LicensePasswordLink>(batch.Licenses.Length);
        var linksExpireAt = Instant.MaxValue;
        foreach (var license in batch.Licenses)
        {
            var link = await links.CreatePasswordLinkAsync(license.Serial, release.Version, cancellationToken);
            items.Add(new LicensePasswordLink(license.Serial, license.ExpiresOn, link.Url, license.Product));
            linksExpireAt = Instant.Min(linksExpireAt, link.ExpiresAt);
        }

        var first = batch.Licenses[0];
        var content = UpdateAnnouncementMail.Render(new UpdateAnnouncementMailModel(
            batch.Product,
            first.Customer.Name,
            release.Version.Value,
            release.ReleasedOn,
            [.. items],
            PasswordLinks.LastDayOf(linksExpireAt, calendar)));
        return new OutgoingMail(mailId, mail.Sender, batch.Recipients, mail.RenewalsDesk, content.Subject, content.PlainText, content.Html);
    }

    private async Task RecordAsync(IEnumerable<(Serial Serial, string MailId)> records, UpdateVersion version, CommandContext context, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(
            records.ToList(),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelRecords, CancellationToken = cancellationToken },
            async (record, token) => await licenses.RecordAnnouncementAsync(record.Serial, version, record.MailId, context, token));

    private async Task<UpdateRelease> MarkAnnouncedAsync(UpdateVersion version, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var current = await updates.GetAsync(version, cancellationToken)
                ?? throw new InvalidOperationException($"Update {version} disappeared while it was announced.");
            if (current.Release.AnnouncedAt is not null)
            {
                return current.Release; // The first announcement's instant stands.
            }

            var announced = current.Release with { AnnouncedAt = calendar.Now };
            if (await updates.TryReplaceAsync(current, announced, cancellationToken))
            {
                return announced;
            }
        }

        throw new InvalidOperationException($"Update {version} kept changing while it was marked announced; retry the announcement.");
    }
}
