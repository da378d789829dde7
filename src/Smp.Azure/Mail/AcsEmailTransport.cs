using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using NodaTime;
using Smp.Core.Mail;

namespace Smp.Azure.Mail;

/// <summary>
/// Sends mail through the ACS Email REST API (api-version 2025-09-01) with a plain
/// <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the ACS endpoint and whose
/// handlers authenticate each request. The mail id goes out as <c>Operation-Id</c>, so the operation
/// that ACS creates for a send can be looked up by the outbox id later.
/// </summary>
public sealed class AcsEmailTransport : IMailTransport
{
    public const string ApiVersion = "2025-09-01";

    /// <summary>Wait used when a 429 comes without a usable <c>Retry-After</c>.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromMinutes(1);

    private const int MaxErrorLength = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient http;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<AcsEmailTransport> logger;
    private readonly Uri endpoint;

    public AcsEmailTransport(HttpClient httpClient, TimeProvider timeProvider, ILogger<AcsEmailTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        http = httpClient;
        this.timeProvider = timeProvider;
        this.logger = logger;
        endpoint = httpClient.BaseAddress ?? throw new ArgumentException("The HttpClient needs the ACS endpoint as its BaseAddress.", nameof(httpClient));
    }

    /// <summary>A send that is its own first attempt.</summary>
    public Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken) =>
        SendAsync(mail, Instant.FromDateTimeOffset(timeProvider.GetUtcNow()), cancellationToken);

    /// <summary>
    /// Sends with the repeatability headers ACS documents for <c>emails:send</c>: <c>repeatability-request-id</c> is the
    /// mail id (a GUID, like <c>Operation-Id</c>) and <c>repeatability-first-sent</c> the first attempt's instant as an
    /// IMF-fixdate (RFC 1123), so that ACS answers a repeat of a send it took with that send's answer instead of
    /// sending again.
    /// </summary>
    public async Task<MailSendResult> SendAsync(OutgoingMail mail, Instant firstAttemptAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        var body = JsonSerializer.SerializeToUtf8Bytes(SendRequest.From(mail), Json);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "/emails:send?api-version=" + ApiVersion))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Operation-Id", mail.Id);
        request.Headers.TryAddWithoutValidation("repeatability-request-id", mail.Id);
        request.Headers.TryAddWithoutValidation("repeatability-first-sent", firstAttemptAt.ToDateTimeOffset().ToString("r", CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("x-ms-client-request-id", Guid.NewGuid().ToString("D"));

        var result = await ExchangeAsync(request, mail.Id, async (response, ct) =>
        {
            if (response.IsSuccessStatusCode)
            {
                await LogAcceptedAsync(mail.Id, response, ct);
                return new MailSendResult.Accepted();
            }

            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                // An operation with this id may exist already (an earlier attempt whose answer was lost): what ACS
                // knows about it is the truth about this mail. ACS also answers 409 to a repeat of a request still in
                // progress (repeatable requests), whose operation may not exist yet: ACS may still deliver it, so
                // the outcome is in doubt, asked about again later, never a failure that invites a second copy.
                var error = await DescribeErrorAsync(response, ct);
                var status = await GetStatusAsync(mail.Id, ct);
                return status is MailSendResult.Unknown
                    ? new MailSendResult.TransientFailure($"{error} (a repeat of a send still in progress; outcome unknown)")
                    : status;
            }

            if (response.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                // ACS no longer tracks a first attempt this old, so it neither sent nor de-duplicated this one. The
                // dispatcher asks about the mail before the next attempt, which then starts a new first attempt.
                return new MailSendResult.TransientFailure(await DescribeErrorAsync(response, ct));
            }

            return await MapFailureAsync(response, ct);
        }, cancellationToken);

        LogOutcome("send", mail.Id, result);
        return result;
    }

    public async Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken)
    {
        if (!OutgoingMail.IsValidId(mailId))
        {
            throw new ArgumentException("A mail id is a GUID in its 36-character form.", nameof(mailId));
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, $"/emails/operations/{mailId}?api-version={ApiVersion}"));
        var result = await ExchangeAsync(request, mailId, async (response, ct) =>
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new MailSendResult.Unknown();
            }

            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return new MailSendResult.Throttled(RetryAfter(response));
            }

            if (!response.IsSuccessStatusCode)
            {
                // A status query that fails (a key rotated away, a refused token, a malformed request, a 5xx) says
                // nothing about the send: "could not say", so the message stays in doubt and is never resent blindly.
                return new MailSendResult.TransientFailure(await DescribeErrorAsync(response, ct));
            }

            var operation = await ReadJsonAsync<OperationStatus>(response, ct);
            return operation?.Status switch
            {
                "NotStarted" or "Running" => new MailSendResult.Accepted(),
                "Succeeded" => new MailSendResult.Delivered(),
                "Failed" or "Canceled" => new MailSendResult.PermanentFailure(
                    Limit($"ACS operation {operation.Status}: {operation.Error?.Code ?? "no error code"}: {operation.Error?.Message ?? "no message"}")),
                var other => new MailSendResult.TransientFailure(Limit($"ACS answered an unrecognised operation status '{other ?? "(none)"}'.")),
            };
        }, cancellationToken);

        LogOutcome("status", mailId, result);
        return result;
    }

    private async Task<MailSendResult> ExchangeAsync(
        HttpRequestMessage request,
        string mailId,
        Func<HttpResponseMessage, CancellationToken, Task<MailSendResult>> interpret,
        CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            return await interpret(response, cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new MailSendResult.TransientFailure($"ACS did not answer within {http.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("ACS could not be reached for mail {MailId}: {Error}", mailId, ex.Message);
            return new MailSendResult.TransientFailure(Limit($"ACS could not be reached: {ex.Message}"));
        }
        catch (AuthenticationFailedException ex)
        {
            logger.LogWarning("No Microsoft Entra token for ACS (mail {MailId}): {Error}", mailId, FirstLine(ex.Message));
            return new MailSendResult.TransientFailure(Limit($"No Microsoft Entra token for ACS: {FirstLine(ex.Message)}"));
        }
    }

    private async Task<MailSendResult> MapFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return new MailSendResult.Throttled(RetryAfter(response));
        }

        var error = await DescribeErrorAsync(response, cancellationToken);
        return response.StatusCode == HttpStatusCode.RequestTimeout || status >= 500
            ? new MailSendResult.TransientFailure(error)
            : new MailSendResult.PermanentFailure(error);
    }

    /// <summary>
    /// "ACS 400 BadRequest: code: message" from the documented error body or the
    /// <c>x-ms-error-code</c> header. Anything else in the body is ignored: it is not ours to repeat.
    /// </summary>
    private static async Task<string> DescribeErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var envelope = await ReadJsonAsync<ErrorEnvelope>(response, cancellationToken);
        var code = envelope?.Error?.Code
            ?? (response.Headers.TryGetValues("x-ms-error-code", out var codes) ? codes.FirstOrDefault() : null)
            ?? "no error code";
        var message = envelope?.Error?.Message ?? "no message";
        return Limit($"ACS {(int)response.StatusCode} {response.StatusCode}: {code}: {message}");
    }

    private TimeSpan RetryAfter(HttpResponseMessage response)
    {
        foreach (var name in new[] { "retry-after-ms", "x-ms-retry-after-ms" })
        {
            if (response.Headers.TryGetValues(name, out var values)
                && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)
                && ms >= 0)
            {
                return TimeSpan.FromMilliseconds(ms);
            }
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - timeProvider.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => DefaultRetryAfter,
        };
    }

    private async Task LogAcceptedAsync(string mailId, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var operation = await ReadJsonAsync<OperationStatus>(response, cancellationToken);
        var location = response.Headers.TryGetValues("Operation-Location", out var values) ? values.FirstOrDefault() : null;
        if (operation?.Id is { } operationId && !string.Equals(operationId, mailId, StringComparison.OrdinalIgnoreCase))
        {
            logger.LogWarning("ACS accepted mail {MailId} as operation {OperationId}, not under the id sent", mailId, operationId);
        }
        else
        {
            logger.LogInformation("ACS accepted mail {MailId} (status {Status}, {OperationLocation})", mailId, operation?.Status, location);
        }
    }

    private void LogOutcome(string what, string mailId, MailSendResult result)
    {
        switch (result)
        {
            case MailSendResult.Throttled t:
                logger.LogWarning("ACS {What} for mail {MailId}: throttled, retry after {RetryAfter}", what, mailId, t.RetryAfter);
                break;
            case MailSendResult.TransientFailure f:
                logger.LogWarning("ACS {What} for mail {MailId}: transient failure: {Error}", what, mailId, f.Error);
                break;
            case MailSendResult.PermanentFailure f:
                logger.LogError("ACS {What} for mail {MailId}: permanent failure: {Error}", what, mailId, f.Error);
                break;
            default:
                logger.LogDebug("ACS {What} for mail {MailId}: {Result}", what, mailId, result.GetType().Name);
                break;
        }
    }

    private static async Task<T?> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return bytes.Length == 0 ? null : JsonSerializer.Deserialize<T>(bytes, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string FirstLine(string text)
    {
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? text : text[..end];
    }

    private static string Limit(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength] + "...";

    private sealed record SendRequest(
        string SenderAddress,
        Recipients Recipients,
        Content Content,
        IReadOnlyList<Mailbox>? ReplyTo,
        bool UserEngagementTrackingDisabled)
    {
        public static SendRequest From(OutgoingMail mail) => new(
            mail.From.Value,
            new Recipients([.. mail.To.Select(a => new Mailbox(a.Value))]),
            new Content(mail.Subject, mail.PlainText, mail.Html),
            mail.ReplyTo is { } replyTo ? [new Mailbox(replyTo.Value)] : null,
            UserEngagementTrackingDisabled: true);
    }

    private sealed record Recipients(IReadOnlyList<Mailbox> To);

    private sealed record Mailbox(string Address);

    private sealed record Content(string Subject, string PlainText, string Html);

    private sealed record OperationStatus(string? Id, string? Status, ErrorDetail? Error);

    private sealed record ErrorEnvelope(ErrorDetail? Error);

    private sealed record ErrorDetail(string? Code, string? Message);
}
