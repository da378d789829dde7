using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Smp.Core.Imports;
using Smp.Core.Observability;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.Core.Reminders;
using Smp.Core.Updates;

namespace Smp.Azure.Tables;

public static partial class TableStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="TableServiceClient"/> for the <c>Smp:Tables</c> connection (default: <c>AzureWebJobsStorage</c>)
    /// with <see cref="TableLicenseStore"/> as the <see cref="ILicenseStore"/> and the other stores beside it (request limits,
    /// mail outbox, updates), each in its own prefixed table. Reads and validates the setting now, so a
    /// missing or malformed one fails start-up with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
    /// naming it; nothing is sent to storage until first use.
    /// </summary>
    public static IServiceCollection AddSmpTableStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var connection = TableStorageConnection.FromConfiguration(configuration);
        services.TryAddSingleton(_ => connection.CreateClient());
        var prefix = TablePrefix(configuration);
        services.TryAddSingleton(sp => new TableLicenseStore(sp.GetRequiredService<TableServiceClient>(), new TableLicenseStoreOptions
        {
            LicensesTable = prefix + "licenses",
            IndexTable = prefix + "licenseindex",
            Reminders = sp.GetService<ReminderSchedule>() ?? ReminderSchedule.Default,
        }));
        services.TryAddSingleton<ILicenseStore>(sp => sp.GetRequiredService<TableLicenseStore>());
        services.TryAddSingleton<Smp.Core.Search.ILicenseSearchIndex>(sp => sp.GetRequiredService<TableLicenseStore>());
        services.TryAddSingleton<ILicenseActivity>(sp => sp.GetRequiredService<TableLicenseStore>());
        services.TryAddSingleton<IStorageFailures, TableStorageFailures>();
        services.TryAddSingleton<IRequestRateLimiter>(sp => new TableRequestRateLimiter(sp.GetRequiredService<TableServiceClient>(), prefix + "ratelimits"));
        services.TryAddSingleton<ICustomerRequestQueue>(sp => new TableCustomerRequestQueue(sp.GetRequiredService<TableServiceClient>(), prefix + "customerrequests"));
        services.TryAddSingleton<IMailOutbox>(sp => new TableMailOutbox(sp.GetRequiredService<TableServiceClient>(), prefix + "mailoutbox", UnreadableMailReporter(sp)));
        services.TryAddSingleton<IUpdateStore>(sp => new TableUpdateStore(sp.GetRequiredService<TableServiceClient>(), prefix + "updates"));
        services.TryAddSingleton<IImportStore>(sp => new TableImportStore(sp.GetRequiredService<TableServiceClient>(), prefix + "imports"));
        return services;
    }

    /// <summary>An unreadable outbox row is logged (its id and the failure's type, never its content) and counted.</summary>
    private static Action<UnreadableOutboxMessage> UnreadableMailReporter(IServiceProvider services)
    {
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger<TableMailOutbox>();
        var metrics = services.GetService<SmpMetrics>();
        return unreadable =>
        {
            if (logger is not null)
            {
                LogUnreadableMail(logger, unreadable.Id, unreadable.Reason);
            }

            metrics?.MailUnreadable();
        };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox message {MailId} cannot be read ({Reason}); it is skipped and left in place for staff.")]
    private static partial void LogUnreadableMail(ILogger logger, string mailId, string reason);

    /// <summary>
    /// <c>Smp:TablePrefix</c>: an optional prefix (letters and digits, at most 20) for every table name, so that
    /// several environments or test runs can share one storage account without seeing each other's data.
    /// </summary>
    public static string TablePrefix(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var prefix = configuration["Smp:TablePrefix"] ?? string.Empty;
        if (prefix.Length > 20 || !prefix.All(char.IsAsciiLetterOrDigit) || (prefix.Length > 0 && !char.IsAsciiLetter(prefix[0])))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(
                "Smp:TablePrefix",
                typeof(TableLicenseStoreOptions),
                ["Setting 'Smp:TablePrefix' must be empty or up to 20 letters and digits, starting with a letter."]);
        }

        return prefix;
    }
}
