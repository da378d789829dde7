using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Smp.Azure.Secrets;
using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;

namespace Smp.Azure.Tests.Secrets;

/// <summary>The Key Vault adapter against a local HTTPS server that speaks the Key Vault protocol.</summary>
public sealed class KeyVaultSecretStoreTests : IAsyncLifetime
{
    private static readonly SecretName Update196 = SecretName.ForUpdate(UpdateVersion.Parse("1.96"));

    private readonly FakeCredential credential = new();
    private FakeKeyVault vault = null!;

    public async Task InitializeAsync() => vault = await FakeKeyVault.StartAsync();

    public async Task DisposeAsync() => await vault.DisposeAsync();

    [Fact]
    public async Task A_value_set_is_read_back_after_the_bearer_challenge()
    {
        var store = Store();

        await store.SetAsync(Update196, "p@ss-1.96", CancellationToken.None);
        var value = await store.GetAsync(Update196, CancellationToken.None);

        Assert.Equal("p@ss-1.96", value);

        // The challenge: the first request goes out without a token (and without its body) and gets a 401.
        var requests = vault.Requests;
        Assert.Equal(("PUT", "/secrets/smp-update-1-96", ""), (requests[0].Method, requests[0].Path, requests[0].Authorization));
        Assert.Equal("", requests[0].Body);

        // The credential is asked for Key Vault's scope in the challenge's tenant, once.
        var tokenRequest = Assert.Single(credential.Requests);
        Assert.Equal(["https://vault.azure.net/.default"], tokenRequest.Scopes);
        Assert.Equal(FakeKeyVault.Tenant, tokenRequest.TenantId);

        // Every later request carries the token and an api-version; the latest version is read at /secrets/{name}.
        Assert.All(requests.Skip(1), r => Assert.Equal($"Bearer {FakeKeyVault.Token}", r.Authorization));
        Assert.All(requests, r => Assert.False(string.IsNullOrEmpty(r.ApiVersion)));
        Assert.Equal(
            [("PUT", "/secrets/smp-update-1-96"), ("PUT", "/secrets/smp-update-1-96"), ("GET", "/secrets/smp-update-1-96")],
            requests.Select(r => (r.Method, r.Path)).ToArray());
    }

    [Fact]
    public async Task Spec5_the_enabled_versions_of_a_rotating_key_are_read_and_disabled_ones_are_left_out()
    {
        var store = Store();
        await store.SetAsync(SecretName.LinkSigningKey, "key-one", CancellationToken.None);
        await store.SetAsync(SecretName.LinkSigningKey, "key-two", CancellationToken.None);
        await store.SetAsync(SecretName.LinkSigningKey, "key-three", CancellationToken.None);
        vault.Disable(SecretName.LinkSigningKey.Value, "key-two");

        var versions = await store.GetEnabledVersionsAsync(SecretName.LinkSigningKey, CancellationToken.None);

        // Key Vault stamps versions in whole seconds, so versions written in one second have no set order among them.
        Assert.Equal(["key-one", "key-three"], versions.Order(StringComparer.Ordinal));
        Assert.Empty(await store.GetEnabledVersionsAsync(Update196, CancellationToken.None));
    }

    [Fact]
    public async Task A_value_is_stored_as_plain_text_tagged_with_its_purpose()
    {
        await Store().SetAsync(Update196, "p@ss-1.96", CancellationToken.None);

        var put = vault.Requests.Last(r => r.Method == "PUT");
        using var body = System.Text.Json.JsonDocument.Parse(put.Body);
        Assert.Equal("p@ss-1.96", body.RootElement.GetProperty("value").GetString());
        Assert.Equal("text/plain", body.RootElement.GetProperty("contentType").GetString());
        Assert.Equal("smp-update", body.RootElement.GetProperty("tags").GetProperty("purpose").GetString());
        Assert.Equal("smp", body.RootElement.GetProperty("tags").GetProperty("app").GetString());
    }

    [Fact]
    public async Task A_new_value_replaces_the_old_one()
    {
        var store = Store();

        await store.SetAsync(Update196, "first", CancellationToken.None);
        await store.SetAsync(Update196, "second", CancellationToken.None);

        Assert.Equal("second", await store.GetAsync(Update196, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_secret_reads_as_null()
    {
        Assert.Null(await Store().GetAsync(SecretName.Parse("smp-update-9-99"), CancellationToken.None));

        Assert.Equal(("GET", "/secrets/smp-update-9-99"), (vault.Requests[^1].Method, vault.Requests[^1].Path));
    }

    [Fact]
    public async Task GetOrCreate_creates_once_and_then_returns_the_stored_value()
    {
        var store = Store();
        var created = 0;

        var first = await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => { created++; return "key-one"; }, CancellationToken.None);
        var second = await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => { created++; return "key-two"; }, CancellationToken.None);

        Assert.Equal(("key-one", "key-one", 1), (first, second, created));
        Assert.Equal(1, vault.VersionCount("smp-link-signing-key"));
        Assert.Contains(vault.Requests, r => r.Method == "GET" && r.Path == "/secrets/smp-link-signing-key/versions");
    }

    [Fact]
    public async Task A_creator_that_lost_the_race_uses_the_first_value_and_makes_it_the_latest_again()
    {
        vault.EarlierCreatorValue = "the-winner";

        var value = await Store().GetOrCreateAsync(SecretName.LinkSigningKey, () => "the-loser", CancellationToken.None);

        Assert.Equal("the-winner", value);
        Assert.Equal("the-winner", vault.LatestValue("smp-link-signing-key"));
        Assert.Equal(3, vault.VersionCount("smp-link-signing-key"));
    }

    [Fact]
    public async Task GetOrCreate_waits_until_a_freshly_written_version_has_settled()
    {
        await Store().SetAsync(SecretName.LinkSigningKey, "fresh-key", CancellationToken.None);
        var before = vault.Requests.Count;

        var value = await Store(quiet: TimeSpan.FromSeconds(1.5)).GetOrCreateAsync(SecretName.LinkSigningKey, () => "unused", CancellationToken.None);

        Assert.Equal("fresh-key", value);
        Assert.True(vault.Time.Elapsed >= TimeSpan.FromSeconds(1.5), $"returned after {vault.Time.Elapsed} of vault time, before the version was 1.5 s old");
        var reads = vault.Requests.Skip(before).Count(r => r.Method == "GET" && r.Path == "/secrets/smp-link-signing-key" && r.Authorization.Length > 0);
        Assert.True(reads >= 2, $"expected a second read after the wait, saw {reads}");
        Assert.Equal(1, vault.VersionCount("smp-link-signing-key"));
    }

    [Fact]
    public async Task GetOrCreate_lists_the_versions_only_after_the_settle_delay_has_passed_since_its_write()
    {
        var value = await Store(settle: TimeSpan.FromSeconds(2)).GetOrCreateAsync(SecretName.LinkSigningKey, () => "new-key", CancellationToken.None);

        Assert.Equal("new-key", value);
        var write = Assert.Single(vault.Requests, r => r.Method == "PUT" && r.Authorization.Length > 0);
        var listing = Assert.Single(vault.Requests, r => r.Method == "GET" && r.Path == "/secrets/smp-link-signing-key/versions" && r.Authorization.Length > 0);
        Assert.True(listing.At - write.At >= TimeSpan.FromSeconds(2), $"listed {listing.At - write.At} after the write");
    }

    [Fact]
    public async Task Concurrent_creators_in_separate_instances_end_with_one_value()
    {
        // The settle delay must exceed one second (the vault's timestamp resolution) for creators to agree.
        var stores = Enumerable.Range(0, 6).Select(_ => Store(settle: TimeSpan.FromSeconds(1.1), quiet: TimeSpan.FromSeconds(3))).ToArray();
        var start = new TaskCompletionSource();
        vault.Time.Participants = stores.Length;

        var racers = stores.Select((store, i) => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                return await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => $"key-from-instance-{i}", CancellationToken.None);
            }
            finally
            {
                vault.Time.Finished();
            }
        })).ToArray();
        start.SetResult();
        var values = await Task.WhenAll(racers);

        var value = Assert.Single(values.Distinct());
        Assert.Equal(value, vault.LatestValue("smp-link-signing-key"));
        Assert.Equal(value, await Store().GetAsync(SecretName.LinkSigningKey, CancellationToken.None));
    }

    [Fact]
    public async Task Invalid_names_and_values_are_refused_before_any_request()
    {
        var store = Store();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(default, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(default, "value", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetOrCreateAsync(default, () => "value", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(Update196, "", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentNullException>(() => store.SetAsync(Update196, null!, CancellationToken.None));
        Assert.False(SecretName.TryParse("smp_update.1", out _));

        Assert.Empty(vault.Requests);
        Assert.Empty(credential.Requests);
    }

    [Fact]
    public async Task Secret_values_and_the_token_never_reach_a_log_line()
    {
        using var capture = new AzureSdkLogCapture();
        const string Password = "Pa55-NEVER-LOGGED-7f3a";
        const string Key = "KEY-NEVER-LOGGED-91c2";
        var store = Store(
            logger: new FakeLogger<KeyVaultSecretStore>(capture.Collector),
            configure: o => o.Diagnostics.IsLoggingContentEnabled = true); // the store must switch this back off

        await store.SetAsync(Update196, Password, CancellationToken.None);
        Assert.Equal(Password, await store.GetAsync(Update196, CancellationToken.None));
        Assert.Equal(Key, await store.GetOrCreateAsync(SecretName.LinkSigningKey, () => Key, CancellationToken.None));
        Assert.Null(await store.GetAsync(SecretName.Parse("smp-update-0-1"), CancellationToken.None));

        var lines = capture.Lines;
        Assert.Contains(lines, l => l.Contains(vault.VaultUri.Authority, StringComparison.Ordinal)); // the SDK's request log was live
        Assert.Contains(lines, l => l.Contains("smp-update-1-96", StringComparison.Ordinal) && l.StartsWith("Smp.", StringComparison.Ordinal));
        Assert.All(lines, l =>
        {
            Assert.DoesNotContain(Password, l, StringComparison.Ordinal);
            Assert.DoesNotContain(Key, l, StringComparison.Ordinal);
            Assert.DoesNotContain(FakeKeyVault.Token, l, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_failing_vault_gives_an_error_that_names_the_secret_and_status_but_not_the_value()
    {
        const string Password = "Pa55-NOT-IN-ERRORS-5d1e";
        var store = Store();
        await store.SetAsync(Update196, Password, CancellationToken.None);
        vault.FailEverything = true; // and the error body repeats the value, as a misbehaving proxy might

        var onGet = await Assert.ThrowsAsync<SecretStoreException>(() => store.GetAsync(Update196, CancellationToken.None));
        var onSet = await Assert.ThrowsAsync<SecretStoreException>(() => store.SetAsync(Update196, Password, CancellationToken.None));
        var onCreate = await Assert.ThrowsAsync<SecretStoreException>(() => store.GetOrCreateAsync(Update196, () => Password, CancellationToken.None));

        foreach (var e in new[] { onGet, onSet, onCreate })
        {
            Assert.Contains("smp-update-1-96", e.Message, StringComparison.Ordinal);
            Assert.Contains("500", e.Message, StringComparison.Ordinal);
            Assert.Contains("InternalError", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Password, e.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_the_test_only_switch_a_challenge_from_a_look_alike_host_gets_no_token()
    {
        var store = new KeyVaultSecretStore(
            new KeyVaultSecretStoreOptions { VaultUri = vault.VaultUri, Credential = credential, Transport = vault.CreateTransport() },
            vault.Time,
            NullLogger<KeyVaultSecretStore>.Instance);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetAsync(Update196, CancellationToken.None));

        Assert.Contains("does not match the requested domain", e.Message, StringComparison.Ordinal);
        Assert.Empty(credential.Requests);
    }

    [Fact]
    public void The_vault_address_must_be_https() =>
        Assert.Throws<ArgumentException>(() => new KeyVaultSecretStore(
            new KeyVaultSecretStoreOptions { VaultUri = new Uri("http://127.0.0.1:1/"), Credential = credential },
            new SimulatedTime(),
            NullLogger<KeyVaultSecretStore>.Instance));

    private KeyVaultSecretStore Store(TimeSpan? settle = null, TimeSpan? quiet = null, FakeLogger<KeyVaultSecretStore>? logger = null, Action<SecretClientOptions>? configure = null) =>
        new(
            new KeyVaultSecretStoreOptions
            {
                VaultUri = vault.VaultUri,
                Credential = credential,
                Transport = vault.CreateTransport(),
                DisableChallengeResourceVerification = true,
                CreateSettleDelay = settle ?? TimeSpan.FromMilliseconds(50),
                CreateQuietPeriod = quiet ?? TimeSpan.Zero,
                ConfigureClient = o =>
                {
                    o.Retry.MaxRetries = 1;
                    o.Retry.Delay = TimeSpan.FromMilliseconds(10);
                    o.Retry.Mode = RetryMode.Fixed;
                    configure?.Invoke(o);
                },
            },
            vault.Time,
            logger ?? new FakeLogger<KeyVaultSecretStore>());
}
