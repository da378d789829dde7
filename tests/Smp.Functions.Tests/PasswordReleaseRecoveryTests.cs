using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// Crash consistency of a password release: the process stops just before or just after the license records
/// the release, and the customer opens the link again. The end state is that of one uninterrupted release.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PasswordReleaseRecoveryTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);
    private readonly string _prefix = ApiHarness.UniqueTablePrefix();
    private readonly string _secrets = Directory.CreateTempSubdirectory("smp-secrets-").FullName;

    public void Dispose() => Directory.Delete(_secrets, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_release_interrupted_around_its_audit_write_and_opened_again_is_recorded_once(bool crashAfterTheWrite)
    {
        Uri link;
        using (var setup = Harness())
        {
            await ActivationApiTests.ActivateAsync(setup, ActivationApiTests.ActivationBody());
            await UpdateApi.PublishAsync(setup);
            link = await UpdateApi.LinkAsync(setup);
        }

        using (var crashing = Harness(services => services.Decorate<ILicenseStore>((store, _) => new CrashingLicenseStore(store, crashOnUpdate: 1, afterTheWrite: crashAfterTheWrite))))
        {
            await Assert.ThrowsAsync<SimulatedCrashException>(() => UpdateApi.OpenAsync(crashing, link, forwardedFor: "203.0.113.7"));
        }

        using var restarted = Harness();
        var again = await UpdateApi.OpenAsync(restarted, link, forwardedFor: "203.0.113.7");

        Assert.Equal(200, again.Status);
        Assert.Single(await UpdateApi.EventsAsync(restarted, "VT-1001"), e => e.GetProperty("type").GetString() == "passwordReleased");
    }

    private ApiHarness Harness(Action<IServiceCollection>? services = null) => new(
        azurite.ConnectionString,
        Now,
        new Dictionary<string, string?> { ["Smp:TablePrefix"] = _prefix, ["Smp:Secrets:LocalDirectory"] = _secrets },
        services);
}
