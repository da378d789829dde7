using System.Collections.Immutable;
using NodaTime;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// The announcement of a released update (R14) to one customer's recipients: a personal password link per
/// license, never the password itself.
/// </summary>
/// <param name="Product">The product name, e.g. "VTube-LASER".</param>
/// <param name="CustomerName">The customer (company) the licenses belong to.</param>
/// <param name="Version">The update's version, e.g. "1.96".</param>
/// <param name="ReleasedOn">The update's release date.</param>
/// <param name="Licenses">Every license the mail is about, with its plan's expiry and its personal link.</param>
/// <param name="LinksExpireOn">The last day the links show the password.</param>
public sealed record UpdateAnnouncementMailModel(
    string Product,
    string CustomerName,
    string Version,
    LocalDate ReleasedOn,
    ImmutableArray<LicensePasswordLink> Licenses,
    LocalDate LinksExpireOn);

public static class UpdateAnnouncementMail
{
    /// <exception cref="ArgumentException">The model is incomplete, or a link is not an absolute https URL.</exception>
    public static MailContent Render(UpdateAnnouncementMailModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var product = MailGuard.Text(model.Product, nameof(model.Product));
        var customer = MailGuard.Text(model.CustomerName, nameof(model.CustomerName));
        var version = MailGuard.Text(model.Version, nameof(model.Version));
        var licenses = MailGuard.Licenses(model.Licenses, l => l.Serial, l => l.PlanExpiresOn, nameof(model.Licenses));
        var mixed = licenses.Select(l => l.Product).Where(p => p is not null).Distinct(StringComparer.Ordinal).Count() > 1;
        var items = licenses
            .Select(l => mixed
                ? MailLayout.Item(
                    $"{Strong(l.Serial)} ({MailGuard.Text(l.Product, nameof(model.Licenses))}, plan expires on {l.PlanExpiresOn}):",
                    MailLink.To(l.PasswordUrl, $"Show the {MailGuard.Text(l.Product, nameof(model.Licenses))} {version} password for {l.Serial}"))
                : MailLayout.Item(
                    $"{Strong(l.Serial)} (plan expires on {l.PlanExpiresOn}):",
                    MailLink.To(l.PasswordUrl, $"Show the {product} {version} password for {l.Serial}")))
            .ToList();

        var single = licenses.Length == 1;
        var subject = single
            ? Plain($"{product} {version} is available for license {licenses[0].Serial}")
            : Plain($"{product} {version} is available for your {licenses.Length} licenses");

        var doc = new MailLayout()
            .Heading($"{product} {version} is available")
            .Paragraph($"Hello,");

        if (single)
        {
            doc.Paragraph($"{product} {version} was released on {Strong(model.ReleasedOn)}. The Software Maintenance Plan (SMP) of {customer} includes this update for the license below.")
                .Paragraph($"Each update is unlocked by its own password. For your security the password is not in this email: open the personal link of your license to see it.")
                .List(items)
                .Paragraph($"The link works until {Strong(model.LinksExpireOn)}. After that date it no longer shows the password; opening it then tells you how to ask for a new one. Please do not forward this link: it is personal to your license.");
        }
        else
        {
            doc.Paragraph($"{product} {version} was released on {Strong(model.ReleasedOn)}. The Software Maintenance Plans (SMPs) of {customer} include this update for the {licenses.Length} licenses below.")
                .Paragraph($"Each update is unlocked by its own password. For your security the password is not in this email: open the personal link of each license to see it.")
                .List(items)
                .Paragraph($"The links work until {Strong(model.LinksExpireOn)}. After that date they no longer show the password; opening one then tells you how to ask for a new one. Please do not forward these links: they are personal to your licenses.");
        }

        doc.SignOff(product)
            .ContactNote(licenses.Length);

        return doc.Render(subject);
    }
}
