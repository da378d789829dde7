using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using Smp.Functions.Hosting;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>The container Program.cs builds, proven with scope and build validation, and every function created from it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HostWiringTests(AzuriteFixture azurite)
{
    [Fact]
    public void Every_function_class_is_created_from_the_real_container()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0));
        var functionClasses = typeof(SmpHost).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null))
            .ToList();

        Assert.NotEmpty(functionClasses);
        foreach (var type in functionClasses)
        {
            Assert.NotNull(ActivatorUtilities.CreateInstance(api.Services, type));
        }
    }

    [Fact]
    public void The_settings_validate_at_start_up()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0));

        api.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Mars/Olympus_Mons")]
    public void A_missing_or_unknown_business_zone_fails_start_up_naming_the_setting(string? zone)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?> { ["Smp:BusinessTimeZone"] = zone });

        var error = Assert.Throws<OptionsValidationException>(() => api.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Smp:BusinessTimeZone", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://smp.example.com")]
    [InlineData("ftp://smp.example.com")]
    [InlineData("https://smp.example.com/?a=1")]
    [InlineData("smp.example.com")]
    public void A_public_base_url_that_mail_links_cannot_use_fails_start_up_naming_the_setting(string url)
    {
        // Some settings are refused while the container is composed, others by the start-up validation: both stop the app.
        var error = Record.Exception(() =>
        {
            using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?> { ["Smp:PublicBaseUrl"] = url });
            api.Services.GetRequiredService<IStartupValidator>().Validate();
        });

        Assert.NotNull(error);
        Assert.Contains("Smp:PublicBaseUrl", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3651")]
    [InlineData("thirty")]
    public void A_sent_body_retention_out_of_range_fails_start_up_naming_the_setting(string days)
    {
        var error = Record.Exception(() =>
        {
            using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?> { ["Smp:Email:SentBodyRetentionDays"] = days });
            api.Services.GetRequiredService<IStartupValidator>().Validate();
        });

        Assert.NotNull(error);
        Assert.Contains("Smp:Email:SentBodyRetentionDays", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 0 99 * * *")]
    [InlineData("a b c d e f")]
    [InlineData("0 0 13 * * * *")]
    [InlineData("0 13 * * *")]
    public void Section6_a_reminder_schedule_that_is_not_ncrontab_with_seconds_fails_start_up_naming_the_setting(string schedule)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?> { ["Smp:ReminderSchedule"] = schedule });

        var error = Assert.Throws<OptionsValidationException>(() => api.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Smp:ReminderSchedule", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0 0 14 * * 8")]
    [InlineData("0 14 * * 1")]
    public void Section11_a_digest_schedule_that_is_missing_or_not_ncrontab_with_seconds_fails_start_up_naming_the_setting(string? schedule)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?> { ["Smp:DigestSchedule"] = schedule });

        var error = Assert.Throws<OptionsValidationException>(() => api.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Smp:DigestSchedule", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u200E")]
    [InlineData("\u200F \u200E\t")]
    public void Section6_a_default_product_without_visible_text_fails_start_up_naming_the_setting(string product)
    {
        using var api = new ApiHarness(azurite.ConnectionString, Instant.FromUtc(2026, 1, 1, 0, 0), new Dictionary<string, string?> { ["Smp:DefaultProduct"] = product });

        var error = Assert.Throws<OptionsValidationException>(() => api.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Smp:DefaultProduct", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Program_cs_uses_the_same_composition_root()
    {
        var program = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src", "Smp.Functions", "Program.cs"));

        Assert.Contains("SmpHost.CreateBuilder(args).Build().Run();", program, StringComparison.Ordinal);
    }
}
