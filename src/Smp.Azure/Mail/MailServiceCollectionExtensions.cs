using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Smp.Core.Mail;

namespace Smp.Azure.Mail;

public static class MailServiceCollectionExtensions
{
    public const string TransportSetting = "Smp:Email:Transport";
    public const string AcsEndpointSetting = "Smp:Email:AcsEndpoint";
    public const string AcsConnectionStringSetting = "Smp:Email:AcsConnectionString";
    public const string ClientIdSetting = "Smp:Email:ClientId";
    public const string PickupDirectorySetting = "Smp:Email:PickupDirectory";

    private const string EmailSection = "Smp:Email";

    /// <summary>Timeout of one ACS call; the outbox retries, so a stuck call should end well before the function does.</summary>
    private static readonly TimeSpan AcsTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Registers <see cref="IMailTransport"/> chosen by <c>Smp:Email:Transport</c>: <c>Acs</c> (with
    /// <c>Smp:Email:AcsEndpoint</c> and optional <c>Smp:Email:ClientId</c>, or <c>Smp:Email:AcsConnectionString</c>)
    /// or <c>Pickup</c> (with <c>Smp:Email:PickupDirectory</c>). The settings are checked here, at start-up;
    /// a bad or missing one is an <see cref="InvalidOperationException"/> that names it.
    /// With <c>AcsEndpoint</c>, the token comes from a managed identity for <c>ClientId</c> when it is set,
    /// else from a <see cref="TokenCredential"/> registered in the container, else from <c>DefaultAzureCredential</c>.
    /// </summary>
    public static IServiceCollection AddSmpMailTransport(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddSingleton(TimeProvider.System);
        var transport = configuration[TransportSetting]?.Trim();
        if (string.Equals(transport, "Acs", StringComparison.OrdinalIgnoreCase))
        {
            AddAcs(services, configuration.GetSection(EmailSection).Get<AcsEmailOptions>() ?? new AcsEmailOptions());
        }
        else if (string.Equals(transport, "Pickup", StringComparison.OrdinalIgnoreCase))
        {
            AddPickup(services, configuration[PickupDirectorySetting]);
        }
        else
        {
            throw new InvalidOperationException(string.IsNullOrEmpty(transport)
                ? $"Setting '{TransportSetting}' is missing: set it to 'Acs' or 'Pickup'."
                : $"Setting '{TransportSetting}' is '{transport}': it must be 'Acs' or 'Pickup'.");
        }

        return services;
    }

    private static void AddAcs(IServiceCollection services, AcsEmailOptions options)
    {
        var hasEndpoint = !string.IsNullOrWhiteSpace(options.Endpoint);
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasEndpoint == hasConnectionString)
        {
            throw new InvalidOperationException(hasEndpoint
                ? $"Settings '{AcsEndpointSetting}' and '{AcsConnectionStringSetting}' are both set: keep one (the endpoint for a managed identity, the connection string for an access key)."
                : $"Setting '{TransportSetting}' is 'Acs' but neither '{AcsEndpointSetting}' (managed identity) nor '{AcsConnectionStringSetting}' (access key) is set.");
        }

        Uri endpoint;
        Func<IServiceProvider, DelegatingHandler> authentication;
        if (hasConnectionString)
        {
            var parsed = AcsConnectionString.Parse(options.ConnectionString!, AcsConnectionStringSetting);
            endpoint = parsed.Endpoint;
            authentication = sp => new AcsHmacAuthenticationHandler(parsed.Signer, sp.GetRequiredService<TimeProvider>());
        }
        else
        {
            endpoint = AcsEndpoint.Parse(options.Endpoint!, AcsEndpointSetting);
            var clientId = string.IsNullOrWhiteSpace(options.ClientId) ? null : options.ClientId.Trim();
            services.AddSingleton(sp => new AcsAccessTokenSource(
                clientId is not null
                    ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                    : sp.GetService<TokenCredential>() ?? new DefaultAzureCredential(),
                sp.GetRequiredService<TimeProvider>()));
            authentication = sp => new AcsBearerTokenHandler(sp.GetRequiredService<AcsAccessTokenSource>());
        }

        services.AddHttpClient<AcsEmailTransport>(client =>
            {
                client.BaseAddress = endpoint;
                client.Timeout = AcsTimeout;
            })
            .AddHttpMessageHandler(authentication);
        services.AddTransient<IMailTransport>(sp => sp.GetRequiredService<AcsEmailTransport>());
    }

    private static void AddPickup(IServiceCollection services, string? directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new InvalidOperationException($"Setting '{TransportSetting}' is 'Pickup' but '{PickupDirectorySetting}' is not set.");
        }

        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(directory.Trim());
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new InvalidOperationException($"Setting '{PickupDirectorySetting}' is not a usable directory path.", ex);
        }

        services.AddSingleton<IMailTransport>(sp => new PickupFolderTransport(
            fullPath,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PickupFolderTransport>>()));
    }
}
