using Microsoft.Extensions.DependencyInjection;
using Smp.Azure.Mail;
using Smp.Core.Mail;

namespace Smp.Azure.Tests.Mail;

public class MailTransportRegistrationTests
{
    [Theory]
    [InlineData("Pickup")]
    [InlineData("pickup")]
    [InlineData(" PICKUP ")]
    public void Pickup_is_chosen_case_insensitively(string transport)
    {
        var directory = Path.Combine(Path.GetTempPath(), "smp-pickup-" + Guid.NewGuid().ToString("N"));

        using var services = Build(("Smp:Email:Transport", transport), ("Smp:Email:PickupDirectory", directory));

        var pickup = Assert.IsType<PickupFolderTransport>(services.GetRequiredService<IMailTransport>());
        Assert.Equal(directory, pickup.Directory);
        Assert.False(Directory.Exists(directory), "the folder is made on first send, not at start-up");
    }

    [Fact]
    public void Acs_with_an_endpoint_resolves_the_http_transport()
    {
        using var services = Build(("Smp:Email:Transport", "ACS"), ("Smp:Email:AcsEndpoint", "https://my-acs.europe.communication.azure.com"));

        Assert.IsType<AcsEmailTransport>(services.GetRequiredService<IMailTransport>());
    }

    [Fact]
    public void Acs_with_a_managed_identity_client_id_resolves_the_http_transport()
    {
        using var services = Build(
            ("Smp:Email:Transport", "Acs"),
            ("Smp:Email:AcsEndpoint", "https://my-acs.europe.communication.azure.com/"),
            ("Smp:Email:ClientId", "00000000-0000-0000-0000-000000000001"));

        Assert.IsType<AcsEmailTransport>(services.GetRequiredService<IMailTransport>());
    }

    [Theory]
    [InlineData(null, "Smp:Email:Transport")]
    [InlineData("Smtp", "Smp:Email:Transport")]
    public void An_unknown_or_missing_transport_names_the_setting(string? transport, string setting)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(("Smp:Email:Transport", transport)));

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Contains("'Acs' or 'Pickup'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pickup_without_a_directory_names_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(("Smp:Email:Transport", "Pickup")));

        Assert.Contains("Smp:Email:PickupDirectory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acs_without_endpoint_or_connection_string_names_both_settings()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(("Smp:Email:Transport", "Acs")));

        Assert.Contains("Smp:Email:AcsEndpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("Smp:Email:AcsConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acs_with_both_endpoint_and_connection_string_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(
            ("Smp:Email:Transport", "Acs"),
            ("Smp:Email:AcsEndpoint", "https://my-acs.communication.azure.com"),
            ("Smp:Email:AcsConnectionString", "endpoint=https://my-acs.communication.azure.com/;accesskey=AAAA")));

        Assert.Contains("Smp:Email:AcsEndpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("Smp:Email:AcsConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://my-acs.communication.azure.com")]
    [InlineData("my-acs.communication.azure.com")]
    [InlineData("https://my-acs.communication.azure.com/emails")]
    public void Acs_with_an_endpoint_that_is_not_an_https_root_names_the_setting(string endpoint)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(("Smp:Email:Transport", "Acs"), ("Smp:Email:AcsEndpoint", endpoint)));

        Assert.Contains("Smp:Email:AcsEndpoint", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(params (string Key, string? Value)[] settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSmpMailTransport(TestMail.Configuration(settings));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
