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
using Smp.Core.Secrets;
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

    public TableLicenseStoreOptions StoreOptions => StoreOptionsFor(ReminderSchedule.Default);

    /// <summary>The license store's options for a process configured with <paramref name="reminders"/> (<c>Smp:Reminders</c>).</summary>
    public TableLicenseStoreOptions StoreOptionsFor(ReminderSchedule reminders, int rebuildPageSize = 100) =>
        new() { LicensesTable = Licenses, IndexTable = Index, Reminders = reminders, ReminderRebuildPageSize = rebuildPageSize };
}

/// <summary>
/// One "process" of the back end, wired as the Functions host wires it (the real stores, outbox and limiter on
/// Azurite, the real use cases of Smp.Core), with a fake clock and the mail service double. Its storage client has
/// Azure.Core's retry policy on, with fast delays, and the given policies at
/// <see cref="HttpPipelinePosition.PerRetry"/>. <see cref="Restart"/> gives a new process over the same tables,
/// the same clock, the same mail service and the same secret folder (update passwords, the link-signing key).
/// </summary>
internal sealed class SmpOnTables
{
    public const string TimeZoneId = "America/Denver";

    public static readonly MailSettings MailSettings = new(
        EmailAddress.Parse("DoNotReply@smp.example.com"),
        EmailAddress.Parse("renewals@vendor.example.com"),
        new Uri("https://smp.example.com/"));

    /// <summary>
    /// The link-signing key every system of these tests uses (base64 of 32 bytes), so that password links, and the
    /// mails that carry them, are the same in a reference run and in a run that crashed (see <see cref="PublishUpdateAsync"/>).
    /// </summary>
    private const string LinkSigningKey = "c21wLWNyYXNoLXRlc3RzLWxpbmstc2lnbmluZy1rZXk=";

    private readonly AzuriteFixture azurite;
    private readonly HttpPipelinePolicy[] policies;

    private SmpOnTables(AzuriteFixture azurite, SmpTables tables, FakeClock clock, MailServiceDouble mailService, int maxRetries, HttpPipelinePolicy[] policies, ReminderSchedule? reminders = null, int rebuildPageSize = 100)
    {
        this.azurite = azurite;
        this.policies = policies;
        Tables = tables;
        Clock = clock;
        MailService = mailService;
        MaxRetries = maxRetries;
        Reminders = reminders ?? ReminderSchedule.Default;
        RebuildPageSize = rebuildPageSize;

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
        Service = service;
        var calendar = new BusinessCalendar(clock, DateTimeZoneProviders.Tzdb[TimeZoneId]);
        var schedule = Reminders;
        Store = new TableLicenseStore(service, tables.StoreOptionsFor(schedule, rebuildPageSize));
        Outbox = new TableMailOutbox(service, tables.Outbox);
        Limiter = new TableRequestRateLimiter(service, tables.RateLimits);
        Licenses = new LicenseService(Store, calendar, new PlanOptions(PlanOptions.DefaultProductName), Outbox, schedule);
        var composer = new ReminderMailComposer(MailSettings, schedule);
        Scan = new ReminderScan(Store, Licenses, Outbox, composer, schedule, calendar);
        RequestQueue = new TableCustomerRequestQueue(service, tables.CustomerRequests);
        var secretFolder = new LocalFolderSecretStore(Path.Combine(Path.GetTempPath(), "smp-faults-" + tables.Licenses), NullLogger<LocalFolderSecretStore>.Instance);
        SecretsFolder = secretFolder.Directory;

        // A process that can crash writes its secrets under the same policy as its storage calls.
        Secrets = policies.OfType<ProcessCrashPolicy>().FirstOrDefault() is { } crash ? new CrashingSecretStore(secretFolder, crash) : secretFolder;
        var updateStore = new TableUpdateStore(service, tables.Updates);
        var updateOptions = new UpdateOptions(EntitlementPolicy.CurrentPlan);
        Links = new LinkService(Secrets, clock, new LinkOptions(MailSettings.PublicBaseUrl));
        Updates = new UpdateService(updateStore, Secrets, calendar, updateOptions);
        Announcer = new UpdateAnnouncer(updateStore, Store, Licenses, Outbox, Links, MailSettings, calendar, new TableStorageFailures());
        Passwords = new PasswordService(updateStore, Licenses, Secrets, Links, Outbox, Limiter, MailSettings, calendar, updateOptions, Limits);
        Requests = new CustomerRequests(Licenses, Outbox, Limiter, RequestQueue, Passwords, Limits, MailSettings, calendar, ImmediateRetry);
        Dispatcher = new MailDispatcher(Outbox, mailService, clock, Delivery, sendCheck: new ReminderSendCheck(Store, composer, schedule, Licenses, calendar, "DispatchMail"));
    }

    public static DeliveryOptions Delivery { get; } = new();

    /// <summary>
    /// A failed customer request due again at once and never given up: a history's caller retries at the same
    /// instant what the timer would try again a few minutes later, so both runs of a history record the same times.
    /// </summary>
    public static CustomerRequestRetry ImmediateRetry { get; } = new(int.MaxValue, Duration.Zero, Duration.Zero);

    public SmpTables Tables { get; }

    /// <summary>The system's table service client (its requests pass the system's policies: a crash, a fault).</summary>
    public TableServiceClient Service { get; }

    public FakeClock Clock { get; }

    public MailServiceDouble MailService { get; }

    public int MaxRetries { get; }

    public TableLicenseStore Store { get; }

    public TableMailOutbox Outbox { get; }

    public TableRequestRateLimiter Limiter { get; }

    public static AnonymousLimits Limits { get; } = new();

    public TableCustomerRequestQueue RequestQueue { get; }

    /// <summary>The reminder offsets this process is configured with (<c>Smp:Reminders</c>).</summary>
    public ReminderSchedule Reminders { get; }

    public int RebuildPageSize { get; }

    public ISecretStore Secrets { get; }

    /// <summary>The folder the secrets are stored in (one file per secret), shared by every process of this system.</summary>
    public string SecretsFolder { get; }

    public UpdateService Updates { get; }

    public LinkService Links { get; }

    public UpdateAnnouncer Announcer { get; }

    public PasswordService Passwords { get; }

    /// <summary>Publishes an update with a password, after storing the shared link-signing key (see <see cref="LinkSigningKey"/>).</summary>
    public async Task PublishUpdateAsync(string version, LocalDate releasedOn, CancellationToken cancellationToken)
    {
        await Secrets.SetAsync(SecretName.LinkSigningKey, LinkSigningKey, cancellationToken);
        await Updates.PublishAsync(UpdateVersion.Parse(version), releasedOn, "Pw-" + version + "-crash", cancellationToken);
    }

    /// <summary>The background work on recorded customer requests, one timer run; a run that left a request pending is a failure.</summary>
    public async Task ProcessRequestsAsync(CancellationToken cancellationToken)
    {
        var report = await Requests.ProcessPendingAsync(cancellationToken);
        if (report.Failed > 0)
        {
            throw new IOException($"{report.Failed} customer request(s) left pending for the next run.");
        }
    }

    /// <summary>A customer request as the request path takes it (the limits, the record), then the background work on it.</summary>
    public async Task RequestAsync(string kind, Serial serial, QuoteScope scope, CommandContext context, CancellationToken cancellationToken, string? version = null)
    {
        await AcceptAsync(kind, serial, scope, context, cancellationToken, version);

        // The timer runs each minute; a run that left a request pending is, for this history, a failure to retry now.
        await ProcessRequestsAsync(cancellationToken);
    }

    /// <summary>A customer request as the request path takes it: the limits and the record, no background work yet.</summary>
    public async Task AcceptAsync(string kind, Serial serial, QuoteScope scope, CommandContext context, CancellationToken cancellationToken, string? version = null)
    {
        var request = new CustomerRequest(kind, serial, version, scope, new BusinessCalendar(Clock, DateTimeZoneProviders.Tzdb[TimeZoneId]).Today, context.Actor, context.CorrelationId);
        if (!await Requests.AcceptAsync(request, "client-" + context.CorrelationId, cancellationToken))
        {
            throw new InvalidOperationException($"The {kind} request was refused by a daily limit.");
        }
    }

    public LicenseService Licenses { get; }

    public ReminderScan Scan { get; }

    public CustomerRequests Requests { get; }

    public MailDispatcher Dispatcher { get; }

    /// <summary>A new system on new tables.</summary>
    public static SmpOnTables Create(AzuriteFixture azurite, Instant now, int maxRetries = 3, params HttpPipelinePolicy[] policies) =>
        new(azurite, SmpTables.Unique(), new FakeClock(now), new MailServiceDouble(), maxRetries, policies);

    /// <summary>A new process of this system: new clients and services over the same tables, clock and mail service.</summary>
    public SmpOnTables Restart(params HttpPipelinePolicy[] policies) => new(azurite, Tables, Clock, MailService, MaxRetries, policies, Reminders, RebuildPageSize);

    /// <summary>
    /// This process deployed again with other reminder offsets (a change of <c>Smp:Reminders</c>): same tables, clock,
    /// mail service and storage policies; the license store rebuilds the reminder index <paramref name="rebuildPageSize"/> licenses a page.
    /// </summary>
    public SmpOnTables Reconfigured(ReminderSchedule reminders, int rebuildPageSize = 100) => new(azurite, Tables, Clock, MailService, MaxRetries, policies, reminders, rebuildPageSize);

    /// <summary>Everything this system stores, read through a client without faults (see <see cref="SystemState"/>).</summary>
    /// <param name="reminders">The offsets to read the reminder index with (default: this process's own).</param>
    public Task<SystemState> ReadStateAsync(IEnumerable<string> customerIds, ReminderSchedule? reminders = null) =>
        SystemState.ReadAsync(azurite.CreateServiceClient(), Tables, customerIds, MailService, Tables.StoreOptionsFor(reminders ?? Reminders, RebuildPageSize), SecretsFolder);
}
