using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Smp.Core.Outbox;

namespace Smp.Functions.Hosting;

/// <summary>
/// Mail delivery settings: <c>Smp:Email:MaxPerMinute</c> (default 25), <c>Smp:Email:MaxAttempts</c> (default 8),
/// <c>Smp:Email:CustomerRequestSharePerMinute</c> (default 5) and <c>Smp:Email:SentBodyRetentionDays</c> (default 30:
/// how long sent mail keeps its body, which holds customer links).
/// </summary>
public static class DeliverySettings
{
    public const string MaxPerMinuteSetting = "Smp:Email:MaxPerMinute";
    public const string MaxAttemptsSetting = "Smp:Email:MaxAttempts";
    public const string CustomerRequestShareSetting = "Smp:Email:CustomerRequestSharePerMinute";
    public const string SentBodyRetentionDaysSetting = "Smp:Email:SentBodyRetentionDays";

    public static DeliveryOptions Options(IConfiguration configuration)
    {
        var defaults = new DeliveryOptions();
        return defaults with
        {
            MaxPerMinute = Read(configuration, MaxPerMinuteSetting, defaults.MaxPerMinute, 1, 1000),
            MaxAttempts = Read(configuration, MaxAttemptsSetting, defaults.MaxAttempts, 1, 50),
            CustomerRequestSharePerMinute = Read(configuration, CustomerRequestShareSetting, defaults.CustomerRequestSharePerMinute, 1, 1000),
            SentBodyRetention = NodaTime.Duration.FromDays(Read(configuration, SentBodyRetentionDaysSetting, DeliveryOptions.DefaultSentBodyRetentionDays, 1, 3650)),
        };
    }

    private static int Read(IConfiguration configuration, string setting, int fallback, int min, int max)
    {
        var raw = configuration[setting];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return fallback;
        }

        return int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new OptionsValidationException(setting, typeof(DeliveryOptions), [$"Setting '{setting}' must be a whole number from {min} to {max} (found '{raw}')."]);
    }
}
