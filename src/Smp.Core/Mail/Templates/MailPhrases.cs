namespace Smp.Core.Mail.Templates;

/// <summary>Wording shared by the customer mails, kept in one place so that every mail closes the same way.</summary>
internal static class MailPhrases
{
    public static MailLayout SignOff(this MailLayout doc, string product) =>
        doc.Paragraph($"Kind regards,\nThe {product} Software Maintenance Plan team");

    public static MailLayout ContactNote(this MailLayout doc, int licenseCount) =>
        doc.Paragraph($"You receive this email because your address is a registered contact for {(licenseCount == 1 ? "this license" : "these licenses")}.");
}
