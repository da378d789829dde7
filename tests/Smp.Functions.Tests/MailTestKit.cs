using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Functions.Functions;

namespace Smp.Functions.Tests;

/// <summary>
/// What the reminder, mail and customer-request tests share: running the timer functions as the host would,
/// reading the outbox through its port, reading delivered mail from the pickup folder, and replacing a service
/// of the real app by a decorator around it.
/// </summary>
internal static class MailTestKit
{
    public const string Sender = "DoNotReply@smp.example.com";
    public const string RenewalsDesk = "renewals@vendor.example.com";
    public static readonly string[] DefaultContacts = ["buyer@example.com", "cad@example.com"];

    private static readonly DateTimeZone Denver = DateTimeZoneProviders.Tzdb["America/Denver"];

    /// <summary>The instant of <paramref name="hour"/>:00 on a Denver calendar date (the business zone of every harness).</summary>
    public static Instant InDenver(int year, int month, int day, int hour = 8) =>
        new LocalDateTime(year, month, day, hour, 0).InZoneStrictly(Denver).ToInstant();

    public static Task RunScanAsync(ApiHarness api) =>
        api.Function<ReminderFunctions>().RunReminderScan(new TimerInfo(), ApiHarness.Context("RunReminderScan"));

    public static Task DispatchAsync(ApiHarness api) =>
        api.Function<MailFunctions>().DispatchMail(new TimerInfo(), ApiHarness.Context("DispatchMail"));

    public static IMailOutbox Outbox(ApiHarness api) => api.Services.GetRequiredService<IMailOutbox>();

    /// <summary>The background work on recorded customer requests, as its timer runs it.</summary>
    public static Task ProcessCustomerRequestsAsync(ApiHarness api) =>
        api.Function<CustomerRequestFunctions>().ProcessCustomerRequests(new TimerInfo(), ApiHarness.Context("ProcessCustomerRequests"));

    /// <summary>
    /// Every message still waiting for delivery (pending or being sent), whenever its next attempt is, after the
    /// background work on recorded customer requests has run (the mail of a customer request is composed there).
    /// </summary>
    public static async Task<IReadOnlyList<OutboxMessage>> UndeliveredAsync(ApiHarness api)
    {
        await ProcessCustomerRequestsAsync(api);
        var due = await Outbox(api).ListDueAsync(api.Clock.GetCurrentInstant() + Duration.FromDays(3650), 10_000, CancellationToken.None);
        return [.. due.Select(m => m.Message)];
    }

    public static async Task<OutboxMessage> MessageAsync(ApiHarness api, string id) =>
        (await Outbox(api).GetAsync(id, CancellationToken.None))?.Message ?? throw new InvalidOperationException($"No outbox message {id}.");

    /// <summary>
    /// Activates a one-year plan (on-site training) whose activation mail went out on the 14th of the month
    /// before <paramref name="startMonth"/>, so that it starts on the 1st of <paramref name="startMonth"/> and
    /// expires a year later (R2, R3). The clock must already be past the activation mail.
    /// </summary>
    public static async Task ActivateAsync(ApiHarness api, string serial, LocalDate startMonth, string customerId = "C-42", IReadOnlyList<string>? contacts = null, bool training = true)
    {
        var sent = startMonth.PlusMonths(-1);
        var sentAt = $"{sent.Year:D4}-{sent.Month:D2}-14T10:00:00-06:00";
        var list = JsonSerializer.Serialize(contacts ?? DefaultContacts);
        var response = await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody(serial, training, sentAt, customerId, list));
        Assert.True(response.Status == 201, $"Activation of {serial} failed: {response}");
    }

    public static async Task<License> StoredAsync(ApiHarness api, string serial) =>
        (await api.Services.GetRequiredService<ILicenseStore>().GetAsync(Serial.Parse(serial), CancellationToken.None))?.License
        ?? throw new InvalidOperationException($"No license {serial}.");

    /// <summary>The license's events of <paramref name="type"/>, as <c>GET /api/licenses/{serial}</c> shows them.</summary>
    public static async Task<IReadOnlyList<JsonElement>> EventsAsync(ApiHarness api, string serial, string type)
    {
        var license = await LicenseApiTests.GetAsync(api, serial);
        Assert.Equal(200, license.Status);
        return [.. license.Json().GetProperty("events").EnumerateArray().Where(e => e.GetProperty("type").GetString() == type)];
    }

    /// <summary>A fact of an event; the document puts them beside its type, instant, actor and correlation id.</summary>
    public static string Data(JsonElement licenseEvent, string key) =>
        licenseEvent.GetProperty(key).GetString() ?? throw new InvalidOperationException($"Event fact {key} is null.");

    /// <summary>The license document's reminders as (stage, dueOn, expiresOn, status, mailId), in the document's order.</summary>
    public static async Task<IReadOnlyList<(string? Stage, string? DueOn, string? ExpiresOn, string? Status, string? MailId)>> RemindersAsync(ApiHarness api, string serial)
    {
        var license = await LicenseApiTests.GetAsync(api, serial);
        Assert.Equal(200, license.Status);
        return [.. license.Json().GetProperty("reminders").EnumerateArray().Select(r => (
            r.GetProperty("stage").GetString(),
            r.GetProperty("dueOn").GetString(),
            r.GetProperty("expiresOn").GetString(),
            r.GetProperty("status").GetString(),
            r.TryGetProperty("mailId", out var id) ? id.GetString() : null))];
    }

    public static string PickupDirectory(ApiHarness api) => Path.Combine(api.WorkDirectory, "mail");

    /// <summary>The <c>.eml</c> files delivered so far (a missing folder means none).</summary>
    public static IReadOnlyList<string> PickedUpFiles(ApiHarness api) =>
        Directory.Exists(PickupDirectory(api))
            ? [.. Directory.EnumerateFiles(PickupDirectory(api)).Order(StringComparer.Ordinal)]
            : [];

    public static MimeMessage PickedUp(ApiHarness api, string mailId) =>
        MimeMessage.Load(Path.Combine(PickupDirectory(api), mailId + ".eml"));

    public static string[] Addresses(InternetAddressList list) =>
        [.. list.Mailboxes.Select(m => m.Address.ToLowerInvariant()).Order(StringComparer.Ordinal)];

    public static string[] Addresses(IEnumerable<EmailAddress> list) =>
        [.. list.Select(a => a.Value.ToLowerInvariant()).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Replaces the last registration of <typeparamref name="TService"/> by a decorator around what it would have
    /// produced, keeping its lifetime: the real service still does the work.
    /// </summary>
    public static IServiceCollection Decorate<TService>(this IServiceCollection services, Func<TService, IServiceProvider, TService> decorate)
        where TService : class
    {
        var original = services.Last(d => d.ServiceType == typeof(TService));
        services.Add(ServiceDescriptor.Describe(typeof(TService), sp => decorate(Resolve<TService>(original, sp), sp), original.Lifetime));
        return services;
    }

    private static TService Resolve<TService>(ServiceDescriptor descriptor, IServiceProvider services) =>
        (TService)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
