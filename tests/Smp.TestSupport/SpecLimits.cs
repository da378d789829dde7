namespace Smp.TestSupport;

/// <summary>
/// Every limit and fixed number the tests check, written down once from SPEC.md or from the README's documented
/// value, never read from the product's own constants: a test that took its oracle from the code under test would
/// move with it, and a changed limit would fail nothing. Change a value here only when the spec or the README changes.
/// </summary>
/// <remarks>Shared by every test project (the pure core tests compile this file in directly).</remarks>
public static class SpecLimits
{
    // ---- SPEC section 2, plan rules ----

    /// <summary>R1: a serial is 1-32 characters of <c>A-Z a-z 0-9 -</c>.</summary>
    public const int SerialMaxLength = 32;

    /// <summary>R3: without on-site training the initial term is 30 days (2026-04-01 + 30 days = 2026-05-01).</summary>
    public const int TrialDays = 30;

    /// <summary>R3: with on-site training the initial term is one year.</summary>
    public const int TrainedTermYears = 1;

    /// <summary>R6: a renewal is 1-60 whole months, default 12.</summary>
    public const int RenewalMonthsMin = 1;

    /// <inheritdoc cref="RenewalMonthsMin"/>
    public const int RenewalMonthsMax = 60;

    /// <inheritdoc cref="RenewalMonthsMin"/>
    public const int RenewalMonthsDefault = 12;

    /// <summary>R8: the default reminder stages, in days before <c>expiresOn</c>; the 90-day one only for terms of 12 months or more.</summary>
    public const int FirstReminderDaysBefore = 90;

    /// <inheritdoc cref="FirstReminderDaysBefore"/>
    public const int LastReminderDaysBefore = 30;

    /// <summary>R8: the shortest term that gets the 90-day reminder, in months.</summary>
    public const int FirstReminderMinTermMonths = 12;

    /// <summary>R13: an update version is 1-20 characters of <c>0-9 A-Z a-z .</c>.</summary>
    public const int VersionMaxLength = 20;

    /// <summary>SPEC section 2: the sample business time zone.</summary>
    public const string BusinessTimeZone = "America/Denver";

    // ---- SPEC section 3 and the README's "Calling it" and route tables ----

    /// <summary>SPEC section 3: a body over 64 KiB is a 400 (README: 65,536 bytes).</summary>
    public const int BodyMaxBytes = 65_536;

    /// <summary>README, activations: <c>product</c> is optional, 1-100 characters.</summary>
    public const int ProductMaxLength = 100;

    /// <summary>README, activations and the customer route: <c>customer.id</c> is 1-64 characters.</summary>
    public const int CustomerIdMaxLength = 64;

    /// <summary>README, activations: <c>customer.name</c> is 1-200 characters.</summary>
    public const int CustomerNameMaxLength = 200;

    /// <summary>README, activations and contact changes: 1-20 distinct email addresses.</summary>
    public const int ContactsMax = 20;

    /// <summary>README, renewals: <c>orderReference</c> is 1-64 characters.</summary>
    public const int OrderReferenceMaxLength = 64;

    /// <summary>README: an email address is at most 254 characters.</summary>
    public const int EmailMaxLength = 254;

    /// <summary>README, updates: a password is 1-200 characters.</summary>
    public const int PasswordMaxLength = 200;

    /// <summary>README: an <c>x-correlation-id</c> is 1-64 characters.</summary>
    public const int CorrelationIdMaxLength = 64;

    /// <summary>README, the expiring report: <c>limit</c> is 1-100, default 100.</summary>
    public const int ReportPageSizeMax = 100;

    /// <summary>README: password-link, term and quote requests are limited to 3 per serial, kind and business day.</summary>
    public const int CustomerRequestsPerDay = 3;
}
