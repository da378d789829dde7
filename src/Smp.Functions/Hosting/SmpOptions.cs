using Microsoft.Extensions.Options;
using NodaTime;
using Smp.Core.Licenses;

namespace Smp.Functions.Hosting;

/// <summary>The <c>Smp</c> settings section (SPEC section 6). Validated when the host starts.</summary>
public sealed class SmpOptions
{
    public const string Section = "Smp";

    /// <summary><c>Smp:BusinessTimeZone</c>: the IANA zone whose calendar dates the plan rules use.</summary>
    public string? BusinessTimeZone { get; set; }

    /// <summary><c>Smp:DefaultProduct</c>: the product name of an activation that names none.</summary>
    public string DefaultProduct { get; set; } = PlanOptions.DefaultProductName;

    public DateTimeZone Zone() =>
        DateTimeZoneProviders.Tzdb.GetZoneOrNull(BusinessTimeZone ?? string.Empty)
        ?? throw new OptionsValidationException(Section, typeof(SmpOptions), [SmpOptionsValidator.ZoneMessage(BusinessTimeZone)]);
}

public sealed class SmpOptionsValidator : IValidateOptions<SmpOptions>
{
    public static string ZoneMessage(string? value) =>
        $"Setting 'Smp:BusinessTimeZone' must be an IANA time zone id such as 'America/Denver' (found '{value}').";

    public ValidateOptionsResult Validate(string? name, SmpOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BusinessTimeZone) || DateTimeZoneProviders.Tzdb.GetZoneOrNull(options.BusinessTimeZone) is null)
        {
            failures.Add(ZoneMessage(options.BusinessTimeZone));
        }

        if (string.IsNullOrWhiteSpace(options.DefaultProduct) || options.DefaultProduct.Length > 100)
        {
            failures.Add("Setting 'Smp:DefaultProduct' must be a product name of 1-100 characters.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
