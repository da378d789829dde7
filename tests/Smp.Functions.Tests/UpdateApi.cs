using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Links;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.Functions.Functions;

namespace Smp.Functions.Tests;

/// <summary>Calls of the update and password routes through the real functions, as the other API tests make them.</summary>
internal static class UpdateApi
{
    public const string Password = "Tube-Bend 1.96 / päss <&> \"ok\"";

    public static async Task<ApiResponse> PublishAsync(ApiHarness api, string version, string body)
    {
        var request = api.Request("PUT", $"/api/updates/{version}", body);
        var result = await api.Function<UpdateFunctions>().PublishUpdate(request, version, ApiHarness.Context("PublishUpdate"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    public static Task<ApiResponse> PublishAsync(ApiHarness api, string version = "1.96", string releasedOn = "2026-03-16", string? password = Password) =>
        PublishAsync(api, version, password is null
            ? $$"""{"releasedOn":"{{releasedOn}}"}"""
            : $$"""{"releasedOn":"{{releasedOn}}","password":{{System.Text.Json.JsonSerializer.Serialize(password)}}}""");

    public static async Task<ApiResponse> AnnounceAsync(ApiHarness api, string version = "1.96")
    {
        var request = api.Request("POST", $"/api/updates/{version}/announcements");
        var result = await api.Function<UpdateFunctions>().AnnounceUpdate(request, version, ApiHarness.Context("AnnounceUpdate"));
        return await ApiHarness.ExecuteAsync(request, result);
    }

    /// <summary>Opens a password link the way a browser (or, with <paramref name="accept"/>, a client) would.</summary>
    public static async Task<ApiResponse> OpenAsync(ApiHarness api, Uri link, string? accept = null, string? forwardedFor = null)
    {
        var segments = link.AbsolutePath.Split('/');
        Assert.Equal(["", "api", "updates"], segments[..3]);
        Assert.Equal("password", segments[4]);
        return await GetPasswordAsync(api, Uri.UnescapeDataString(segments[3]), link.Query, accept, forwardedFor);
    }

    public static async Task<ApiResponse> GetPasswordAsync(ApiHarness api, string version, string query, string? accept = null, string? forwardedFor = null)
    {
        var request = api.Request("GET", $"/api/updates/{version}/password", query: query);
        if (accept is not null)
        {
            request.Headers.Accept = accept;
        }

        if (forwardedFor is not null)
        {
            request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        return await api.InvokeAsync(request, "GetUpdatePassword", c => api.Function<PasswordFunctions>().GetUpdatePassword(request, version, c));
    }

    public static Task<ApiResponse> RequestLinkAsync(ApiHarness api, string body) => RequestLinkWithIdAsync(api, body, null);

    public static async Task<ApiResponse> RequestLinkWithIdAsync(ApiHarness api, string body, string? correlationId)
    {
        var request = api.Request("POST", "/api/password-requests", body);
        if (correlationId is not null)
        {
            request.Headers["x-correlation-id"] = correlationId;
        }

        return await api.InvokeAsync(request, "RequestPasswordLink", c => api.Function<PasswordFunctions>().RequestPasswordLink(request, c));
    }

    public static Task<ApiResponse> RequestLinkAsync(ApiHarness api, string serial, string version) =>
        RequestLinkAsync(api, $$"""{"serial":"{{serial}}","version":"{{version}}"}""");

    /// <summary>A genuine link, made by the app's own link service.</summary>
    public static async Task<Uri> LinkAsync(ApiHarness api, string serial = "VT-1001", string version = "1.96") =>
        (await api.Services.GetRequiredService<LinkService>().CreatePasswordLinkAsync(Serial.Parse(serial), UpdateVersion.Parse(version), CancellationToken.None)).Url;

    /// <summary>The mail waiting in the outbox (pending), oldest first, after the background work on customer requests.</summary>
    public static async Task<IReadOnlyList<OutboxMessage>> PendingMailAsync(ApiHarness api)
    {
        await MailTestKit.ProcessCustomerRequestsAsync(api);
        return [.. (await api.Services.GetRequiredService<IMailOutbox>().ListDueAsync(api.Clock.GetCurrentInstant().Plus(Duration.FromDays(1)), 500, CancellationToken.None)).Select(m => m.Message)];
    }

    /// <summary>The password links in a mail's plain-text body.</summary>
    public static IReadOnlyList<Uri> LinksIn(OutboxMessage message) =>
        [.. System.Text.RegularExpressions.Regex.Matches(message.Mail.PlainText, @"https://smp\.example\.com/api/updates/[^\s>)]+")
            .Select(m => new Uri(m.Value))
            .Distinct()];

    /// <summary>The license's events (from the license document).</summary>
    public static async Task<IReadOnlyList<System.Text.Json.JsonElement>> EventsAsync(ApiHarness api, string serial) =>
        [.. (await LicenseApiTests.GetAsync(api, serial)).Json().GetProperty("events").EnumerateArray()];
}
