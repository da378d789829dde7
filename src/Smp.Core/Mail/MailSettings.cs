using Smp.Core.Plans;

namespace Smp.Core.Mail;


/// <summary>
/// Who mail comes from and where answers go: <c>Smp:SenderAddress</c>, <c>Smp:RenewalsDeskEmail</c>
/// (the Reply-To of customer mail, and the recipient of quote notifications), and
/// <c>Smp:PublicBaseUrl</c> for links.
/// </summary>
public sealed record MailSettings(EmailAddress Sender, EmailAddress RenewalsDesk, Uri PublicBaseUrl);
