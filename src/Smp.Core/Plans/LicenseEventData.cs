namespace Smp.Core.Plans;

/// <summary>
/// The names of the entries of <see cref="LicenseEvent.Data"/>, one constant per name, used by every write and every
/// read of event data: the idempotency of R13, R14 and R15 compares stored entries by these names, so a read and a
/// write cannot disagree on a spelling. The values are the names stored in every recorded event and shown by
/// <c>GET /api/licenses/{serial}</c>; they never change, or events already stored would no longer be read.
/// </summary>
public static class LicenseEventData
{
    /// <summary><see cref="LicenseEventTypes.Activated"/>: the licensed product.</summary>
    public const string Product = "product";

    /// <summary><see cref="LicenseEventTypes.Activated"/>: the customer's id.</summary>
    public const string CustomerId = "customerId";

    /// <summary><see cref="LicenseEventTypes.Activated"/>: "true" or "false".</summary>
    public const string OnSiteTraining = "onSiteTraining";

    /// <summary><see cref="LicenseEventTypes.Activated"/>: when the activation email was sent (ISO instant).</summary>
    public const string ActivationEmailSentAt = "activationEmailSentAt";

    /// <summary><see cref="LicenseEventTypes.Activated"/>, <see cref="LicenseEventTypes.Renewed"/>: the first day of the term.</summary>
    public const string Start = "start";

    /// <summary>The expiry date after the change; on reminders, the expiry date the reminder is about.</summary>
    public const string ExpiresOn = "expiresOn";

    /// <summary><see cref="LicenseEventTypes.TrainingRecorded"/>, <see cref="LicenseEventTypes.Renewed"/>: the expiry date before the change.</summary>
    public const string PreviousExpiresOn = "previousExpiresOn";

    /// <summary><see cref="LicenseEventTypes.Renewed"/>: the order reference, trimmed.</summary>
    public const string OrderReference = "orderReference";

    /// <summary><see cref="LicenseEventTypes.Renewed"/>: the months bought.</summary>
    public const string Months = "months";

    /// <summary><see cref="LicenseEventTypes.Renewed"/>: the first day the renewal covers.</summary>
    public const string CoveredFrom = "coveredFrom";

    /// <summary><see cref="LicenseEventTypes.Renewed"/>: when the renewal was paid (ISO instant), when known.</summary>
    public const string PaidAt = "paidAt";

    /// <summary><see cref="LicenseEventTypes.ContactsChanged"/>: the contacts after the change.</summary>
    public const string Contacts = "contacts";

    /// <summary><see cref="LicenseEventTypes.ContactsChanged"/>: the contacts before the change.</summary>
    public const string PreviousContacts = "previousContacts";

    /// <summary><see cref="LicenseEventTypes.ReminderSent"/>, <see cref="LicenseEventTypes.ReminderMissed"/>: the reminder stage.</summary>
    public const string Stage = "stage";

    /// <summary><see cref="LicenseEventTypes.ReminderSent"/>, <see cref="LicenseEventTypes.ReminderMissed"/>: the day the reminder was due.</summary>
    public const string DueOn = "dueOn";

    /// <summary>
    /// The id of the mail the event put into the outbox (reminder, announcement, password link, plan term); R13 records
    /// a password link once per mail id.
    /// </summary>
    public const string MailId = "mailId";

    /// <summary>The update version; R14 announces a version once per license, R13 releases its password once per client and day.</summary>
    public const string Version = "version";

    /// <summary><see cref="LicenseEventTypes.PasswordReleased"/>: the hash of the client address (never the address itself).</summary>
    public const string ClientAddressHash = "clientAddressHash";

    /// <summary><see cref="LicenseEventTypes.PasswordReleased"/>: the business day of the release.</summary>
    public const string ReleasedOn = "releasedOn";

    /// <summary><see cref="LicenseEventTypes.QuoteRequested"/>: the serial the quotation was requested from.</summary>
    public const string RequestedFor = "requestedFor";

    /// <summary><see cref="LicenseEventTypes.QuoteRequested"/>: "license" or "customer".</summary>
    public const string Scope = "scope";

    /// <summary><see cref="LicenseEventTypes.QuoteRequested"/>: the renewals desk's mail; a customer-wide quote is recorded once per license by it.</summary>
    public const string NotificationMailId = "notificationMailId";

    /// <summary><see cref="LicenseEventTypes.QuoteRequested"/>: the acknowledgement mailed to the customer.</summary>
    public const string AcknowledgementMailId = "acknowledgementMailId";

    /// <summary><see cref="LicenseEventTypes.ReplacementStarted"/>, <see cref="LicenseEventTypes.ReplacedBy"/>, and <see cref="LicenseEventTypes.Imported"/> of a row exported as replaced: the new serial.</summary>
    public const string NewSerial = "newSerial";

    /// <summary><see cref="LicenseEventTypes.ReplacementOf"/>: the serial of the replaced dongle.</summary>
    public const string OldSerial = "serial";

    /// <summary>Replacement events: why the dongle was replaced, when given; <see cref="LicenseEventTypes.ReminderWithdrawn"/>: why the reminder was withdrawn from its mail before delivery.</summary>
    public const string Reason = "reason";

    /// <summary><see cref="LicenseEventTypes.Imported"/>: the row's number in its file (the header is row 1).</summary>
    public const string Row = "row";

    /// <summary><see cref="LicenseEventTypes.Imported"/>: the SHA-256 of the imported file, lower-case hex.</summary>
    public const string FileSha256 = "fileSha256";

    /// <summary><see cref="LicenseEventTypes.Imported"/>: the row's note, when it had one.</summary>
    public const string Note = "note";

    /// <summary><see cref="LicenseEventTypes.Imported"/>: the row's activation email date, when it had one.</summary>
    public const string ActivationEmailSentOn = "activationEmailSentOn";

    /// <summary><see cref="LicenseEventTypes.Imported"/>: the id of the import that brought the license in.</summary>
    public const string ImportId = "importId";
}
