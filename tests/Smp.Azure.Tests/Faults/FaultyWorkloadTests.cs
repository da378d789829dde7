using System.Globalization;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;
using Xunit.Abstractions;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// A randomized history of the back end's use, run twice on fresh tables: once while one storage call in ten fails
/// (503s, timeouts before and after storage did the work, answers lost after it did), every failed operation retried
/// by its caller until it succeeds; once without faults. Both must end in the same state: the same licenses, events,
/// reminders, index rows, request counts, outbox messages and claims, and each mail delivered exactly once.
/// </summary>
/// <remarks>
/// The two runs see the same operations at the same instants (the clock is fake and set per operation, retries
/// included), so even event instants must be equal. What may differ is listed in <see cref="SystemState.ReadAsync"/>:
/// stale index rows and markers (removed by the readers before comparing) and each mail's delivery history (a mail
/// whose lease or outcome was lost is delivered by a later dispatch run, after more attempts). Set SMP_FAULT_SEED to
/// replay one seed; the faults a seed draws depend only on the calls made (see <see cref="FaultInjectionPolicy"/>).
/// </remarks>
public sealed class FaultyWorkloadTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const double FaultRate = 0.10;
    private const int Days = 24;
    private const int MaxAttemptsPerOperation = 40;

    [Theory]
    [InlineData(20261127, 3)] // Azure.Core's default retry count, as in production.
    [InlineData(4711, 1)] // One SDK retry: more failures reach the caller, whose retries then matter more.
    public async Task A_history_run_under_storage_faults_ends_in_the_state_it_reaches_without_faults(int defaultSeed, int sdkRetries)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SMP_FAULT_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var chosen) ? chosen : defaultSeed;
        var replay = $"seed {seed} (SMP_FAULT_SEED={seed} replays it), {sdkRetries} Azure.Core retries";
        output.WriteLine(replay);
        var workload = Workload.Generate(seed, Days);

        var faults = new FaultInjectionPolicy(seed, FaultRate);
        var faulty = SmpOnTables.Create(azurite, Workload.Start, sdkRetries, faults);
        int callerRetries;
        try
        {
            callerRetries = await workload.RunAsync(faulty, MaxAttemptsPerOperation);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{replay}: {e.Message}", e);
        }

        var clean = SmpOnTables.Create(azurite, Workload.Start, sdkRetries);
        Assert.Equal(0, await workload.RunAsync(clean, maxAttemptsPerOperation: 1));

        var expected = await clean.ReadStateAsync(workload.Customers);
        var actual = await faulty.ReadStateAsync(workload.Customers);
        output.WriteLine($"{workload.Operations.Length} operations, {callerRetries} retried by their caller; {faults.Summary()}");
        output.WriteLine($"{expected.Facts.Count} stored facts, {expected.MessageStatuses.Count} mails");
        foreach (var (serial, types) in expected.EventTypes)
        {
            output.WriteLine($"  {serial}: {types}");
        }

        var differences = expected.Differences(actual);
        Assert.True(differences.Count == 0, $"{replay}: the state differs from the run without faults:\n" + string.Join("\n", differences));

        // Both runs delivered every mail exactly once, and the faults were real and varied enough to mean something.
        Assert.All(actual.MessageStatuses, m => Assert.True(m.Value == "Sent", $"{replay}: mail {m.Key} is {m.Value}."));
        Assert.Equal(actual.MessageStatuses.Keys.Order(StringComparer.Ordinal), actual.Deliveries.Keys);
        Assert.All(actual.Deliveries, d => Assert.True(d.Value == 1, $"{replay}: mail {d.Key} was delivered {d.Value} times."));
        Assert.All(Enum.GetValues<StorageFault>(), f => Assert.True(faults.Injected(f) > 0, $"{replay}: no {f} fault was injected."));
        var eventTypes = expected.EventTypes.Values.SelectMany(t => t.Split(',')).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(
            new HashSet<string>(StringComparer.Ordinal)
            {
                LicenseEventTypes.Activated, LicenseEventTypes.Renewed, LicenseEventTypes.ContactsChanged, LicenseEventTypes.ReminderSent,
                LicenseEventTypes.TermRequested, LicenseEventTypes.QuoteRequested,
            },
            eventTypes);
    }
}
