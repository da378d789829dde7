using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Smp.Azure.Tests.Secrets;

/// <summary>
/// A local HTTPS server that speaks the part of the Key Vault secrets REST protocol the SDK's
/// <c>SecretClient</c> uses: the bearer challenge, <c>PUT /secrets/{name}</c>, <c>GET /secrets/{name}</c>
/// (latest), <c>GET /secrets/{name}/{version}</c> and <c>GET /secrets/{name}/versions</c>. Its
/// certificate is made in-process and trusted only by the transport it hands out.
/// </summary>
public sealed class FakeKeyVault : IAsyncDisposable
{
    public const string Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string Token = "fixed-test-token";
    public const string Challenge = $"Bearer authorization=\"https://login.microsoftonline.com/{Tenant}\", resource=\"https://vault.azure.net\"";

    private readonly WebApplication app;
    private readonly X509Certificate2 certificate;
    private readonly ConcurrentDictionary<string, List<StoredVersion>> secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<ReceivedRequest> requests = new();
    private readonly Lock gate = new();

    private FakeKeyVault(WebApplication app, X509Certificate2 certificate)
    {
        this.app = app;
        this.certificate = certificate;
    }

    public Uri VaultUri { get; private set; } = null!;

    /// <summary>
    /// The vault's clock: it stamps versions (in whole seconds, as Key Vault does) and answers with it as its
    /// <c>Date</c> header. Tests hand the same clock to the store.
    /// </summary>
    public SimulatedTime Time { get; } = new();

    /// <summary>Every request, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. requests];

    /// <summary>When set, every secrets request fails with 500, and the error body repeats the last value written.</summary>
    public bool FailEverything { get; set; }

    /// <summary>When set, the first PUT of a secret is preceded by a version with this value, one second older (another creator won).</summary>
    public string? EarlierCreatorValue { get; set; }

    public static async Task<FakeKeyVault> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var vault = new FakeKeyVault(app, certificate);
        app.Run(vault.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        vault.VaultUri = new Uri(address.EndsWith('/') ? address : address + "/");
        return vault;
    }

    /// <summary>A transport that trusts this server's certificate (by SHA-256 thumbprint) and nothing else.</summary>
    public HttpPipelineTransport CreateTransport()
    {
        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
#pragma warning disable CA2000 // The transport owns the handler for the life of the test.
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
                presented is not null && string.Equals(presented.GetCertHashString(HashAlgorithmName.SHA256), thumbprint, StringComparison.OrdinalIgnoreCase),
        };
#pragma warning restore CA2000
        return new HttpClientTransport(handler);
    }

    /// <summary>The value of the latest version of a secret, or null.</summary>
    public string? LatestValue(string name)
    {
        lock (gate)
        {
            return secrets.TryGetValue(name, out var versions) && versions.Count > 0 ? versions[^1].Value : null;
        }
    }

    /// <summary>Disables the versions holding <paramref name="value"/>, as an operator retires a key (<c>az keyvault secret set-attributes --enabled false</c>).</summary>
    public void Disable(string name, string value)
    {
        lock (gate)
        {
            var versions = secrets[name];
            for (var i = 0; i < versions.Count; i++)
            {
                if (versions[i].Value == value)
                {
                    versions[i] = versions[i] with { Enabled = false };
                }
            }
        }
    }

    public int VersionCount(string name)
    {
        lock (gate)
        {
            return secrets.TryGetValue(name, out var versions) ? versions.Count : 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        certificate.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: false));
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // Kestrel wants a certificate whose key it can use on every platform: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var authorization = request.Headers.Authorization.ToString();
        requests.Enqueue(new ReceivedRequest(request.Method, request.Path.Value ?? string.Empty, request.Query["api-version"].ToString(), authorization, body, Time.GetUtcNow()));

        if (!string.Equals(authorization, $"Bearer {Token}", StringComparison.Ordinal))
        {
            context.Response.Headers.WWWAuthenticate = Challenge;
            await Error(context, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            return;
        }

        if (string.IsNullOrEmpty(request.Query["api-version"]))
        {
            await Error(context, 400, "BadParameter", "The api-version query parameter is missing.");
            return;
        }

        if (FailEverything)
        {
            string? last;
            lock (gate)
            {
                last = secrets.Values.SelectMany(v => v).Select(v => v.Value).LastOrDefault();
            }

            await Error(context, 500, "InternalError", $"Something broke while handling '{last}'.");
            return;
        }

        // /secrets/{name}, /secrets/{name}/, /secrets/{name}/versions, /secrets/{name}/{version}
        var segments = (request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length is < 2 or > 3 || segments[0] != "secrets")
        {
            await Error(context, 404, "NotFound", "No such route in this test vault.");
            return;
        }

        var name = segments[1];
        switch (request.Method, segments.Length == 3 ? segments[2] : null)
        {
            case ("PUT", null):
                await PutAsync(context, name, body);
                break;
            case ("GET", null):
                await GetAsync(context, name, version: null);
                break;
            case ("GET", "versions"):
                await ListVersionsAsync(context, name);
                break;
            case ("GET", { } version):
                await GetAsync(context, name, version);
                break;
            default:
                await Error(context, 405, "BadRequest", "Method not allowed in this test vault.");
                break;
        }
    }

    private async Task PutAsync(HttpContext context, string name, string body)
    {
        if (name.Length > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            await Error(context, 400, "BadParameter", "The secret name is invalid.");
            return;
        }

        var json = JsonNode.Parse(body)!.AsObject();
        var tags = json["tags"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal) ?? [];
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        StoredVersion stored;
        lock (gate)
        {
            var versions = secrets.GetOrAdd(name, _ => []);
            if (versions.Count == 0 && EarlierCreatorValue is { } earlier)
            {
                versions.Add(new StoredVersion(NewVersionId(), earlier, "text/plain", tags, now - 1));
            }

            stored = new StoredVersion(NewVersionId(), json["value"]!.GetValue<string>(), json["contentType"]?.GetValue<string>(), tags, now);
            versions.Add(stored);
        }

        await Json(context, 200, Bundle(name, stored, includeValue: true));
    }

    private async Task GetAsync(HttpContext context, string name, string? version)
    {
        StoredVersion? found;
        lock (gate)
        {
            found = secrets.TryGetValue(name, out var versions)
                ? version is null ? versions.LastOrDefault() : versions.FirstOrDefault(v => v.Id == version)
                : null;
        }

        if (found is null)
        {
            await Error(context, 404, "SecretNotFound", $"A secret with (name/id) {name}{(version is null ? string.Empty : "/" + version)} was not found in this key vault.");
            return;
        }

        if (!found.Enabled)
        {
            await Error(context, 403, "Forbidden", "Operation get is not allowed on a disabled secret.");
            return;
        }

        await Json(context, 200, Bundle(name, found, includeValue: true));
    }

    private async Task ListVersionsAsync(HttpContext context, string name)
    {
        JsonArray items;
        lock (gate)
        {
            items = secrets.TryGetValue(name, out var versions)
                ? [.. versions.Select(v => (JsonNode)Bundle(name, v, includeValue: false))]
                : [];
        }

        await Json(context, 200, new JsonObject { ["value"] = items, ["nextLink"] = null });
    }

    private JsonObject Bundle(string name, StoredVersion version, bool includeValue)
    {
        var bundle = new JsonObject
        {
            ["id"] = $"{VaultUri.AbsoluteUri.TrimEnd('/')}/secrets/{name}/{version.Id}",
            ["attributes"] = new JsonObject
            {
                ["enabled"] = version.Enabled,
                ["created"] = version.Created,
                ["updated"] = version.Created,
                ["recoveryLevel"] = "Recoverable+Purgeable",
                ["recoverableDays"] = 90,
            },
            ["tags"] = new JsonObject([.. version.Tags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))]),
        };
        if (version.ContentType is not null)
        {
            bundle["contentType"] = version.ContentType;
        }

        if (includeValue)
        {
            bundle["value"] = version.Value;
        }

        return bundle;
    }

    private static string NewVersionId() => Guid.NewGuid().ToString("N");

    private Task Error(HttpContext context, int status, string code, string message) =>
        Json(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private async Task Json(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Date = Time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers["x-ms-request-id"] = Guid.NewGuid().ToString();
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions(JsonSerializerDefaults.Web)), context.RequestAborted);
    }

    public sealed record ReceivedRequest(string Method, string Path, string ApiVersion, string Authorization, string Body, DateTimeOffset At);

    private sealed record StoredVersion(string Id, string Value, string? ContentType, Dictionary<string, string> Tags, long Created)
    {
        public bool Enabled { get; init; } = true;
    }
}

/// <summary>A credential that hands out one fixed token and remembers what it was asked for.</summary>
public sealed class FakeCredential : TokenCredential
{
    private readonly ConcurrentQueue<TokenRequestContext> requests = new();

    public IReadOnlyList<TokenRequestContext> Requests => [.. requests];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        requests.Enqueue(requestContext);
        // The SDK caches the token by the machine's clock, which these tests do not control: it never expires.
        return new AccessToken(FakeKeyVault.Token, DateTimeOffset.MaxValue.AddYears(-1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
