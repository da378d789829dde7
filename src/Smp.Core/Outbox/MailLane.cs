namespace Smp.Core.Outbox;

/// <summary>
/// The two lanes of the outbox (SPEC section 5): reminders and announcements, and mail caused by anonymous customer
/// requests. The dispatcher lists each lane on its own, so a flood in one never hides what is due in the other.
/// </summary>
public enum MailLane
{
    /// <summary>Reminders, announcements and any kind not caused by a customer request.</summary>
    Reminders,

    /// <summary>Password links, terms and quote mail: caused by anonymous customer requests.</summary>
    CustomerRequests,
}

public static class MailLanes
{
    /// <summary>The lane a message of <paramref name="kind"/> travels in.</summary>
    public static MailLane Of(string kind) =>
        kind is MailKinds.PasswordLink or MailKinds.Term or MailKinds.QuoteAcknowledgement or MailKinds.QuoteNotification
            ? MailLane.CustomerRequests
            : MailLane.Reminders;
}
