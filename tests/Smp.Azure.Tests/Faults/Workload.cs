using System.Collections.Immutable;
using System.Globalization;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Requests;

namespace Smp.Azure.Tests.Faults;

/// <summary>One call the outside world makes: a staff or integration request, a customer request, or a timer run.</summary>
internal sealed record WorkloadOperation(Instant At, string Description, Func<SmpOnTables, Task> Run);

/// <summary>
/// A seeded, randomized history of the back end's use: three customers' plans activated over a few weeks, then
/// fifteen months or so of training, renewals (new order references, repeated ones, and repeats with other
/// data), contact changes, term and quote requests (bursts over the daily limit, repeats of one request, unknown
/// serials), each day followed by the reminder scan and a mail dispatch run (and two more after the lease), and at the end a few more dispatch
/// runs, past the lease, so that every mail can be delivered. The same seed gives the same operations at the same
/// instants, so that two systems can be given exactly the same history.
/// </summary>
internal sealed class Workload
{
    private static readonly Instant FirstDay = Instant.FromUtc(2026, 3, 2, 16, 0);
    private static readonly int[] RenewalMonths = [1, 3, 6, 12, 12, 12, 24];

    private Workload(ImmutableArray<WorkloadOperation> operations, ImmutableArray<string> customers)
    {
        Operations = operations;
        Customers = customers;
    }

    public static Instant Start => FirstDay;

    public ImmutableArray<WorkloadOperation> Operations { get; }

    public ImmutableArray<string> Customers { get; }

    public static Workload Generate(int seed, int days)
    {
        var random = new Random(seed);
        var operations = new List<WorkloadOperation>();
        var customers = new[] { ("WL-ACME", "Acme Tubes", 3), ("WL-GLOBEX", "Globex", 2), ("WL-INITECH", "Initech", 2) };
        var plans = customers
            .SelectMany((c, i) => Enumerable.Range(1, c.Item3).Select(n => new Plan(Serial.Parse($"W{i + 1}-{n}"), new Customer(c.Item1, c.Item2), Pool(c.Item1), ActivationDay: random.Next(0, 4))))
            .ToArray();
        var unknown = Serial.Parse("W9-404");
        var renewals = new List<(Serial Serial, RenewalRequest Request)>();
        var termRequests = new List<(Serial Serial, string CorrelationId)>();
        var activations = new List<ActivationRequest>();
        var day = FirstDay;

        for (var d = 0; d < days; d++)
        {
            day += Duration.FromDays(d == 0 ? 0 : random.Next(4, 36));
            var minute = 0;
            Instant Next() => day + Duration.FromMinutes(minute++);
            void Add(string description, Func<SmpOnTables, Task> run) =>
                operations.Add(new WorkloadOperation(Next(), $"day {d} ({day.InUtc().Date:yyyy-MM-dd}): {description}", run));

            foreach (var plan in plans.Where(p => p.ActivationDay == d))
            {
                var request = new ActivationRequest(plan.Serial, null, plan.Customer, [.. plan.Pool.Take(2)], random.NextDouble() < 0.4, day - Duration.FromHours(random.Next(1, 72)));
                activations.Add(request);
                var context = Staff($"act-{plan.Serial}");
                Add($"activate {plan.Serial}", s => s.Licenses.ActivateAsync(request, context, CancellationToken.None));
            }

            for (var n = random.Next(0, 4); n > 0; n--)
            {
                var roll = random.Next(100);
                var plan = plans[random.Next(plans.Length)];
                var id = $"{d}-{minute}";
                if (roll < 12)
                {
                    var context = Staff($"train-{id}");
                    Add($"training for {plan.Serial}", s => s.Licenses.RecordTrainingAsync(plan.Serial, context, CancellationToken.None));
                }
                else if (roll < 38)
                {
                    var choice = random.NextDouble();
                    (Serial Serial, RenewalRequest Request) renewal = choice < 0.6 || renewals.Count == 0
                        ? (plan.Serial, new RenewalRequest($"PO-{d}-{minute}", RenewalMonths[random.Next(RenewalMonths.Length)], null))
                        : renewals[random.Next(renewals.Count)];
                    if (choice >= 0.85 && renewals.Count > 0)
                    {
                        renewal = (renewal.Serial, renewal.Request with { Months = renewal.Request.Months % 24 + 1 }); // same order, other data: a conflict
                    }

                    renewals.Add(renewal);
                    var context = Staff($"renew-{id}");
                    Add($"renewal {renewal.Request} of {renewal.Serial}", s => s.Licenses.RenewAsync(renewal.Serial, renewal.Request, context, CancellationToken.None));
                }
                else if (roll < 52)
                {
                    var contacts = plan.Pool.Where(_ => random.NextDouble() < 0.5).DefaultIfEmpty(plan.Pool[random.Next(plan.Pool.Length)]).ToImmutableArray();
                    var context = Staff($"contacts-{id}");
                    Add($"contacts of {plan.Serial}: {string.Join(", ", contacts)}", s => s.Licenses.ReplaceContactsAsync(plan.Serial, contacts, context, CancellationToken.None));
                }
                else if (roll < 78)
                {
                    // Customer term requests: sometimes a burst past the daily limit, sometimes the same request twice
                    // (a client that retried on its side), sometimes for a serial nobody has.
                    var serial = random.NextDouble() < 0.1 ? unknown : plan.Serial;
                    var burst = random.NextDouble() < 0.25 ? SmpOnTables.Limits.PerSerialPerDay + 1 : 1;
                    for (var b = 0; b < burst; b++)
                    {
                        var request = random.NextDouble() < 0.2 && termRequests.Count > 0 && termRequests[^1].Serial == serial
                            ? termRequests[^1]
                            : (serial, $"term-{d}-{minute}");
                        termRequests.Add(request);
                        var context = new CommandContext("term-requests", request.Item2);
                        Add($"term request {request.Item2} for {serial}", s => s.RequestAsync(CustomerRequestKinds.Term, serial, QuoteScope.License, context, CancellationToken.None));
                    }
                }
                else if (roll < 92)
                {
                    var scope = random.NextDouble() < 0.5 ? QuoteScope.License : QuoteScope.Customer;
                    var context = new CommandContext("quote-requests", $"quote-{id}");
                    Add($"quote request ({scope}) for {plan.Serial}", s => s.RequestAsync(CustomerRequestKinds.Quote, plan.Serial, scope, context, CancellationToken.None));
                }
                else if (activations.Count > 0)
                {
                    var repeat = activations[random.Next(activations.Count)];
                    var context = Staff($"act-again-{id}");
                    Add($"activation of {repeat.Serial} again", s => s.Licenses.ActivateAsync(repeat, context, CancellationToken.None));
                }
            }

            // The daily timers: the reminder scan, then a dispatch run; and the dispatch timer's runs once a lease left
            // by a failed run has run out (it runs each minute): a lease without a recorded hand-over is sent by the
            // first, one whose hand-over the mail service does not know by the next.
            minute = Math.Max(minute, 120);
            var scan = new CommandContext("reminder-scan", $"scan-{d}");
            Add("reminder scan", s => s.Scan.RunAsync(scan, CancellationToken.None));
            Add("mail dispatch", s => s.Dispatcher.RunAsync(CancellationToken.None));
            minute += (int)SmpOnTables.Delivery.Lease.TotalMinutes;
            Add("mail dispatch after the lease", s => s.Dispatcher.RunAsync(CancellationToken.None));
            Add("mail dispatch a minute later", s => s.Dispatcher.RunAsync(CancellationToken.None));
        }

        // Dispatch runs further apart than the lease, after the last day's runs: whatever a lost answer left leased is
        // reconciled and delivered.
        var at = operations[^1].At;
        for (var i = 0; i < 4; i++)
        {
            at += SmpOnTables.Delivery.Lease + Duration.FromMinutes(5);
            operations.Add(new WorkloadOperation(at, $"final mail dispatch {i + 1}", s => s.Dispatcher.RunAsync(CancellationToken.None)));
        }

        return new Workload([.. operations], [.. customers.Select(c => c.Item1)]);
    }

    /// <summary>Runs every operation at its instant, each retried by its caller until it succeeds; the number of retries.</summary>
    public async Task<int> RunAsync(SmpOnTables system, int maxAttemptsPerOperation)
    {
        var retries = 0;
        foreach (var operation in Operations)
        {
            system.Clock.Reset(operation.At);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await operation.Run(system);
                    break;
                }
                catch (Exception) when (attempt < maxAttemptsPerOperation)
                {
                    // What an HTTP client or the Functions host does with a failed call: try it again, unchanged.
                    retries++;
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{operation.Description} failed {attempt} times in a row."), e);
                }
            }
        }

        return retries;
    }

    private static CommandContext Staff(string correlationId) => new("staff", correlationId);

    private static ImmutableArray<EmailAddress> Pool(string customerId)
    {
        var domain = customerId.ToLowerInvariant() + ".example";
        return [.. new[] { "buyer", "it", "cad", "boss" }.Select(name => EmailAddress.Parse($"{name}@{domain}"))];
    }

    private sealed record Plan(Serial Serial, Customer Customer, ImmutableArray<EmailAddress> Pool, int ActivationDay);
}
