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
using Microsoft.Extensions.Time.Testing;

namespace Smp.Azure.Tests.Mail;

/// <summary>How the stand-in checks the caller: an access key (HMAC-SHA256) or one bearer token.</summary>
internal abstract record FakeAcsAuth
{
    public sealed record AccessKey(byte[] Key) : FakeAcsAuth;

    public sealed record Bearer(string Token) : FakeAcsAuth;
}

/// <summary>One request as the stand-in received it.</summary>
internal sealed record RecordedRequest(
    string Method,
    string RawTarget,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>An answer scripted by a test.</summary>
internal sealed record ScriptedResponse(int Status, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    public static ScriptedResponse Error(int status, string code, string message, params (string Name, string Value)[] headers) =>
        new(status, headers.ToDictionary(h => h.Name, h => h.Value), JsonSerializer.Serialize(new { error = new { code, message } }));

    public static ScriptedResponse Throttled(string? retryAfter) =>
        new(429, retryAfter is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["Retry-After"] = retryAfter }, JsonSerializer.Serialize(new { error = new { code = "TooManyRequests", message = "Rate limit exceeded." } }));
}

/// <summary>
/// A local HTTPS stand-in for the ACS Email REST API (api-version 2025-09-01). It checks every request
/// the way the service does (path, api-version, authentication recomputed from the documented
/// algorithm, content hash, JSON shape, Operation-Id, the repeatability headers) and records any violation;
/// tests assert there were none. Answers follow <see cref="Script"/> when it returns one, else the service's
/// normal behaviour: 202 for a send, the recorded status (404 when none) for an operation. Like the service
/// (repeatable requests, OASIS Repeatable Requests 1.0 as ACS documents it), a send repeated with the same
/// <c>repeatability-request-id</c> and <c>repeatability-first-sent</c> within 5 minutes of that first-sent time
/// gets the first answer again and is not executed again (unless the first answer was a 5xx); an older
/// first-sent time is refused with 412.
/// </summary>
internal sealed class FakeAcsServer : IAsyncDisposable
{
    public const string ApiVersion = "2025-09-01";

    private readonly WebApplication app;
    private readonly FakeAcsAuth auth;
    private int disposed;

    private FakeAcsServer(WebApplication app, FakeAcsAuth auth, string thumbprint)
    {
        this.app = app;
        this.auth = auth;
        CertificateThumbprint = thumbprint;
    }

    /// <summary>Where the service's clock starts: a fixed instant, so that no test depends on the machine's clock.</summary>
    public static readonly DateTimeOffset StartTime = new(2026, 3, 20, 16, 0, 0, TimeSpan.Zero);

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>
    /// The service's clock (request dates, the repeatability window). Tests give the same clock to the adapter
    /// (<see cref="TestMail.AcsServices"/> does) and move both by advancing it.
    /// </summary>
    public FakeTimeProvider Time { get; } = new(StartTime);

    public string CertificateThumbprint { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>How long the service tracks a repeatable request after its first-sent time.</summary>
    public static readonly TimeSpan RepeatabilityWindow = TimeSpan.FromMinutes(5);

    /// <summary>The sends the service executed (a repeat answered from its first answer is not one), by Operation-Id.</summary>
    public ConcurrentQueue<string> Executed { get; } = new();

    private readonly ConcurrentDictionary<string, (string FirstSent, ScriptedResponse Answer)> repeatable = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Operation id to ACS status (NotStarted, Running, Succeeded, Failed, Canceled) and optional error.</summary>
    public ConcurrentDictionary<string, (string Status, string? ErrorCode, string? ErrorMessage)> Operations { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Func<RecordedRequest, ScriptedResponse?>? Script { get; set; }

    /// <summary>
    /// Holds the answer to a request until the returned task completes (the request has been received and acted
    /// on by then), so that a client can time out on an answer it never gets. No hold unless the test says so.
    /// </summary>
    public Func<RecordedRequest, Task>? HoldAnswer { get; set; }

    public static async Task<FakeAcsServer> StartAsync(FakeAcsAuth auth)
    {
        using var generated = CreateCertificate();
        var certificate = X509CertificateLoader.LoadPkcs12(generated.Export(X509ContentType.Pkcs12), password: null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var server = new FakeAcsServer(app, auth, certificate.GetCertHashString(HashAlgorithmName.SHA256));
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.Endpoint = new Uri(address + "/");
        return server;
    }

    /// <summary>A client handler that trusts this server's certificate, and only it (tests only).</summary>
    public HttpMessageHandler CreateTrustingHandler()
    {
        var thumbprint = CertificateThumbprint;
        return new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
                certificate is not null
                && (errors & ~(SslPolicyErrors.RemoteCertificateChainErrors)) == SslPolicyErrors.None
                && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), thumbprint, StringComparison.OrdinalIgnoreCase),
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var recorded = new RecordedRequest(
            context.Request.Method,
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            context.Request.Path.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray());
        Requests.Enqueue(recorded);

        var response = Check(recorded, context.Request.Host.Value ?? string.Empty) ?? Repeat(recorded) ?? Execute(recorded);
        if (HoldAnswer?.Invoke(recorded) is { } hold)
        {
            try
            {
                await hold.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // The client gave up waiting: the answer is lost, what was done stays done.
            }
        }

        context.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (response.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.Body);
        }
    }

    /// <summary>The service's checks; a failed one is recorded and answered as the service would.</summary>
    private ScriptedResponse? Check(RecordedRequest request, string host)
    {
        var query = request.RawTarget.Contains('?', StringComparison.Ordinal) ? request.RawTarget[(request.RawTarget.IndexOf('?', StringComparison.Ordinal) + 1)..] : string.Empty;
        if (query != "api-version=" + ApiVersion)
        {
            return Violation(400, "MissingApiVersionParameter", $"query is '{query}'");
        }

        if (Authenticate(request, host) is { } authProblem)
        {
            return Violation(401, "Denied", authProblem);
        }

        if (request.Method == "POST" && request.Path == "/emails:send")
        {
            if (request.Header("Content-Type") is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            {
                return Violation(415, "UnsupportedMediaType", $"content type '{request.Header("Content-Type")}'");
            }

            if (request.Header("Operation-Id") is not { } operationId || !Guid.TryParseExact(operationId, "D", out _))
            {
                return Violation(400, "InvalidOperationId", $"Operation-Id '{request.Header("Operation-Id")}'");
            }

            if (request.Header("repeatability-request-id") is not { } repeatId || !Guid.TryParse(repeatId, out _))
            {
                return Violation(400, "InvalidRepeatabilityRequestId", $"repeatability-request-id '{request.Header("repeatability-request-id")}'");
            }

            if (request.Header("repeatability-first-sent") is not { } firstSentText
                || !DateTimeOffset.TryParseExact(firstSentText, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var firstSent))
            {
                return Violation(400, "InvalidRepeatabilityFirstSent", $"repeatability-first-sent '{request.Header("repeatability-first-sent")}' is not an IMF-fixdate");
            }

            if (Time.GetUtcNow() - firstSent > RepeatabilityWindow)
            {
                // Not a client error the service records against the caller: it is the documented answer.
                return ScriptedResponse.Error(412, "PreconditionFailed", "Repeatability first sent header not within 5 minute window.");
            }

            return CheckMessage(request.Body) is { } shapeProblem ? Violation(400, "BadRequest", shapeProblem) : null;
        }

        if (request.Method == "GET" && request.Path.StartsWith("/emails/operations/", StringComparison.Ordinal))
        {
            return request.Body.Length == 0 ? null : Violation(400, "BadRequest", "GET with a body");
        }

        return Violation(404, "NotFound", $"{request.Method} {request.Path}");
    }

    private string? Authenticate(RecordedRequest request, string host)
    {
        var authorization = request.Header("Authorization");
        if (auth is FakeAcsAuth.Bearer bearer)
        {
            return authorization == "Bearer " + bearer.Token ? null : "wrong or missing bearer token";
        }

        var key = ((FakeAcsAuth.AccessKey)auth).Key;
        var date = request.Header("x-ms-date");
        var contentHash = request.Header("x-ms-content-sha256");
        if (date is null || contentHash is null || authorization is null)
        {
            return "x-ms-date, x-ms-content-sha256 or Authorization missing";
        }

        if (!DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var sentAt)
            || (Time.GetUtcNow() - sentAt).Duration() > TimeSpan.FromMinutes(15))
        {
            return $"x-ms-date '{date}' is not an RFC 1123 date within 15 minutes of now";
        }

        if (contentHash != Convert.ToBase64String(SHA256.HashData(request.Body)))
        {
            return "x-ms-content-sha256 does not match the body";
        }

        // Recomputed from the documented algorithm, from what arrived on the wire.
        var stringToSign = request.Method + "\n" + request.RawTarget + "\n" + date + ";" + host + ";" + contentHash;
        using var hmac = new HMACSHA256(key);
        var expected = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
            + Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        return authorization == expected ? null : "signature does not match";
    }

    /// <summary>The EmailMessage shape the client must send: known properties only, with the right types.</summary>
    private static string? CheckMessage(byte[] body)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return "body is not JSON";
        }

        string[] allowed = ["senderAddress", "recipients", "content", "replyTo", "userEngagementTrackingDisabled"];
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "body is not an object";
        }

        if (root.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !allowed.Contains(n)) is { } unknown)
        {
            return $"unexpected property '{unknown}'";
        }

        if (!root.TryGetProperty("senderAddress", out var sender) || sender.ValueKind != JsonValueKind.String)
        {
            return "senderAddress missing";
        }

        if (!root.TryGetProperty("recipients", out var recipients)
            || !recipients.TryGetProperty("to", out var to)
            || to.ValueKind != JsonValueKind.Array
            || to.GetArrayLength() == 0
            || to.EnumerateArray().Any(a => !IsAddress(a)))
        {
            return "recipients.to missing, empty or malformed";
        }

        if (!root.TryGetProperty("content", out var content)
            || !content.TryGetProperty("subject", out var subject) || subject.ValueKind != JsonValueKind.String
            || !content.TryGetProperty("plainText", out var plain) || plain.ValueKind != JsonValueKind.String
            || !content.TryGetProperty("html", out var html) || html.ValueKind != JsonValueKind.String)
        {
            return "content.subject, content.plainText or content.html missing";
        }

        if (root.TryGetProperty("replyTo", out var replyTo)
            && (replyTo.ValueKind != JsonValueKind.Array || replyTo.EnumerateArray().Any(a => !IsAddress(a))))
        {
            return "replyTo malformed";
        }

        if (!root.TryGetProperty("userEngagementTrackingDisabled", out var tracking) || tracking.ValueKind != JsonValueKind.True)
        {
            return "userEngagementTrackingDisabled is not true";
        }

        return null;

        static bool IsAddress(JsonElement a) =>
            a.ValueKind == JsonValueKind.Object && a.TryGetProperty("address", out var address) && address.ValueKind == JsonValueKind.String;
    }

    /// <summary>The first answer to a repeat of a tracked send, or null when the send is not a repeat.</summary>
    private ScriptedResponse? Repeat(RecordedRequest request)
    {
        if (request.Method != "POST" || !repeatable.TryGetValue(request.Header("repeatability-request-id")!, out var first))
        {
            return null;
        }

        if (Time.GetUtcNow() - DateTimeOffset.ParseExact(first.FirstSent, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) > RepeatabilityWindow)
        {
            repeatable.TryRemove(request.Header("repeatability-request-id")!, out _);
            return null; // No longer tracked: a new request.
        }

        if (!string.Equals(first.FirstSent, request.Header("repeatability-first-sent"), StringComparison.Ordinal))
        {
            return Violation(400, "BadRequest", "a repeat whose repeatability-first-sent differs from its first request");
        }

        return first.Answer;
    }

    private ScriptedResponse Execute(RecordedRequest request)
    {
        var answer = Script?.Invoke(request) ?? Default(request);
        if (request.Method == "POST")
        {
            Executed.Enqueue(request.Header("Operation-Id")!);
            if (answer.Status < 500)
            {
                repeatable.TryAdd(request.Header("repeatability-request-id")!, (request.Header("repeatability-first-sent")!, answer));
            }
        }

        return answer;
    }

    private ScriptedResponse Default(RecordedRequest request)
    {
        if (request.Method == "POST")
        {
            var id = request.Header("Operation-Id")!;
            Operations.TryAdd(id, ("Running", null, null));
            return new ScriptedResponse(
                202,
                new Dictionary<string, string>
                {
                    ["Operation-Location"] = $"{Endpoint}emails/operations/{id}?api-version={ApiVersion}",
                    ["Retry-After"] = "1",
                },
                JsonSerializer.Serialize(new { id, status = "Running" }));
        }

        var operationId = request.Path["/emails/operations/".Length..];
        if (!Operations.TryGetValue(operationId, out var operation))
        {
            return ScriptedResponse.Error(404, "NotFound", "Operation not found.");
        }

        object payload = operation.ErrorCode is null
            ? new { id = operationId, status = operation.Status }
            : new { id = operationId, status = operation.Status, error = new { code = operation.ErrorCode, message = operation.ErrorMessage } };
        return new ScriptedResponse(200, new Dictionary<string, string>(), JsonSerializer.Serialize(payload));
    }

    private ScriptedResponse Violation(int status, string code, string detail)
    {
        Violations.Enqueue(detail);
        return ScriptedResponse.Error(status, code, "Request rejected by the test server.");
    }
}
