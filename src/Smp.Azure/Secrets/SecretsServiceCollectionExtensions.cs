using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using NodaTime;
using Smp.Core.Links;
using Smp.Core.Secrets;

namespace Smp.Azure.Secrets;

/// <summary>Registers the secret store and the customer links from the app settings, checking them first.</summary>
public static class SecretsServiceCollectionExtensions
{
    public const string StoreSetting = "Smp:Secrets:Store";
    public const string VaultUriSetting = "Smp:Secrets:VaultUri";
    public const string ManagedIdentityClientIdSetting = "Smp:Secrets:ManagedIdentityClientId";
    public const string LocalDirectorySetting = "Smp:Secrets:LocalDirectory";
    public const string PublicBaseUrlSetting = "Smp:PublicBaseUrl";
    public const string LinkValidityDaysSetting = "Smp:LinkValidityDays";

    /// <summary>
    /// <see cref="ISecretStore"/> as <c>Smp:Secrets:Store</c> says: <c>KeyVault</c> (with
    /// <c>Smp:Secrets:VaultUri</c>, an absolute https address, and optionally
    /// <c>Smp:Secrets:ManagedIdentityClientId</c>) or <c>Local</c> (with <c>Smp:Secrets:LocalDirectory</c>).
    /// A missing or bad setting throws here, naming the setting.
    /// </summary>
    public static IServiceCollection AddSmpSecretStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var store = configuration[StoreSetting]?.Trim();
        if (string.Equals(store, "KeyVault", StringComparison.OrdinalIgnoreCase))
        {
            var raw = configuration[VaultUriSetting]?.Trim();
            if (!Uri.TryCreate(raw, UriKind.Absolute, out var vaultUri) || vaultUri.Scheme != Uri.UriSchemeHttps)
            {
                throw new InvalidOperationException($"{VaultUriSetting} must be the vault's absolute https address (https://NAME.vault.azure.net/) when {StoreSetting} is KeyVault.");
            }

            var options = new KeyVaultSecretStoreOptions
            {
                VaultUri = vaultUri,
                ManagedIdentityClientId = NullIfBlank(configuration[ManagedIdentityClientIdSetting]),
            };
            services.TryAddSingleton(TimeProvider.System);
            services.AddSingleton<ISecretStore>(sp => new KeyVaultSecretStore(options, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<KeyVaultSecretStore>>()));
        }
        else if (string.Equals(store, "Local", StringComparison.OrdinalIgnoreCase))
        {
            var directory = NullIfBlank(configuration[LocalDirectorySetting])
                ?? throw new InvalidOperationException($"{LocalDirectorySetting} must name a folder when {StoreSetting} is Local.");
            services.AddSingleton<ISecretStore>(sp => new LocalFolderSecretStore(directory, sp.GetRequiredService<ILogger<LocalFolderSecretStore>>()));
        }
        else
        {
            throw new InvalidOperationException($"{StoreSetting} must be KeyVault or Local.");
        }

        return services;
    }

    /// <summary>
    /// <see cref="LinkService"/> (a singleton: it caches the signing key) with <c>Smp:PublicBaseUrl</c>
    /// (required, absolute http or https) and <c>Smp:LinkValidityDays</c> (1-365, default
    /// <see cref="LinkOptions.DefaultValidityDays"/>). Needs an <see cref="ISecretStore"/>; adds the system
    /// clock when no <see cref="IClock"/> is registered.
    /// </summary>
    public static IServiceCollection AddSmpCustomerLinks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var rawUrl = configuration[PublicBaseUrlSetting]?.Trim();
        if (!Uri.TryCreate(rawUrl, UriKind.Absolute, out var baseUrl)
            || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)
            || baseUrl.Query.Length > 0 || baseUrl.Fragment.Length > 0)
        {
            throw new InvalidOperationException($"{PublicBaseUrlSetting} must be the absolute http or https address customers reach the app at, without query or fragment.");
        }

        var days = LinkOptions.DefaultValidityDays;
        var rawDays = NullIfBlank(configuration[LinkValidityDaysSetting]);
        if (rawDays is not null
            && (!int.TryParse(rawDays, NumberStyles.None, CultureInfo.InvariantCulture, out days) || days is < 1 or > LinkOptions.MaxValidityDays))
        {
            throw new InvalidOperationException($"{LinkValidityDaysSetting} must be a whole number of days from 1 to {LinkOptions.MaxValidityDays}.");
        }

        services.AddSingleton(new LinkOptions(baseUrl, days));
        services.TryAddSingleton<IClock>(SystemClock.Instance);
        services.AddSingleton<LinkService>();
        return services;
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
