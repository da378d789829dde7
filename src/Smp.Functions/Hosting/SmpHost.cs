using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NodaTime;
using Smp.Azure.Mail;
using Smp.Azure.Secrets;
using Smp.Azure.Tables;
using Smp.Core.Imports;
using Smp.Core.Licenses;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Requests;
using Smp.Core.Updates;
using Smp.Functions.Functions;
using Smp.Functions.Http;
using Smp.Functions.Staff;

namespace Smp.Functions.Hosting;

/// <summary>
/// The composition root. Program.cs and the wiring tests both build the app through here, so the
/// container the tests prove is the container that runs.
/// </summary>
public static class SmpHost
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.UseSmpMiddleware();
        configure?.Invoke(builder.Configuration);
        AddSmp(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>
    /// The app's worker middleware, outermost first: the customer routes' headers (set before anything can answer),
    /// then the fault answers. The wiring tests run requests through this same list.
    /// </summary>
    public static IFunctionsWorkerApplicationBuilder UseSmpMiddleware(this IFunctionsWorkerApplicationBuilder builder)
    {
        builder.UseMiddleware<CustomerHeadersMiddleware>();
        builder.UseMiddleware<HttpFaultMiddleware>();
        return builder;
    }

    public static IServiceCollection AddSmp(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SmpOptions>()
            .Bind(configuration.GetSection(SmpOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmpOptions>, SmpOptionsValidator>();

        services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(o => SmpJson.Configure(o.JsonSerializerOptions));

        services.AddSingleton<IClock>(SystemClock.Instance);
        services.AddSingleton(sp => new BusinessCalendar(
            sp.GetRequiredService<IClock>(),
            sp.GetRequiredService<IOptions<SmpOptions>>().Value.Zone()));
        services.AddSingleton(sp => new PlanOptions(sp.GetRequiredService<IOptions<SmpOptions>>().Value.DefaultProduct));

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SmpOptions>>().Value.Mail());
        services.AddSingleton(ReminderSettings.Schedule(configuration));

        services.AddSmpTelemetry(configuration);
        services.AddSmpTableStorage(configuration);
        services.AddSmpSecretStore(configuration);
        services.AddSmpCustomerLinks(configuration);
        services.AddSmpMailTransport(configuration);
        services.AddSingleton<IUnfinishedReplacements, UnfinishedReplacementLog>();
        services.AddSingleton<LicenseService>();
        services.AddSingleton<Smp.Core.Search.LicenseSearch>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SmpOptions>>().Value.UpdatePolicy());
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SmpOptions>>().Value.Limits());
        services.AddSingleton<UpdateService>().AddSingleton<UpdateAnnouncer>().AddSingleton<PasswordService>();
        services.AddSingleton<LicenseResults>();
        services.AddSingleton<ClientAddressHasher>();

        services.AddSingleton(DeliverySettings.Options(configuration));
        // R15: withdrawals recorded at send time name the dispatcher's timer function as their actor.
        services.AddSingleton<IReminderIndexOwnership>(sp => ActivatorUtilities.CreateInstance<ReportedReminderIndexOwnership>(sp, sp.GetRequiredService<Smp.Azure.Tables.TableLicenseStore>()));
        services.AddSingleton<IMailSendCheck>(sp => ActivatorUtilities.CreateInstance<ReminderSendCheck>(sp, MailFunctions.DispatchFunctionName));
        services.AddSingleton<MailDispatcher>();
        services.AddSingleton<IReminderMailComposer, ReminderMailComposer>();
        services.AddSingleton<ReminderScan>();
        services.AddSingleton<LatestEventsRetention>();
        services.AddSingleton<Smp.Core.Digest.RenewalsDigestService>();
        services.AddSingleton<CustomerRequests>();
        services.AddSingleton<ImportService>();
        AddStaffConsole(services, configuration);
        return services;
    }

    /// <summary>The staff console's identity (SPEC section 7) and its form protection (section 8).</summary>
    private static void AddStaffConsole(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StaffOptions>().Bind(configuration.GetSection(StaffOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StaffOptions>, StaffOptionsValidator>();
        services.AddSingleton<StaffIdentity>();
        services.AddSingleton<FormTokens>();
        services.AddSingleton<ConsoleGate>();
    }
}
