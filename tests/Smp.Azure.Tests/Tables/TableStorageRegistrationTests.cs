using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableStorageRegistrationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_connection_string_in_Smp_Tables_gives_a_working_store()
    {
        using var provider = Build(new() { ["Smp:Tables"] = azurite.ConnectionString, ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });

        var store = provider.GetRequiredService<ILicenseStore>();

        Assert.IsType<TableLicenseStore>(store);
        Assert.Same(store, provider.GetRequiredService<TableLicenseStore>());
        Assert.Equal(azurite.Azurite.TableEndpoint.Port, provider.GetRequiredService<TableServiceClient>().Uri.Port);
        Assert.True(await store.PingAsync(CancellationToken.None));
    }

    [Fact]
    public void Without_Smp_Tables_the_host_storage_connection_is_used()
    {
        using var provider = Build(new() { ["AzureWebJobsStorage"] = azurite.ConnectionString });

        Assert.Equal(azurite.Azurite.TableEndpoint.Port, provider.GetRequiredService<TableServiceClient>().Uri.Port);
    }

    [Theory]
    [InlineData("Smp:Tables:serviceUri")]
    [InlineData("Smp:Tables__serviceUri")]
    [InlineData("Smp:Tables:tableServiceUri")]
    public void A_service_uri_is_reached_with_a_managed_identity(string key)
    {
        using var provider = Build(new() { [key] = "https://smpdata.table.core.windows.net", ["Smp:Tables__clientId"] = "00000000-0000-0000-0000-000000000001" });

        Assert.Equal(new Uri("https://smpdata.table.core.windows.net"), provider.GetRequiredService<TableServiceClient>().Uri);
        Assert.Equal("smpdata", provider.GetRequiredService<TableServiceClient>().AccountName);
    }

    [Theory]
    [InlineData("AzureWebJobsStorage__tableServiceUri", "https://hoststore.table.core.windows.net", "AzureWebJobsStorage__credential", "https://hoststore.table.core.windows.net/")]
    [InlineData("AzureWebJobsStorage:accountName", "hoststore", "AzureWebJobsStorage:credential", "https://hoststore.table.core.windows.net/")]
    [InlineData("Smp:Tables", "https://smpdata.table.core.windows.net", "Smp:Tables:credential", "https://smpdata.table.core.windows.net/")]
    public void Identity_based_forms_name_the_table_endpoint(string key, string value, string credentialKey, string endpoint)
    {
        using var provider = Build(new() { [key] = value, [credentialKey] = "managedidentity" });

        Assert.Equal(new Uri(endpoint), provider.GetRequiredService<TableServiceClient>().Uri);
    }

    [Fact]
    public void Missing_configuration_fails_with_a_message_naming_the_settings()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build([]));

        Assert.Equal("Smp:Tables", error.OptionsName);
        Assert.Contains("Smp:Tables", error.Message, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Smp:Tables:serviceUri", "http://smpdata.table.core.windows.net")]
    [InlineData("Smp:Tables:serviceUri", "not a uri")]
    [InlineData("Smp:Tables:accountName", "Not_An_Account")]
    [InlineData("Smp:Tables", "DefaultEndpointsProtocol=http;AccountName=x;AccountKey=not-base64!!;TableEndpoint=::")]
    public void Invalid_settings_fail_with_a_message_naming_the_setting_and_never_the_secret(string key, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { [key] = value }));

        Assert.Equal(key, error.OptionsName);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-base64", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddSmpTableStorage(configuration).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
