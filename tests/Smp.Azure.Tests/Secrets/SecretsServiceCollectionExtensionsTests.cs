using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Azure.Secrets;
using Smp.Core.Links;
using Smp.Core.Secrets;

namespace Smp.Azure.Tests.Secrets;

public sealed class SecretsServiceCollectionExtensionsTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "smp-secrets-di-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("KeyVault")]
    [InlineData("keyvault")]
    public void KeyVault_with_an_https_vault_address_gives_the_Key_Vault_store(string store)
    {
        using var provider = Build(new() { ["Smp:Secrets:Store"] = store, ["Smp:Secrets:VaultUri"] = "https://smp-test.vault.azure.net/" });

        Assert.IsType<KeyVaultSecretStore>(provider.GetRequiredService<ISecretStore>());
    }

    [Fact]
    public void KeyVault_with_a_user_assigned_identity_gives_the_Key_Vault_store()
    {
        using var provider = Build(new()
        {
            ["Smp:Secrets:Store"] = "KeyVault",
            ["Smp:Secrets:VaultUri"] = "https://smp-test.vault.azure.net/",
            ["Smp:Secrets:ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001",
        });

        Assert.IsType<KeyVaultSecretStore>(provider.GetRequiredService<ISecretStore>());
    }

    [Fact]
    public void Local_with_a_folder_gives_the_folder_store_and_creates_the_folder()
    {
        using var provider = Build(new() { ["Smp:Secrets:Store"] = "Local", ["Smp:Secrets:LocalDirectory"] = folder });

        var store = Assert.IsType<LocalFolderSecretStore>(provider.GetRequiredService<ISecretStore>());

        Assert.Equal(Path.GetFullPath(folder), store.Directory);
        Assert.True(Directory.Exists(folder));
    }

    [Theory]
    [InlineData(null, null, null, "Smp:Secrets:Store")]
    [InlineData("", null, null, "Smp:Secrets:Store")]
    [InlineData("Vault", null, null, "Smp:Secrets:Store")]
    [InlineData("KeyVault", null, null, "Smp:Secrets:VaultUri")]
    [InlineData("KeyVault", "http://smp-test.vault.azure.net/", null, "Smp:Secrets:VaultUri")]
    [InlineData("KeyVault", "smp-test.vault.azure.net", null, "Smp:Secrets:VaultUri")]
    [InlineData("Local", null, null, "Smp:Secrets:LocalDirectory")]
    [InlineData("Local", null, "  ", "Smp:Secrets:LocalDirectory")]
    public void A_bad_setting_is_named_at_registration(string? store, string? vaultUri, string? directory, string setting)
    {
        var configuration = Configuration(new()
        {
            ["Smp:Secrets:Store"] = store,
            ["Smp:Secrets:VaultUri"] = vaultUri,
            ["Smp:Secrets:LocalDirectory"] = directory,
        });

        var e = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddSmpSecretStore(configuration));

        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Customer_links_use_the_public_address_and_validity_from_the_settings()
    {
        using var provider = Build(new()
        {
            ["Smp:Secrets:Store"] = "Local",
            ["Smp:Secrets:LocalDirectory"] = folder,
            ["Smp:PublicBaseUrl"] = "https://smp.example.com",
            ["Smp:LinkValidityDays"] = "14",
        });

        Assert.NotNull(provider.GetRequiredService<LinkService>());
        Assert.Same(SystemClock.Instance, provider.GetRequiredService<IClock>());
        Assert.Equal(new LinkOptions(new Uri("https://smp.example.com"), 14), provider.GetRequiredService<LinkOptions>());
    }

    [Fact]
    public void The_link_validity_defaults_to_fourteen_days()
    {
        using var provider = Build(new() { ["Smp:Secrets:Store"] = "Local", ["Smp:Secrets:LocalDirectory"] = folder, ["Smp:PublicBaseUrl"] = "https://smp.example.com" });

        Assert.Equal(14, provider.GetRequiredService<LinkOptions>().ValidityDays);
    }

    [Theory]
    [InlineData(null, null, "Smp:PublicBaseUrl")]
    [InlineData("smp.example.com", null, "Smp:PublicBaseUrl")]
    [InlineData("ftp://smp.example.com", null, "Smp:PublicBaseUrl")]
    [InlineData("https://smp.example.com?x=1", null, "Smp:PublicBaseUrl")]
    [InlineData("https://smp.example.com", "0", "Smp:LinkValidityDays")]
    [InlineData("https://smp.example.com", "366", "Smp:LinkValidityDays")]
    [InlineData("https://smp.example.com", "7.5", "Smp:LinkValidityDays")]
    [InlineData("https://smp.example.com", "-1", "Smp:LinkValidityDays")]
    public void A_bad_link_setting_is_named_at_registration(string? url, string? days, string setting)
    {
        var configuration = Configuration(new() { ["Smp:PublicBaseUrl"] = url, ["Smp:LinkValidityDays"] = days });

        var e = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddSmpCustomerLinks(configuration));

        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = Configuration(settings);
        var services = new ServiceCollection().AddLogging().AddSmpSecretStore(configuration);
        if (settings.ContainsKey("Smp:PublicBaseUrl"))
        {
            services.AddSmpCustomerLinks(configuration);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
