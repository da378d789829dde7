namespace Smp.Core.Mail.Templates;

/// <summary>Wording shared by the customer mails, kept in one place so that every mail closes the same way.</summary>
internal static class MailPhrases
{
    public static MailDocument SignOff(this MailDocument doc, string product) =>
        doc.Paragraph($"Kind regards,\nThe {product} Software Maintenance Plan team");

    public static MailDocument ContactNote(this MailDocument doc, int licenseCount) =>
        doc.Paragraph($"You receive this email because your address is a registered contact for {(licenseCount == 1 ? "this license" : "these licenses")}.");
}
