using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Smp.Core.Licenses;

namespace Smp.Azure.Tables;

public static class TableStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="TableServiceClient"/> for the <c>Smp:Tables</c> connection (default: <c>AzureWebJobsStorage</c>)
    /// and <see cref="TableLicenseStore"/> as the <see cref="ILicenseStore"/>. Reads and validates the setting now, so a
    /// missing or malformed one fails start-up with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
    /// naming it; nothing is sent to storage until first use.
    /// </summary>
    public static IServiceCollection AddSmpTableStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var connection = TableStorageConnection.FromConfiguration(configuration);
        services.TryAddSingleton(_ => connection.CreateClient());
        services.TryAddSingleton(sp => new TableLicenseStore(sp.GetRequiredService<TableServiceClient>()));
        services.TryAddSingleton<ILicenseStore>(sp => sp.GetRequiredService<TableLicenseStore>());
        return services;
    }
}
