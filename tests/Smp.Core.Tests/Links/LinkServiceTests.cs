using System.Collections.Concurrent;
using NodaTime;
using NodaTime.Testing;
using Smp.Core.Links;
using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Links;

public class LinkServiceTests
{
    private static readonly Serial Serial = Serial.Parse("vt-12345");
    private static readonly UpdateVersion Version = UpdateVersion.Parse("1.96");
    private static readonly Instant Now = Instant.FromUtc(2027, 1, 10, 8, 30, 15) + Duration.FromMilliseconds(250);

    private readonly FakeClock clock = new(Now);
    private readonly CountingSecretStore store = new();

    private LinkService Service(string baseUrl = "https://smp.example.com", int days = 7) =>
        new(store, clock, new LinkOptions(new Uri(baseUrl), days));

    [Fact]
    public async Task The_link_points_at_the_password_route_with_serial_expiry_and_signature()
    {
        var link = await Service().CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        var expires = Instant.FromUtc(2027, 1, 17, 8, 30, 15);
        Assert.Equal(expires, link.ExpiresAt);
        Assert.StartsWith(
            $"https://smp.example.com/api/updates/1.96/password?serial=VT-12345&expires={expires.ToUnixTimeSeconds()}&sig=",
            link.Url.AbsoluteUri,
            StringComparison.Ordinal);
        Assert.Equal(LinkService.KeyIdLength + 1 + LinkSigner.SignatureLength, Query(link)["sig"].Length);
    }

    [Theory]
    [InlineData("https://smp.example.com/", "https://smp.example.com/api/updates/")]
    [InlineData("https://example.com/smp", "https://example.com/smp/api/updates/")]
    [InlineData("https://example.com/smp/", "https://example.com/smp/api/updates/")]
    [InlineData("http://localhost:7071", "http://localhost:7071/api/updates/")]
    public async Task The_base_url_may_carry_a_path_and_a_trailing_slash(string baseUrl, string expectedStart)
    {
        var link = await Service(baseUrl).CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        Assert.StartsWith(expectedStart, link.Url.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_created_link_verifies_until_it_expires()
    {
        var service = Service(days: 3);
        var link = await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);
        var query = Query(link);
        Assert.True(LinkSigner.TryParseExpires(query["expires"], out var expires));
        var serial = Serial.Parse(query["serial"]);

        Assert.IsType<LinkCheck.Valid>(await service.VerifyPasswordLinkAsync(serial, Version, expires, query["sig"], CancellationToken.None));

        clock.Reset(expires - Duration.Epsilon);
        Assert.IsType<LinkCheck.Valid>(await service.VerifyPasswordLinkAsync(serial, Version, expires, query["sig"], CancellationToken.None));

        clock.Reset(expires);
        Assert.IsType<LinkCheck.Expired>(await service.VerifyPasswordLinkAsync(serial, Version, expires, query["sig"], CancellationToken.None));
        Assert.IsType<LinkCheck.BadSignature>(await service.VerifyPasswordLinkAsync(Serial.Parse("VT-99"), Version, expires, query["sig"], CancellationToken.None));
    }

    [Fact]
    public async Task The_key_is_created_once_as_32_random_bytes_and_then_read_from_memory()
    {
        var service = Service();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None)));
        await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        Assert.Equal(1, store.GetOrCreateCalls);
        var key = store.Values[SecretName.LinkSigningKey.Value];
        Assert.Equal(32, Convert.FromBase64String(key).Length);
    }

    [Fact]
    public async Task An_existing_key_is_used_and_another_service_on_the_same_store_verifies_its_links()
    {
        store.Values[SecretName.LinkSigningKey.Value] = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());
        var link = await Service().CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);
        var query = Query(link);

        var verdict = await Service().VerifyPasswordLinkAsync(Serial, Version, link.ExpiresAt, query["sig"], CancellationToken.None);

        Assert.IsType<LinkCheck.Valid>(verdict);
    }

    [Fact]
    public async Task A_key_that_is_not_base64_of_32_bytes_fails_without_showing_the_key()
    {
        const string Short = "c2hvcnQta2V5LXZhbHVl";
        store.Values[SecretName.LinkSigningKey.Value] = Short;

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Service().CreatePasswordLinkAsync(Serial, Version, CancellationToken.None));

        Assert.Contains("smp-link-signing-key", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Short, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_key_load_is_tried_again_on_the_next_call()
    {
        store.FailNext = true;
        var service = Service();

        await Assert.ThrowsAsync<SecretStoreException>(() => service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None));
        var link = await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        Assert.NotNull(link);
        Assert.Equal(2, store.GetOrCreateCalls);
    }

    [Fact]
    public async Task The_link_prints_without_its_signature()
    {
        var link = await Service().CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        var text = link.ToString();

        Assert.DoesNotContain(Query(link)["sig"], text, StringComparison.Ordinal);
        Assert.DoesNotContain(store.Values[SecretName.LinkSigningKey.Value], text, StringComparison.Ordinal);
        Assert.Contains("/api/updates/1.96/password", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spec5_a_link_carries_the_id_of_the_key_that_signed_it()
    {
        var link = await Service().CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        var sig = Query(link)["sig"];
        var key = Convert.FromBase64String(store.Values[SecretName.LinkSigningKey.Value]);
        Assert.Equal(new LinkSigner(key).KeyId + ".", sig[..(LinkService.KeyIdLength + 1)]);
        Assert.DoesNotContain(store.Values[SecretName.LinkSigningKey.Value], link.Url.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spec5_after_a_rotation_new_links_use_the_newest_key_and_links_under_the_older_key_keep_verifying()
    {
        var service = Service();
        var before = await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        await store.SetAsync(SecretName.LinkSigningKey, NewKey(9), CancellationToken.None); // the rotation
        clock.Advance(LinkService.RefreshInterval);
        var after = await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        Assert.NotEqual(KeyIdOf(before), KeyIdOf(after));
        Assert.Equal(new LinkSigner(Convert.FromBase64String(NewKey(9))).KeyId, KeyIdOf(after));
        Assert.IsType<LinkCheck.Valid>(await Verify(service, before));
        Assert.IsType<LinkCheck.Valid>(await Verify(service, after));
        Assert.IsType<LinkCheck.Valid>(await Verify(Service(), before));
    }

    [Fact]
    public async Task Spec5_an_instance_verifies_at_once_a_link_signed_with_a_key_created_after_it_loaded_its_keys()
    {
        var verifier = Service();
        await verifier.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);
        await store.SetAsync(SecretName.LinkSigningKey, NewKey(5), CancellationToken.None);
        clock.Advance(LinkService.UnknownKeyReloadInterval);
        var signer = Service(); // another instance, started after the rotation
        var link = await signer.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);

        Assert.IsType<LinkCheck.Valid>(await Verify(verifier, link));
    }

    [Fact]
    public async Task Spec5_links_with_unknown_key_ids_do_not_make_every_request_read_the_store()
    {
        var service = Service();
        var link = await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);
        var forged = "ZZZZZZZZ." + Query(link)["sig"][(LinkService.KeyIdLength + 1)..];
        var reads = store.VersionReads;

        for (var i = 0; i < 20; i++)
        {
            Assert.IsType<LinkCheck.BadSignature>(await service.VerifyPasswordLinkAsync(Serial, Version, link.ExpiresAt, forged, CancellationToken.None));
        }

        Assert.True(store.VersionReads - reads <= 1, $"{store.VersionReads - reads} reads");
    }

    [Fact]
    public async Task Spec5_a_retired_key_stops_verifying_its_links_once_the_keys_are_refreshed()
    {
        var service = Service();
        var before = await service.CreatePasswordLinkAsync(Serial, Version, CancellationToken.None);
        var oldKey = store.Values[SecretName.LinkSigningKey.Value];
        await store.SetAsync(SecretName.LinkSigningKey, NewKey(3), CancellationToken.None);
        store.Retire(SecretName.LinkSigningKey, oldKey);

        clock.Advance(LinkService.RefreshInterval);

        Assert.IsType<LinkCheck.BadSignature>(await Verify(service, before));
    }

    [Fact]
    public async Task Spec5_a_link_mailed_before_key_ids_keeps_verifying_until_its_expiry_even_after_a_rotation()
    {
        var key = NewKey(1);
        store.Values[SecretName.LinkSigningKey.Value] = key;
        var expires = Instant.FromUnixTimeSeconds(Now.Plus(Duration.FromDays(7)).ToUnixTimeSeconds());
        var legacy = new LinkSigner(Convert.FromBase64String(key)).Sign(Serial, Version, expires);
        var service = Service();
        await store.SetAsync(SecretName.LinkSigningKey, NewKey(2), CancellationToken.None);

        Assert.IsType<LinkCheck.Valid>(await service.VerifyPasswordLinkAsync(Serial, Version, expires, legacy, CancellationToken.None));
        clock.Reset(expires);
        Assert.IsType<LinkCheck.Expired>(await service.VerifyPasswordLinkAsync(Serial, Version, expires, legacy, CancellationToken.None));
        Assert.IsType<LinkCheck.BadSignature>(await service.VerifyPasswordLinkAsync(Serial.Parse("VT-1"), Version, expires, legacy, CancellationToken.None));
    }

    private static string NewKey(int seed) => Convert.ToBase64String(Enumerable.Range(seed, 32).Select(i => (byte)i).ToArray());

    private static string KeyIdOf(CustomerLink link) => Query(link)["sig"][..LinkService.KeyIdLength];

    private static Task<LinkCheck> Verify(LinkService service, CustomerLink link) =>
        service.VerifyPasswordLinkAsync(Serial, Version, link.ExpiresAt, Query(link)["sig"], CancellationToken.None);

    [Theory]
    [InlineData("ftp://example.com", 7)]
    [InlineData("https://example.com?x=1", 7)]
    [InlineData("https://example.com", 0)]
    [InlineData("https://example.com", 366)]
    public void Bad_options_are_refused(string url, int days) =>
        Assert.ThrowsAny<ArgumentException>(() => new LinkOptions(new Uri(url), days));

    private static Dictionary<string, string> Query(CustomerLink link) =>
        link.Url.Query.TrimStart('?').Split('&')
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]), StringComparer.Ordinal);

    private sealed class CountingSecretStore : ISecretStore
    {
        private int getOrCreateCalls;

        public ConcurrentDictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

        public int GetOrCreateCalls => Volatile.Read(ref getOrCreateCalls);

        public bool FailNext { get; set; }

        public Task<string?> GetAsync(SecretName name, CancellationToken cancellationToken) =>
            Task.FromResult(Values.TryGetValue(name.Value, out var value) ? value : null);

        /// <summary>Enabled versions older than the current value, oldest first (a rotation keeps the replaced value).</summary>
        public ConcurrentDictionary<string, List<string>> Older { get; } = new(StringComparer.Ordinal);

        public int VersionReads => Volatile.Read(ref versionReads);

        private int versionReads;

        public Task SetAsync(SecretName name, string value, CancellationToken cancellationToken)
        {
            if (Values.TryGetValue(name.Value, out var previous))
            {
                Older.GetOrAdd(name.Value, _ => []).Add(previous);
            }

            Values[name.Value] = value;
            return Task.CompletedTask;
        }

        /// <summary>Disables an older version, as an operator retires a key.</summary>
        public void Retire(SecretName name, string value) => Older[name.Value].Remove(value);

        public Task<IReadOnlyList<string>> GetEnabledVersionsAsync(SecretName name, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref versionReads);
            var all = new List<string>();
            if (Values.TryGetValue(name.Value, out var current))
            {
                all.Add(current);
            }

            if (Older.TryGetValue(name.Value, out var older))
            {
                all.AddRange(Enumerable.Reverse(older));
            }

            return Task.FromResult<IReadOnlyList<string>>(all);
        }

        public async Task<string> GetOrCreateAsync(SecretName name, Func<string> create, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref getOrCreateCalls);
            await Task.Yield();
            if (FailNext)
            {
                FailNext = false;
                throw new SecretStoreException("The store is down.");
            }

            return Values.GetOrAdd(name.Value, _ => create());
        }
    }
}
