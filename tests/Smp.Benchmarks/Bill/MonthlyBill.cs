using System.Globalization;
using System.Text;
using NodaTime;
using Smp.Benchmarks.Infrastructure;
using Smp.Benchmarks.Scan;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Benchmarks.Bill;

/// <summary>Storage requests per operation, as measured by this run.</summary>
internal sealed record OperationCosts(
    double PerActivation,
    double PerRenewal,
    double PerReminderDue,
    double PerIdleScan,
    double PerMailSent,
    double PerEmptyDispatchRun,
    double PerDigest);

/// <summary>
/// What a month of the service costs at a number of licenses, from the storage requests per operation measured here
/// (activation, renewal, the daily scan per reminder due and idle) and by the dispatch and digest sections (per mail
/// sent, per empty dispatch run, per digest). The volumes and prices are stated in the report.
/// </summary>
internal sealed class MonthlyBill(TextWriter progress)
{
    private const int Measured = 100;
    private static readonly CommandContext Staff = new("benchmark", "benchmark");

    /// <summary>Activation, renewal and the scan through the app's use cases on Azurite, with 100 licenses.</summary>
    public async Task<(double Activation, double Renewal, double PerReminderDue, double IdleScan)> MeasureAsync(CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteProcess.StartAsync(cancellationToken: cancellationToken);
        using var app = BenchApp.Create(azurite.ConnectionString, ScanData.Now - Duration.FromDays(400));
        var licenses = app.Get<LicenseService>();
        var scan = app.Get<ReminderScan>();

        // The scan's due licenses, activated as the vendor's flow does (a year and more before the scan's date).
        progress.WriteLine("bill: activations");
        await licenses.GetAsync(ScanData.DueSerial(9999), cancellationToken);
        app.Traffic.Reset();
        for (var k = 0; k < Measured; k++)
        {
            var (license, _) = ScanData.Due(k);
            var request = new ActivationRequest(license.Serial, null, license.Customer, license.Activation.Contacts, license.Activation.OnSiteTraining, license.Activation.EmailSentAt);
            app.Clock.Reset(request.ActivationEmailSentAt + Duration.FromMinutes(5));
            await licenses.ActivateAsync(request, Staff, cancellationToken);
        }

        var activation = app.Traffic.Snapshot().Total.Requests / (double)Measured;

        progress.WriteLine("bill: the daily scan");
        app.Clock.Reset(ScanData.Now);
        app.Traffic.Reset();
        var report = await scan.RunAsync(new CommandContext("RunReminderScan", "bill-1"), cancellationToken);
        var perDue = app.Traffic.Snapshot().Total.Requests / (double)Math.Max(1, report.RemindersDue);
        app.Clock.Advance(Duration.FromDays(1));
        app.Traffic.Reset();
        await scan.RunAsync(new CommandContext("RunReminderScan", "bill-2"), cancellationToken);
        var idle = app.Traffic.Snapshot().Total.Requests;

        progress.WriteLine("bill: renewals");
        app.Traffic.Reset();
        for (var k = 0; k < Measured; k++)
        {
            await licenses.RenewAsync(ScanData.DueSerial(k), new RenewalRequest($"PO-{k}", 12, null), Staff, cancellationToken);
        }

        var renewal = app.Traffic.Snapshot().Total.Requests / (double)Measured;
        return (activation, renewal, perDue, idle);
    }

    public static string Report(OperationCosts costs, DateTimeOffset runAt)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Storage requests per operation measured in this run: activation {costs.PerActivation:F1}, renewal {costs.PerRenewal:F1}, daily scan {costs.PerIdleScan:F0} when idle plus {costs.PerReminderDue:F1} per reminder due, dispatch {costs.PerEmptyDispatchRun:F0} per run with nothing due plus {costs.PerMailSent:F1} per mail sent, weekly digest {costs.PerDigest:F0}."));
        text.AppendLine();
        var table = new MarkdownTable(
            "licenses",
            "activations / renewals / customer requests a month",
            "reminder and request mails a month",
            "Table Storage transactions a month",
            "Functions executions a month",
            "Functions GB-s a month",
            "storage ($)",
            "Functions ($)",
            "ACS Email ($)",
            "total ($ a month)");
        foreach (var i in Enumerable.Range(0, 10).Where(i => i != 1))
        {
            table.RightAligned.Add(i);
        }

        foreach (var n in new[] { 1_000, 10_000, 100_000 })
        {
            var m = Month.Of(n, costs);
            table.Add(
                n.ToString("N0", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{m.Activations:N0} / {m.Renewals:N0} / {m.CustomerRequests:N0}"),
                m.Mails.ToString("N0", CultureInfo.InvariantCulture),
                m.Transactions.ToString("N0", CultureInfo.InvariantCulture),
                m.Executions.ToString("N0", CultureInfo.InvariantCulture),
                m.GbSeconds.ToString("N0", CultureInfo.InvariantCulture),
                m.StorageCost.ToString("F2", CultureInfo.InvariantCulture),
                m.FunctionsCost.ToString("F2", CultureInfo.InvariantCulture),
                m.MailCost.ToString("F2", CultureInfo.InvariantCulture),
                (m.StorageCost + m.FunctionsCost + m.MailCost).ToString("F2", CultureInfo.InvariantCulture));
        }

        text.AppendLine(table.ToString());
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Computed {runAt:yyyy-MM-dd} from the counts above; volumes and prices as stated in docs/benchmarks.md (section \"The monthly bill\")."));
        return text.ToString();
    }

    /// <summary>A 30-day month at <c>n</c> licenses. Volumes and prices are the stated assumptions.</summary>
    private sealed record Month(double Activations, double Renewals, double CustomerRequests, double Mails, double Transactions, double Executions, double GbSeconds, double StorageCost, double FunctionsCost, double MailCost)
    {
        public const double Minutes = 30 * 24 * 60;
        public const double Days = 30;
        public const double Weeks = 30 / 7.0;

        /// <summary>Reminders a license gets a year (the default 90- and 30-day stages).</summary>
        public const double RemindersPerLicenseYear = 2;

        /// <summary>Licenses per reminder mail: R10 groups a customer's licenses due the same day; taken as 1 (the most mails).</summary>
        public const double LicensesPerReminderMail = 1;

        /// <summary>Storage requests per customer request (terms, quote, password link): not measured here, an estimate.</summary>
        public const double RequestsPerCustomerRequest = 12;

        /// <summary>Flex Consumption: instance memory 2,048 MB, each execution billed as 1 s (a rounded-up, pessimistic figure).</summary>
        public const double GbSecondsPerExecution = 2;

        // Prices (US dollars; sources and dates in docs/benchmarks.md).
        public const double TablePer10kTransactions = 0.00036;
        public const double FlexPerGbSecond = 0.000026;
        public const double FlexFreeGbSeconds = 100_000;
        public const double FlexPerMillionExecutions = 0.40;
        public const double FlexFreeExecutions = 250_000;
        public const double AcsPerEmail = 0.00025;
        public const double AcsPerMb = 0.00012;
        public const double MbPerMail = 0.05;

        public static Month Of(int n, OperationCosts costs)
        {
            double activations = n / 12.0, renewals = n / 12.0, requests = n / 10.0;
            var reminders = n * RemindersPerLicenseYear / 12.0;
            var mails = (reminders / LicensesPerReminderMail) + requests + Weeks;
            var transactions =
                (activations * costs.PerActivation)
                + (renewals * costs.PerRenewal)
                + (requests * RequestsPerCustomerRequest)
                + (Days * costs.PerIdleScan) + (reminders * costs.PerReminderDue)
                + (Minutes * costs.PerEmptyDispatchRun) + (mails * costs.PerMailSent)
                + (Weeks * costs.PerDigest);
            var executions = Minutes + Days + Weeks + activations + renewals + requests;
            var gbSeconds = executions * GbSecondsPerExecution;
            var storage = transactions / 10_000 * TablePer10kTransactions;
            var functions = (Math.Max(0, gbSeconds - FlexFreeGbSeconds) * FlexPerGbSecond) + (Math.Max(0, executions - FlexFreeExecutions) / 1_000_000 * FlexPerMillionExecutions);
            var mail = mails * (AcsPerEmail + (MbPerMail * AcsPerMb));
            return new Month(activations, renewals, requests, mails, transactions, executions, gbSeconds, storage, functions, mail);
        }
    }
}
