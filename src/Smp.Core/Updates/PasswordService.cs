using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Links;
using Smp.Core.Mail;
using Smp.Core.Mail.Templates;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Requests;
using Smp.Core.Secrets;

namespace Smp.Core.Updates;

/// <summary>The answer to a customer's password link (R13, SPEC section 5). Only <see cref="Released"/> carries the password.</summary>
public abstract record PasswordRelease
{
    private PasswordRelease()
    {
    }

    /// <summary>The link was not made by us for these fields. Says nothing about the serial or the version.</summary>
    public sealed record BadSignature : PasswordRelease;

    /// <summary>A genuine link whose validity ended.</summary>
    public sealed record Expired(Serial Serial, UpdateVersion Version, Instant ExpiredAt) : PasswordRelease;

    /// <summary>A genuine link for a version that is unknown, not released yet, or has no stored password, or for a serial no license has.</summary>
    public sealed record NotFound(string Detail) : PasswordRelease;

    /// <summary>A genuine link opened more often today than <see cref="AnonymousLimits.PasswordRevealsPerLinkPerDay"/> allows.</summary>
    public sealed record TooManyReveals(LocalDate Day) : PasswordRelease;

    /// <summary>A genuine link for a license the policy does not entitle to the update today.</summary>
    public sealed record NotEntitled(Serial Serial, UpdateVersion Version, PlanStatus Status, LocalDate ExpiresOn) : PasswordRelease;

    /// <summary>The password may be shown; the release is recorded on the license.</summary>
    public sealed record Released(Serial Serial, UpdateVersion Version, string Product, string Password) : PasswordRelease
    {
        /// <summary>Leaves the password out, so that printing or logging a result never shows it.</summary>
        public override string ToString() => $"Released {{ Serial = {Serial}, Version = {Version}, Product = {Product}, Password = [redacted] }}";
    }
}

/// <summary>What became of a customer's request for a fresh password link. The caller answers the same whatever it is.</summary>
public enum PasswordLinkRequestOutcome
{
    /// <summary>A link mail was enqueued for the license's contacts (or had been, by this same request retried).</summary>
    Sent,

    /// <summary>No license has the serial.</summary>
    UnknownSerial,

    /// <summary>The version is unknown, not released yet, or has no stored password.</summary>
    UnknownUpdate,

    /// <summary>The license is not entitled to the update today.</summary>
    NotEntitled,

    /// <summary>The stored license holds data no mail can carry (written before validation refused it): nothing was sent.</summary>
    Unmailable,

    /// <summary>The serial's daily allowance of link mails, or the route's daily cap (all callers together), is used up: nothing was sent.</summary>
    OverDailyCap,
}

/// <summary>
/// The customer side of update passwords: showing the password behind a signed link, and mailing a fresh link on
/// request to the license's registered contacts (R13, SPEC section 5).
/// </summary>
public sealed class PasswordService(
    IUpdateStore updates,
    LicenseService licenses,
    ISecretStore secrets,
    LinkService links,
    IMailOutbox outbox,
    IRequestRateLimiter limiter,
    MailSettings mail,
    BusinessCalendar calendar,
    UpdateOptions options,
    AnonymousLimits limits)
{

    /// <summary>
    /// Checks the link (signature first, in constant time, then expiry), then the update, the license and its
    /// entitlement, then reads the password and records its release on the license before returning it.
    /// </summary>
    public async Task<PasswordRelease> RevealAsync(Serial serial, UpdateVersion version, Instant expires, string? signature, string clientAddressHash, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientAddressHash);
        ArgumentNullException.ThrowIfNull(context);
        switch (await links.VerifyPasswordLinkAsync(serial, version, expires, signature, cancellationToken))
        {
            case LinkCheck.BadSignature:
                return new PasswordRelease.BadSignature();
            case LinkCheck.Expired expired:
                return new PasswordRelease.Expired(expired.Serial, expired.Version, expired.ExpiredAt);
        }

        var today = calendar.Today;
        var link = string.Join('|', serial.Value, version.Value, expires.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var release = (await updates.GetAsync(version, cancellationToken))?.Release;
        if (release is null || !release.IsReleasedOn(today) || !release.HasPassword)
        {
            return NoPassword(version);
        }

        // SPEC section 10: a replacement found pending is finished first; its old serial is then replaced.
        var stored = await licenses.GetAsync(serial, cancellationToken);
        if (stored is null)
        {
            return new PasswordRelease.NotFound("No license has this serial.");
        }

        var license = stored.License;
        if (!Entitlement.IsEntitled(license, release, today, options.Entitlement))
        {
            return new PasswordRelease.NotEntitled(serial, version, license.StatusOn(today), license.ExpiresOn);
        }

        // Only a link that would show the password counts: refusals write nothing.
        if (await limiter.TryAcquireAsync("password-reveal|" + link, today, limits.PasswordRevealsPerLinkPerDay, null, cancellationToken) == LimitDecision.Refused)
        {
            return new PasswordRelease.TooManyReveals(today);
        }

        var password = await secrets.GetAsync(SecretName.ForUpdate(version), cancellationToken);
        if (password is null)
        {
            return NoPassword(version);
        }

        // Audit first: a password whose release could not be recorded is not shown. One event per client address,
        // link and day, and at most ReleaseEventsPerLinkPerDay of them: openings from ever new addresses (which the
        // reveal limit bounds anyway) cannot grow the license's audit trail without bound.
        if (await limiter.TryAcquireAsync("password-release|" + link, today, limits.ReleaseEventsPerLinkPerDay, clientAddressHash, cancellationToken) != LimitDecision.Refused)
        {
            var recorded = await licenses.RecordPasswordReleasedAsync(serial, version, clientAddressHash, context, cancellationToken);
            switch (recorded.Outcome)
            {
                case CommandOutcome.NotFound:
                    return new PasswordRelease.NotFound("No license has this serial.");
                case CommandOutcome.Conflict:
                    // The license refused the record (a replacement began since it was read): no record, no password.
                    var refused = recorded.License?.License ?? license;
                    return new PasswordRelease.NotEntitled(serial, version, refused.Replacement is null ? refused.StatusOn(today) : PlanStatus.Replaced, refused.ExpiresOn);
                case not (CommandOutcome.Updated or CommandOutcome.Unchanged):
                    throw new InvalidOperationException($"The release of update {version} on license {serial} could not be recorded ({recorded.Outcome}); the password is not shown.");
            }
        }

        return new PasswordRelease.Released(serial, version, license.Product, password);
    }

    /// <summary>
    /// The background work of a customer's request for a fresh link (<c>POST /api/password-requests</c>, recorded by
    /// <see cref="CustomerRequests.AcceptAsync"/>). Only for a license entitled to a released update with a password is
    /// a link mailed, to the license's registered contacts only. The mail id comes from what the request asks (serial,
    /// version, day), so a repeat, or a run again after a crash, sends no second copy. <paramref name="withinLimits"/>
    /// (the serial's daily allowance, then the route's daily cap) is asked last, just before the mail: only a request
    /// that would mail takes them, so made-up or unreleased versions never use up a real customer's allowance.
    /// </summary>
    public async Task<PasswordLinkRequestOutcome> SendLinkAsync(CustomerRequest request, Func<CancellationToken, Task<bool>> withinLimits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(withinLimits);
        var serial = request.Serial;
        var version = UpdateVersion.Parse(request.Version ?? string.Empty);
        // Entitlement and release are judged on the day the link is mailed, not the day it was asked for (a request
        // may wait days): a plan that lapsed meanwhile gets no link. The request's day serves only its ids and limits.
        var today = calendar.Today;
        var stored = await licenses.GetAsync(serial, cancellationToken);
        if (stored is null)
        {
            return PasswordLinkRequestOutcome.UnknownSerial;
        }

        var release = (await updates.GetAsync(version, cancellationToken))?.Release;
        if (release is null || !release.IsReleasedOn(today) || !release.HasPassword)
        {
            return PasswordLinkRequestOutcome.UnknownUpdate;
        }

        var license = stored.License;
        if (!Entitlement.IsEntitled(license, release, today, options.Entitlement))
        {
            return PasswordLinkRequestOutcome.NotEntitled;
        }

        var mailId = DeterministicId.From("password-link", serial.Value, version.Value, request.MailKey);
        var link = await links.CreatePasswordLinkAsync(serial, version, cancellationToken);
        MailContent content;
        try
        {
            content = PasswordLinkMail.Render(new PasswordLinkMailModel(
                license.Product,
                license.Customer.Name,
                serial,
                version.Value,
                release.ReleasedOn,
                link.Url,
                PasswordLinks.LastDayOf(link.ExpiresAt, calendar)));
        }
        catch (UnmailableDataException)
        {
            return PasswordLinkRequestOutcome.Unmailable;
        }
        var message = new OutgoingMail(mailId, mail.Sender, license.Contacts, mail.RenewalsDesk, content.Subject, content.PlainText, content.Html);
        if (!await withinLimits(cancellationToken))
        {
            return PasswordLinkRequestOutcome.OverDailyCap;
        }

        // No claim: the id alone recognises a repeat (AlreadyEnqueued), and the license then records the mail it holds.
        await outbox.EnqueueAsync(message, MailKinds.PasswordLink, [], calendar.Now, cancellationToken);
        await licenses.RecordPasswordLinkRequestedAsync(serial, version, mailId, request.Context, cancellationToken);
        return PasswordLinkRequestOutcome.Sent;
    }

    private static PasswordRelease.NotFound NoPassword(UpdateVersion version) =>
        new($"Update {version} is not available: it is unknown, not released yet, or its password is not stored.");
}
