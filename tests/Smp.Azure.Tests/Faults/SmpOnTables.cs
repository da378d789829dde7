using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using NodaTime;
using NodaTime.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Smp.Azure.Secrets;
using Smp.Azure.Tables;
using Smp.Core.Links;
using Smp.Core.Licenses;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Requests;
using Smp.Core.Updates;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Faults;

/// <summary>The names of one system's tables in the shared Azurite.</summary>
internal sealed record SmpTables(string Licenses, string Index, string Outbox, string RateLimits, string CustomerRequests, string Updates)
{
    public static SmpTables Unique() => new(
        AzuriteFixture.UniqueTableName("licenses"),
        AzuriteFixture.UniqueTableName("licenseindex"),
        AzuriteFixture.UniqueTableName("mailoutbox"),
        AzuriteFixture.UniqueTableName("ratelimits"),
        AzuriteFixture.UniqueTableName("customerrequests"),
        AzuriteFixture.UniqueTableName("updates"));

    public TableLicenseStoreOptions StoreOptions => new() { LicensesTable = Licenses, IndexTable = Index };
}

/// <summary>
/// One "process" of the back end, wired as the Functions host wires it (the real stores, outbox and limiter on
/// Azurite, the real use cases of Smp.Core), with a fake clock and the mail service double. Its storage client has
/// Azure.Core's retry policy on, with fast delays, and the given policies at
/// <see cref="HttpPipelinePosition.PerRetry"/>. <see cref="Restart"/> gives a new process over the same tables,
/// the same clock and the same mail service.
/// </summary>
internal sealed class SmpOnTables
{
    public const string TimeZoneId = "America/Denver";

    public static readonly MailSettings MailSettings = new(
        EmailAddress.Parse("DoNotReply@smp.example.com"),
        EmailAddress.Parse("renewals@vendor.example.com"),
        new Uri("https://smp.example.com/"));

    private readonly AzuriteFixture azurite;

    private SmpOnTables(AzuriteFixture azurite, SmpTables tables, FakeClock clock, MailServiceDouble mailService, int maxRetries, HttpPipelinePolicy[] policies)
    {
        this.azurite = azurite;
        Tables = tables;
        Clock = clock;
        MailService = mailService;
        MaxRetries = maxRetries;

        var options = new TableClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(8);
        foreach (var policy in policies)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        }

        var service = azurite.CreateServiceClient(options);
        var calendar = new BusinessCalendar(clock, DateTimeZoneProviders.Tzdb[TimeZoneId]);
        var schedule = ReminderSchedule.Default;
        Store = new TableLicenseStore(service, tables.StoreOptions);
        Outbox = new TableMailOutbox(service, tables.Outbox);
        Limiter = new TableRequestRateLimiter(service, tables.RateLimits);
        Licenses = new LicenseService(Store, calendar, new PlanOptions(PlanOptions.DefaultProductName));
        Scan = new ReminderScan(Store, Licenses, Outbox, new ReminderMailComposer(MailSettings, schedule), schedule, calendar);
        RequestQueue = new TableCustomerRequestQueue(service, tables.CustomerRequests);
        var secrets = new LocalFolderSecretStore(Path.Combine(Path.GetTempPath(), "smp-faults-" + tables.Licenses), NullLogger<LocalFolderSecretStore>.Instance);
        var updates = new TableUpdateStore(service, tables.Updates);
        var links = new LinkService(secrets, clock, new LinkOptions(MailSettings.PublicBaseUrl));
        var passwords = new PasswordService(
            updates, Store, Licenses, secrets, links, Outbox, Limiter, MailSettings, calendar, new UpdateOptions(EntitlementPolicy.CurrentPlan), Limits);
        Updates = new UpdateService(updates, secrets, calendar, new UpdateOptions(EntitlementPolicy.CurrentPlan));
        Announcer = new UpdateAnnouncer(updates, Store, Licenses, Outbox, links, MailSettings, calendar, new TableStorageFailures());
        Requests = new CustomerRequests(Licenses, Outbox, Limiter, RequestQueue, passwords, Limits, MailSettings, calendar);
        Dispatcher = new MailDispatcher(Outbox, mailService, clock, Delivery);
    }

    public static DeliveryOptions Delivery { get; } = new();

    public SmpTables Tables { get; }

    public FakeClock Clock { get; }

    public MailServiceDouble MailService { get; }

    public int MaxRetries { get; }

    public TableLicenseStore Store { get; }

    public TableMailOutbox Outbox { get; }

    public TableRequestRateLimiter Limiter { get; }

    public static AnonymousLimits Limits { get; } = new();

    public TableCustomerRequestQueue RequestQueue { get; }

    /// <summary>A customer request as the request path takes it (the limits, the record), then the background work on it.</summary>
    public async Task RequestAsync(string kind, Serial serial, QuoteScope scope, CommandContext context, CancellationToken cancellationToken)
    {
        var request = new CustomerRequest(kind, serial, null, scope, new BusinessCalendar(Clock, DateTimeZoneProviders.Tzdb[TimeZoneId]).Today, context.Actor, context.CorrelationId);
        await Requests.AcceptAsync(request, "client-" + context.CorrelationId, cancellationToken);

        // The timer runs each minute; a run that left a request pending is, for this history, a failure to retry now.
        var report = await Requests.ProcessPendingAsync(cancellationToken);
        if (report.Failed > 0)
        {
            throw new IOException($"{report.Failed} customer request(s) left pending for the next run.");
        }
    }

    public LicenseService Licenses { get; }

    public ReminderScan Scan { get; }

    public CustomerRequests Requests { get; }

    public UpdateService Updates { get; }

    public UpdateAnnouncer Announcer { get; }

    public MailDispatcher Dispatcher { get; }

    /// <summary>A new system on new tables.</summary>
    public static SmpOnTables Create(AzuriteFixture azurite, Instant now, int maxRetries = 3, params HttpPipelinePolicy[] policies) =>
        new(azurite, SmpTables.Unique(), new FakeClock(now), new MailServiceDouble(), maxRetries, policies);

    /// <summary>A new process of this system: new clients and services over the same tables, clock and mail service.</summary>
    public SmpOnTables Restart(params HttpPipelinePolicy[] policies) => new(azurite, Tables, Clock, MailService, MaxRetries, policies);

    /// <summary>Everything this system stores, read through a client without faults (see <see cref="SystemState"/>).</summary>
    public Task<SystemState> ReadStateAsync(IEnumerable<string> customerIds) => SystemState.ReadAsync(azurite.CreateServiceClient(), Tables, customerIds, MailService);
}
