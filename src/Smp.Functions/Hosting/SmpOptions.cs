using Microsoft.Extensions.Options;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.Core.Updates;

namespace Smp.Functions.Hosting;

/// <summary>The <c>Smp</c> settings section (SPEC section 6). Validated when the host starts.</summary>
public sealed class SmpOptions
{
    public const string Section = "Smp";

    /// <summary><c>Smp:BusinessTimeZone</c>: the IANA zone whose calendar dates the plan rules use.</summary>
    public string? BusinessTimeZone { get; set; }

    /// <summary><c>Smp:DefaultProduct</c>: the product name of an activation that names none.</summary>
    public string DefaultProduct { get; set; } = PlanOptions.DefaultProductName;

    /// <summary><c>Smp:ReminderSchedule</c>: when the reminder scan runs (NCRONTAB with seconds, in UTC).</summary>
    public string? ReminderSchedule { get; set; }

    /// <summary><c>Smp:DigestSchedule</c>: when the renewals desk's weekly digest is mailed (NCRONTAB with seconds, in UTC; deployed as <c>0 0 14 * * 1</c>).</summary>
    public string? DigestSchedule { get; set; }

    /// <summary><c>Smp:SenderAddress</c>: the From address of every mail.</summary>
    public string? SenderAddress { get; set; }

    /// <summary><c>Smp:RenewalsDeskEmail</c>: receives quote requests; the Reply-To of customer mail.</summary>
    public string? RenewalsDeskEmail { get; set; }

    /// <summary><c>Smp:PublicBaseUrl</c>: where customers reach the app, for links in mail.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary><c>Smp:Updates</c>: update settings (R13).</summary>
    public SmpUpdateSettings Updates { get; set; } = new();

    /// <summary><c>Smp:AnonymousLimits</c>: the daily limits of the anonymous customer routes (SPEC section 5).</summary>
    public SmpAnonymousLimitSettings AnonymousLimits { get; set; } = new();

    public AnonymousLimits Limits() => new()
    {
        PerClientPerDay = AnonymousLimits.PerClientPerDay,
        PerNetworkPerDay = AnonymousLimits.PerNetworkPerDay,
        PasswordRequestsPerDay = AnonymousLimits.PasswordRequestsPerDay,
        TermRequestsPerDay = AnonymousLimits.TermRequestsPerDay,
        QuoteRequestsPerDay = AnonymousLimits.QuoteRequestsPerDay,
        PasswordRevealsPerLinkPerDay = AnonymousLimits.PasswordRevealsPerLinkPerDay,
    };

    public UpdateOptions UpdatePolicy() =>
        Entitlement.TryParsePolicy(Updates.Entitlement, out var policy)
            ? new UpdateOptions(policy)
            : throw new OptionsValidationException(Section, typeof(SmpOptions), [SmpOptionsValidator.EntitlementMessage(Updates.Entitlement)]);

    public MailSettings Mail() => new(
        EmailAddress.Parse(SenderAddress ?? string.Empty),
        EmailAddress.Parse(RenewalsDeskEmail ?? string.Empty),
        // A trailing slash, so that links resolved against it keep any path it has.
        new Uri((PublicBaseUrl ?? string.Empty).TrimEnd('/') + "/", UriKind.Absolute));

    public DateTimeZone Zone() =>
        DateTimeZoneProviders.Tzdb.GetZoneOrNull(BusinessTimeZone ?? string.Empty)
        ?? throw new OptionsValidationException(Section, typeof(SmpOptions), [SmpOptionsValidator.ZoneMessage(BusinessTimeZone)]);
}

/// <summary>The <c>Smp:Updates</c> section.</summary>
public sealed class SmpUpdateSettings
{
    /// <summary><c>Smp:Updates:Entitlement</c>: <c>CurrentPlan</c> (default) or <c>ReleasedDuringCover</c>.</summary>
    public string? Entitlement { get; set; }
}

/// <summary>The <c>Smp:AnonymousLimits</c> section; each value is a whole number from 1 to 2000 (a counter lists what it counted).</summary>
public sealed class SmpAnonymousLimitSettings
{
    private static readonly AnonymousLimits Defaults = new();

    public int PerClientPerDay { get; set; } = Defaults.PerClientPerDay;

    public int PerNetworkPerDay { get; set; } = Defaults.PerNetworkPerDay;

    public int PasswordRequestsPerDay { get; set; } = Defaults.PasswordRequestsPerDay;

    public int TermRequestsPerDay { get; set; } = Defaults.TermRequestsPerDay;

    public int QuoteRequestsPerDay { get; set; } = Defaults.QuoteRequestsPerDay;

    public int PasswordRevealsPerLinkPerDay { get; set; } = Defaults.PasswordRevealsPerLinkPerDay;

    public IEnumerable<string> Failures()
    {
        foreach (var (name, value) in new[]
        {
            (nameof(PerClientPerDay), PerClientPerDay),
            (nameof(PerNetworkPerDay), PerNetworkPerDay),
            (nameof(PasswordRequestsPerDay), PasswordRequestsPerDay),
            (nameof(TermRequestsPerDay), TermRequestsPerDay),
            (nameof(QuoteRequestsPerDay), QuoteRequestsPerDay),
            (nameof(PasswordRevealsPerLinkPerDay), PasswordRevealsPerLinkPerDay),
        })
        {
            if (value is < 1 or > AnonymousLimits.MaxPerDay)
            {
                yield return $"Setting 'Smp:AnonymousLimits:{name}' must be a whole number from 1 to {AnonymousLimits.MaxPerDay} (found '{value}').";
            }
        }
    }
}

public sealed class SmpOptionsValidator : IValidateOptions<SmpOptions>
{
    public static string EntitlementMessage(string? value) =>
        $"Setting '{UpdateOptions.EntitlementSetting}' must be '{nameof(EntitlementPolicy.CurrentPlan)}' (the default) or '{nameof(EntitlementPolicy.ReleasedDuringCover)}' (found '{value}').";

    public static string ZoneMessage(string? value) =>
        $"Setting 'Smp:BusinessTimeZone' must be an IANA time zone id such as 'America/Denver' (found '{value}').";

    /// <summary>Whether <paramref name="schedule"/> is an NCRONTAB expression with six fields, seconds first, as the timer trigger reads it.</summary>
    public static bool IsNcrontabWithSeconds(string? schedule) =>
        schedule?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6
        && NCrontab.CrontabSchedule.TryParse(schedule, new NCrontab.CrontabSchedule.ParseOptions { IncludingSeconds = true }) is not null;

    public ValidateOptionsResult Validate(string? name, SmpOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BusinessTimeZone) || DateTimeZoneProviders.Tzdb.GetZoneOrNull(options.BusinessTimeZone) is null)
        {
            failures.Add(ZoneMessage(options.BusinessTimeZone));
        }

        if (!IsNcrontabWithSeconds(options.ReminderSchedule))
        {
            failures.Add($"Setting 'Smp:ReminderSchedule' must be an NCRONTAB expression with six fields (seconds first, UTC), such as '0 0 13 * * *' (found '{options.ReminderSchedule}').");
        }

        if (!IsNcrontabWithSeconds(options.DigestSchedule))
        {
            failures.Add($"Setting 'Smp:DigestSchedule' must be an NCRONTAB expression with six fields (seconds first, UTC), such as '0 0 14 * * 1' for Mondays at 14:00 (found '{options.DigestSchedule}').");
        }

        if (!EmailAddress.TryParse(options.SenderAddress, out _))
        {
            failures.Add($"Setting 'Smp:SenderAddress' must be the email address mail is sent from (found '{options.SenderAddress}').");
        }

        if (!EmailAddress.TryParse(options.RenewalsDeskEmail, out _))
        {
            failures.Add($"Setting 'Smp:RenewalsDeskEmail' must be the renewals desk's email address (found '{options.RenewalsDeskEmail}').");
        }

        if (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var baseUrl)
            || !(baseUrl.Scheme == Uri.UriSchemeHttps || (baseUrl.Scheme == Uri.UriSchemeHttp && baseUrl.IsLoopback))
            || baseUrl.Query.Length > 0 || baseUrl.Fragment.Length > 0)
        {
            failures.Add($"Setting 'Smp:PublicBaseUrl' must be the https address customers reach the app at, without query or fragment (plain http only for localhost) (found '{options.PublicBaseUrl}').");
        }

        // Mailed in every reminder of a license stored without a product: it must still show once mail has cleaned it.
        if (string.IsNullOrWhiteSpace(options.DefaultProduct) || options.DefaultProduct.Length > 100 || !MailableText.HasVisibleText(options.DefaultProduct))
        {
            failures.Add("Setting 'Smp:DefaultProduct' must be a product name of 1-100 characters with visible text.");
        }

        if (!Entitlement.TryParsePolicy(options.Updates?.Entitlement, out _))
        {
            failures.Add(EntitlementMessage(options.Updates?.Entitlement));
        }

        failures.AddRange((options.AnonymousLimits ?? new()).Failures());

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
