using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Smp.Azure.Mail;
using Smp.Core.Mail;
using Smp.Core.Plans;

namespace Smp.Azure.Tests.Mail;

internal static class TestMail
{
    public static OutgoingMail Create(string? id = null, string subject = "Your maintenance plan ends on 1 April 2027") => new(
        id ?? Guid.NewGuid().ToString("D"),
        EmailAddress.Parse("smp@vendor.example.com"),
        [EmailAddress.Parse("ana@customer.example.org"), EmailAddress.Parse("it@customer.example.org")],
        EmailAddress.Parse("renewals@vendor.example.com"),
        subject,
        "Serial ABC-123 is covered until 1 April 2027.\nReply to renew.",
        "<p>Serial <b>ABC-123</b> is covered until 1&nbsp;April&nbsp;2027. Größe: ü</p>");

    public static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();

    /// <summary>The container as the app builds it, with the ACS client pointed at the local stand-in.</summary>
    public static ServiceProvider AcsServices(FakeAcsServer server, IConfiguration configuration, Action<IServiceCollection>? configure = null, TimeSpan? timeout = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace));
        services.AddFakeLogging();
        services.AddSingleton<TimeProvider>(server.Time);
        configure?.Invoke(services);
        services.AddSmpMailTransport(configuration);
        var client = services.AddHttpClient<AcsEmailTransport>().ConfigurePrimaryHttpMessageHandler(server.CreateTrustingHandler);
        if (timeout is { } limit)
        {
            client.ConfigureHttpClient(c => c.Timeout = limit);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public static string AccessKeyConnectionString(FakeAcsServer server, byte[] key) =>
        $"endpoint={server.Endpoint};accesskey={Convert.ToBase64String(key)}";

    public static string[] Addresses(System.Text.Json.JsonElement array) =>
        [.. array.EnumerateArray().Select(a => a.GetProperty("address").GetString()!)];
}
