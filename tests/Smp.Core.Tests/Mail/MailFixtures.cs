using System.Collections.Immutable;
using NodaTime;
using Smp.Core.Mail.Templates;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Mail;

/// <summary>Fixed models for every mail kind; the snapshots pin what they render to.</summary>
internal static class MailFixtures
{
    public const string Product = "VTube-LASER";
    public const string CustomerName = "Acme Tubing Inc.";

    public static readonly EmailAddress Desk = EmailAddress.Parse("renewals@example.com");
    public static readonly Uri QuoteUrl = new("https://smp.example.com/renewal-quote?customer=C-0042&sig=q1");
    public static readonly LocalDate April1 = new(2027, 4, 1);
    public static readonly LocalDate March1 = new(2027, 3, 1);

    public static Serial S(string serial) => Serial.Parse(serial);

    public static Uri PasswordUrl(string serial) =>
        new($"https://smp.example.com/api/updates/1.96/password?serial={serial}&expires=2027-01-29&sig=s-{serial}");

    public static ReminderMailModel Reminder(ReminderWording wording, params (string Serial, LocalDate ExpiresOn)[] licenses) =>
        new(Product, CustomerName, wording, [.. licenses.Select(l => new PlanExpiry(S(l.Serial), l.ExpiresOn))], QuoteUrl, Desk);

    public static ReminderMailModel ReminderThreeSameDate(ReminderWording wording) =>
        Reminder(wording, ("VT-1003", April1), ("VT-1001", April1), ("VT-1002", April1));

    public static UpdateAnnouncementMailModel Announcement(params (string Serial, LocalDate ExpiresOn)[] licenses) =>
        new(Product, CustomerName, "1.96", new LocalDate(2027, 1, 15),
            [.. licenses.Select(l => new LicensePasswordLink(S(l.Serial), l.ExpiresOn, PasswordUrl(l.Serial)))],
            new LocalDate(2027, 1, 29));

    public static PasswordLinkMailModel PasswordLink() =>
        new(Product, CustomerName, S("VT-1001"), "1.96", new LocalDate(2027, 1, 15), PasswordUrl("VT-1001"), new LocalDate(2027, 1, 29));

    /// <summary>Trained at activation (one year), then renewed for a year before it expired.</summary>
    public static PlanTermMailModel TermCurrent()
    {
        var initial = new Term(TermKind.Initial, new LocalDate(2025, 4, 1), new LocalDate(2026, 4, 1), 12, null, TermSource.Activation, null, new LocalDate(2025, 3, 14));
        var renewal = PlanRules.RenewalTerm(initial.End, new LocalDate(2026, 2, 10), 12, "PO-4711");
        return new(Product, CustomerName, S("VT-1001"), new LocalDate(2027, 1, 10), PlanStatus.Current, initial.Start, renewal.End,
            [initial, renewal], QuoteUrl, Desk);
    }

    /// <summary>A 30-day initial term that lapsed.</summary>
    public static PlanTermMailModel TermLapsed()
    {
        var initial = new Term(TermKind.Initial, new LocalDate(2026, 2, 1), new LocalDate(2026, 3, 3), null, 30, TermSource.Activation, null, new LocalDate(2026, 1, 20));
        return new(Product, CustomerName, S("VT-2001"), new LocalDate(2027, 1, 10), PlanStatus.Lapsed, initial.Start, initial.End,
            [initial], QuoteUrl, Desk);
    }

    public static QuoteAcknowledgementMailModel QuoteAcknowledgement(params (string Serial, LocalDate ExpiresOn)[] licenses) =>
        new(Product, CustomerName, new LocalDate(2027, 3, 10), [.. licenses.Select(l => new PlanExpiry(S(l.Serial), l.ExpiresOn))], Desk);

    public static QuoteNotificationMailModel QuoteNotification(ImmutableArray<EmailAddress> contacts, params (string Serial, LocalDate ExpiresOn)[] licenses)
    {
        var requestedOn = new LocalDate(2027, 3, 10);
        return new(Product, new Customer("C-0042", CustomerName), contacts, requestedOn,
            [.. licenses.Select(l => QuoteLine.For(S(l.Serial), l.ExpiresOn, PlanRules.RenewalTerm(l.ExpiresOn, requestedOn, 12, null)))]);
    }

    public static readonly ImmutableArray<EmailAddress> Contacts =
        [EmailAddress.Parse("purchasing@acme-tubing.example"), EmailAddress.Parse("cad.lead@acme-tubing.example")];

    /// <summary>Every fixed case, by snapshot name.</summary>
    public static readonly ImmutableSortedDictionary<string, Func<MailContent>> Cases = new Dictionary<string, Func<MailContent>>
    {
        ["reminder-90-single"] = () => ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1))),
        ["reminder-30-single"] = () => ReminderMail.Render(Reminder(ReminderWording.Final, ("VT-1001", April1))),
        ["reminder-30-three-same-date"] = () => ReminderMail.Render(ReminderThreeSameDate(ReminderWording.Final)),
        ["reminder-90-two-dates"] = () => ReminderMail.Render(Reminder(ReminderWording.Early, ("VT-1001", April1), ("VT-1002", March1))),
        ["announcement-single"] = () => UpdateAnnouncementMail.Render(Announcement(("VT-1001", April1))),
        ["announcement-two"] = () => UpdateAnnouncementMail.Render(Announcement(("VT-1001", April1), ("VT-1002", March1))),
        ["password-link"] = () => PasswordLinkMail.Render(PasswordLink()),
        ["term-current"] = () => PlanTermMail.Render(TermCurrent()),
        ["term-lapsed"] = () => PlanTermMail.Render(TermLapsed()),
        ["quote-ack-single"] = () => QuoteAcknowledgementMail.Render(QuoteAcknowledgement(("VT-1001", April1))),
        ["quote-ack-two"] = () => QuoteAcknowledgementMail.Render(QuoteAcknowledgement(("VT-1001", April1), ("VT-2001", March1))),
        ["quote-notification-two"] = () => QuoteNotificationMail.Render(QuoteNotification(Contacts, ("VT-1001", April1), ("VT-2001", March1))),
        ["quote-notification-single-no-contacts"] = () => QuoteNotificationMail.Render(QuoteNotification([], ("VT-1001", April1))),
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);
}
