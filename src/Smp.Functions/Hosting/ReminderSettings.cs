using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Functions.Hosting;

/// <summary><c>Smp:Reminders</c>: the reminder offsets in days (R8), default 90 and 30.</summary>
public static class ReminderSettings
{
    public const string Setting = "Smp:Reminders";

    /// <summary>
    /// Reads the offsets as a list (<c>Smp:Reminders:0=90</c>, <c>Smp:Reminders:1=30</c>, or in app settings
    /// <c>Smp__Reminders__0</c>) or as one comma-separated value (<c>Smp:Reminders=90,30</c>).
    /// </summary>
    public static ReminderSchedule Schedule(IConfiguration configuration)
    {
        var section = configuration.GetSection(Setting);
        var raw = section.GetChildren().Select(c => c.Value).ToList();
        if (raw.Count == 0 && !string.IsNullOrWhiteSpace(section.Value))
        {
            raw = [.. section.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
        }

        if (raw.Count == 0)
        {
            return ReminderSchedule.Default;
        }

        var offsets = new List<int>();
        foreach (var value in raw)
        {
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var days) || days is < 1 or > 366)
            {
                throw Invalid($"'{value}' is not a whole number of days from 1 to 366.");
            }

            offsets.Add(days);
        }

        if (offsets.Distinct().Count() != offsets.Count)
        {
            throw Invalid("an offset is listed twice.");
        }

        return new ReminderSchedule(offsets);
    }

    private static OptionsValidationException Invalid(string reason) =>
        new(Setting, typeof(ReminderSchedule), [$"Setting '{Setting}' lists reminder offsets in days before expiry (default 90,30): {reason}"]);
}
