using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using NodaTime.Testing;
using Smp.Functions.Hosting;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>
/// The real Functions app, built by the same composition root as Program.cs but never run: its clock is a
/// <see cref="FakeClock"/>, its tables live in Azurite under a prefix of their own, and its
/// <see cref="TableServiceClient"/> carries a <see cref="TableTrafficPolicy"/> so that every storage request
/// it makes is counted. Logging providers are removed: console logging per request would dominate the timings
/// and interleave with the report.
/// </summary>
internal sealed class BenchApp : IDisposable
{
    private readonly IHost host;

    private BenchApp(IHost host, FakeClock clock, TableTrafficPolicy traffic, string connectionString, string tablePrefix, string workDirectory)
    {
        this.host = host;
        ConnectionString = connectionString;
        Clock = clock;
        Traffic = traffic;
        TablePrefix = tablePrefix;
        WorkDirectory = workDirectory;
    }

    public FakeClock Clock { get; }

    /// <summary>Counts what the app sends to Table Storage.</summary>
    public TableTrafficPolicy Traffic { get; }

    /// <summary>The Table Storage connection string the app uses (Azurite's development account).</summary>
    public string ConnectionString { get; }

    /// <summary>The prefix of every table this app uses.</summary>
    public string TablePrefix { get; }

    public string WorkDirectory { get; }

    public IServiceProvider Services => host.Services;

    public static BenchApp Create(
        string tablesConnectionString,
        Instant now,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var workDirectory = Directory.CreateTempSubdirectory("smp-bench-").FullName;
        var prefix = "b" + Guid.NewGuid().ToString("N")[..12];
        var configuration = new Dictionary<string, string?>
        {
            ["Smp:BusinessTimeZone"] = "America/Denver",
            ["Smp:Tables"] = tablesConnectionString,
            ["Smp:TablePrefix"] = prefix,
            ["Smp:PublicBaseUrl"] = "https://smp.example.com",
            ["Smp:SenderAddress"] = "DoNotReply@smp.example.com",
            ["Smp:ReminderSchedule"] = "0 0 13 * * *",
            ["Smp:DigestSchedule"] = "0 0 14 * * 1",
            ["Smp:RenewalsDeskEmail"] = "renewals@vendor.example.com",
            ["Smp:Secrets:Store"] = "Local",
            ["Smp:Secrets:LocalDirectory"] = Path.Combine(workDirectory, "secrets"),
            ["Smp:Email:Transport"] = "Pickup",
            ["Smp:Email:PickupDirectory"] = Path.Combine(workDirectory, "mail"),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var clock = new FakeClock(now);
        var traffic = new TableTrafficPolicy();
        var builder = SmpHost.CreateBuilder([], c => c.AddInMemoryCollection(configuration));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IClock>(clock);
        builder.Services.AddSingleton(CountedClient(tablesConnectionString, traffic));
        services?.Invoke(builder.Services);
        var host = builder.Build();
        return new BenchApp(host, clock, traffic, tablesConnectionString, prefix, workDirectory);
    }

    /// <summary>A table client like the app's (default options) with <paramref name="traffic"/> counting each request.</summary>
    public static TableServiceClient CountedClient(string connectionString, TableTrafficPolicy traffic)
    {
        var options = new TableClientOptions();
        options.AddPolicy(traffic, HttpPipelinePosition.PerRetry);
        return new TableServiceClient(connectionString, options);
    }

    public T Get<T>()
        where T : notnull => host.Services.GetRequiredService<T>();

    public T Create<T>() => ActivatorUtilities.CreateInstance<T>(host.Services);

    public void Dispose()
    {
        host.Dispose();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temp clean-up.
        }
    }
}
