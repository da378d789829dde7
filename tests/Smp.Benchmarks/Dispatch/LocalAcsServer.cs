using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Smp.Benchmarks.Dispatch;

/// <summary>How the stand-in throttles: a quota per simulated minute, and random 429s on top.</summary>
/// <param name="QuotaPerMinute">Sends accepted per simulated minute before a 429 until the next minute; null for none.</param>
/// <param name="RandomRate">The share of sends answered 429 at random (0 for none).</param>
/// <param name="RandomRetryAfter">The <c>Retry-After</c> of a random 429.</param>
internal sealed record Throttling(int? QuotaPerMinute, double RandomRate, TimeSpan RandomRetryAfter, int Seed)
{
    public static Throttling None { get; } = new(null, 0, TimeSpan.Zero, 0);

    public string Description =>
        (QuotaPerMinute, RandomRate) switch
        {
            (null, <= 0) => "never throttles",
            ({ } quota, <= 0) => string.Create(CultureInfo.InvariantCulture, $"quota {quota}/min: 429 until the next minute"),
            (null, _) => string.Create(CultureInfo.InvariantCulture, $"{RandomRate:P0} of sends get 429, Retry-After {RandomRetryAfter.TotalSeconds:F0} s"),
            ({ } quota, _) => string.Create(CultureInfo.InvariantCulture,
                $"quota {quota}/min, and {RandomRate:P0} of sends get 429 with Retry-After {RandomRetryAfter.TotalSeconds:F0} s"),
        };
}

/// <summary>What the stand-in saw for one <c>Operation-Id</c>.</summary>
internal sealed class OperationLog
{
    /// <summary>Send requests received.</summary>
    public int Attempts { get; set; }

    /// <summary>Sends answered 202: the mail would have gone out this many times.</summary>
    public int Accepted { get; set; }

    public int Throttled { get; set; }

    /// <summary>Sends that came before the last 429's <c>Retry-After</c> had passed (simulated time).</summary>
    public int EarlyRetries { get; set; }

    public Instant? NotBefore { get; set; }
}

/// <summary>
/// A local HTTPS stand-in for the ACS Email send API (api-version 2025-09-01) for the dispatch benchmark. It
/// checks the access-key signature and the request shape, logs every send by <c>Operation-Id</c>, and throttles
/// by <see cref="Throttling"/> in the simulated time of <see cref="Clock"/>: a 429 carries <c>Retry-After</c>,
/// and a send of the same id before that time has passed is counted as an early retry.
/// </summary>
internal sealed class LocalAcsServer : IAsyncDisposable
{
    public const string ApiVersion = "2025-09-01";

    private readonly WebApplication app;
    private readonly byte[] accessKey;
    private readonly string certificateHash;
    private readonly Lock gate = new();
    private readonly Dictionary<Instant, int> acceptedPerMinute = [];
    private readonly Dictionary<Instant, int> sendsPerMinute = [];
    private Random random = new(0);
    private Throttling throttling = Throttling.None;

    private LocalAcsServer(WebApplication app, byte[] accessKey, string certificateHash)
    {
        this.app = app;
        this.accessKey = accessKey;
        this.certificateHash = certificateHash;
    }

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The simulated time the throttling follows (the dispatcher's clock).</summary>
    public IClock Clock { get; set; } = SystemClock.Instance;

    /// <summary>Send requests by Operation-Id.</summary>
    public ConcurrentDictionary<string, OperationLog> Operations { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Requests the real service would refuse (bad signature, path, shape): none is expected.</summary>
    public ConcurrentQueue<string> Rejections { get; } = new();

    /// <summary>The most send requests (accepted or not) received in one simulated minute.</summary>
    public int MaxSendsInOneMinute
    {
        get
        {
            lock (gate)
            {
                return sendsPerMinute.Count == 0 ? 0 : sendsPerMinute.Values.Max();
            }
        }
    }

    public string ConnectionString => $"endpoint={Endpoint};accesskey={Convert.ToBase64String(accessKey)}";

    public static async Task<LocalAcsServer> StartAsync()
    {
        var accessKey = RandomNumberGenerator.GetBytes(32);
        using var certificate = SelfSignedLoopbackCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null))));
        var app = builder.Build();
        var server = new LocalAcsServer(app, accessKey, certificate.GetCertHashString(HashAlgorithmName.SHA256));
        app.MapPost("/emails:send", (Func<HttpContext, Task<IResult>>)server.SendAsync);
        app.MapGet("/emails/operations/{id}", (Func<HttpContext, string, IResult>)server.Status);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Forgets every operation and applies <paramref name="policy"/> from now on.</summary>
    public void Reset(Throttling policy)
    {
        lock (gate)
        {
            Operations.Clear();
            Rejections.Clear();
            acceptedPerMinute.Clear();
            sendsPerMinute.Clear();
            throttling = policy;
            random = new Random(policy.Seed);
        }
    }

    /// <summary>A client handler that accepts this server's self-signed certificate and no other.</summary>
    public HttpMessageHandler CreateClientHandler() => new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null
                && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), certificateHash, StringComparison.OrdinalIgnoreCase),
        },
    };

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static X509Certificate2 SelfSignedLoopbackCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = new { code, message } }, statusCode: status);

    private async Task<IResult> SendAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        if (Refusal(context, body) is { } refusal)
        {
            Rejections.Enqueue(refusal);
            return Error(StatusCodes.Status400BadRequest, "BadRequest", refusal);
        }

        var operationId = context.Request.Headers["Operation-Id"].ToString();
        lock (gate)
        {
            var now = Clock.GetCurrentInstant();
            var log = Operations.GetOrAdd(operationId, _ => new OperationLog());
            log.Attempts++;
            if (log.NotBefore is { } notBefore && now < notBefore)
            {
                log.EarlyRetries++;
            }

            var minute = Instant.FromUnixTimeSeconds(now.ToUnixTimeSeconds() / 60 * 60);
            sendsPerMinute[minute] = sendsPerMinute.GetValueOrDefault(minute) + 1;
            var acceptedThisMinute = acceptedPerMinute.GetValueOrDefault(minute);
            TimeSpan? retryAfter = null;
            if (throttling.QuotaPerMinute is { } quota && acceptedThisMinute >= quota)
            {
                retryAfter = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((minute + Duration.FromMinutes(1) - now).TotalSeconds)));
            }
            else if (throttling.RandomRate > 0 && random.NextDouble() < throttling.RandomRate)
            {
                retryAfter = throttling.RandomRetryAfter;
            }

            if (retryAfter is { } wait)
            {
                log.Throttled++;
                log.NotBefore = now + Duration.FromTimeSpan(wait);
                context.Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                return Error(StatusCodes.Status429TooManyRequests, "TooManyRequests", "The sending quota is used up; retry after the time given.");
            }

            log.Accepted++;
            acceptedPerMinute[minute] = acceptedThisMinute + 1;
        }

        context.Response.Headers["Operation-Location"] = $"{Endpoint}emails/operations/{operationId}?api-version={ApiVersion}";
        return Results.Json(new { id = operationId, status = "Running" }, statusCode: StatusCodes.Status202Accepted);
    }

    private IResult Status(HttpContext context, string id)
    {
        if (Refusal(context, []) is { } refusal)
        {
            Rejections.Enqueue(refusal);
            return Error(StatusCodes.Status400BadRequest, "BadRequest", refusal);
        }

        return Operations.TryGetValue(id, out var log) && log.Accepted > 0
            ? Results.Json(new { id, status = "Succeeded" })
            : Error(StatusCodes.Status404NotFound, "NotFound", "No operation has this id.");
    }

    /// <summary>Why the real service would refuse the request, or null: api-version, signature, Operation-Id, body shape.</summary>
    private string? Refusal(HttpContext context, byte[] body)
    {
        var request = context.Request;
        if (request.Query["api-version"] != ApiVersion)
        {
            return "api-version missing or wrong";
        }

        var date = request.Headers["x-ms-date"].ToString();
        var hash = request.Headers["x-ms-content-sha256"].ToString();
        if (!string.Equals(hash, Convert.ToBase64String(SHA256.HashData(body)), StringComparison.Ordinal))
        {
            return "x-ms-content-sha256 is not the body's hash";
        }

        var pathAndQuery = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToUriComponent() + request.QueryString.ToUriComponent();
        var signed = $"{request.Method}\n{pathAndQuery}\n{date};{request.Host.ToUriComponent()};{hash}";
        var expected = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
            + Convert.ToBase64String(HMACSHA256.HashData(accessKey, Encoding.UTF8.GetBytes(signed)));
        if (!string.Equals(request.Headers.Authorization.ToString(), expected, StringComparison.Ordinal))
        {
            return "signature does not verify";
        }

        if (HttpMethods.IsGet(request.Method))
        {
            return null;
        }

        if (!Guid.TryParseExact(request.Headers["Operation-Id"].ToString(), "D", out _))
        {
            return "Operation-Id is not a GUID";
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            return root.TryGetProperty("senderAddress", out _)
                && root.TryGetProperty("recipients", out var recipients) && recipients.TryGetProperty("to", out var to) && to.GetArrayLength() > 0
                && root.TryGetProperty("content", out var content) && content.TryGetProperty("subject", out _)
                ? null
                : "the message lacks sender, recipients or content";
        }
        catch (JsonException)
        {
            return "the body is not JSON";
        }
    }
}
