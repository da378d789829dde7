using NodaTime;
using Smp.Core.Plans;
using static Smp.Core.Mail.Templates.MailFormat;

namespace Smp.Core.Mail.Templates;

/// <summary>A fresh password link for one license and one update (R13), sent on request; never the password itself.</summary>
/// <param name="Product">The product name, e.g. "VTube-LASER".</param>
/// <param name="CustomerName">The customer (company) the license belongs to.</param>
/// <param name="Serial">The license's serial.</param>
/// <param name="Version">The update's version, e.g. "1.96".</param>
/// <param name="ReleasedOn">The update's release date.</param>
/// <param name="PasswordUrl">The personal, signed link that shows the password.</param>
/// <param name="LinkExpiresOn">The last day the link shows the password.</param>
public sealed record PasswordLinkMailModel(
    string Product,
    string CustomerName,
    Serial Serial,
    string Version,
    LocalDate ReleasedOn,
    Uri PasswordUrl,
    LocalDate LinkExpiresOn);

public static class PasswordLinkMail
{
    /// <exception cref="ArgumentException">The model is incomplete, or the link is not an absolute https URL.</exception>
    public static MailContent Render(PasswordLinkMailModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var product = MailGuard.Text(model.Product, nameof(model.Product));
        var customer = MailGuard.Text(model.CustomerName, nameof(model.CustomerName));
        var version = MailGuard.Text(model.Version, nameof(model.Version));
        var serial = MailGuard.Serial(model.Serial, nameof(model.Serial));
        var link = MailLink.To(model.PasswordUrl, $"Show the {product} {version} password for {serial}");

        var doc = new MailLayout()
            .Heading($"Your {product} {version} password link")
            .Paragraph($"Hello,")
            .Paragraph(
                $"For license {Strong(serial)} of {customer}, we received a request for the password of {product} {version}, released on {model.ReleasedOn}. For your security the password is not in this email; open this personal link to see it:",
                link)
            .Paragraph($"The link works until {Strong(model.LinkExpiresOn)}. After that date it no longer shows the password; opening it then tells you how to ask for a new one. Please do not forward this link: it is personal to your license.")
            .Paragraph($"If you did not ask for this password, you can ignore this email: nothing has changed.")
            .SignOff(product)
            .ContactNote(1);

        return doc.Render(Plain($"{product} {version} password link for license {serial}"));
    }
}
