using NodaTime;
using NodaTime.Testing;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Tests.Reminders;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Licenses;

/// <summary>
/// An activation adds a new serial's license without reading it first (the add fails as a whole when the serial is
/// stored), and reads only when the add is refused: every outcome is the one a read first gives.
/// </summary>
public class ActivationWithoutReadTests
{
    private static readonly LocalDate SentOn = Date("2026-03-14");
    private static readonly Serial NewSerial = Serial.Parse("VT-20077");
    private static readonly CommandContext Support = new("support", "corr-replace");

    private readonly CountingStore store = new(new InMemoryLicenseStore(ReminderSchedule.Default));
    private readonly FakeClock clock = new(NoonOn(SentOn).Plus(Duration.FromMinutes(5)));

    private LicenseService Service => new(store, new BusinessCalendar(clock, BusinessZone), new PlanOptions(PlanOptions.DefaultProductName));

    [Fact]
    public async Task A_new_serials_activation_adds_the_license_without_reading_it()
    {
        var result = await Service.ActivateAsync(ActivationRequest(SentOn), Staff, CancellationToken.None);

        Assert.Equal(CommandOutcome.Created, result.Outcome);
        Assert.Equal(1, result.License!.Version);
        Assert.Equal((Serial.Parse(SerialNumber), ActivatedOn(SentOn).ExpiresOn), (result.License.License.Serial, result.License.License.ExpiresOn));
        Assert.Equal((Reads: 0, Adds: 1, Discards: 0), (store.Reads, store.Adds, store.Discards));
    }

    [Fact]
    public async Task The_same_activation_replayed_is_unchanged_and_answers_the_license_as_stored()
    {
        var first = await Service.ActivateAsync(ActivationRequest(SentOn), Staff, CancellationToken.None);
        store.Reset();
        clock.Advance(Duration.FromMinutes(3));

        var replay = await Service.ActivateAsync(ActivationRequest(SentOn), Staff, CancellationToken.None);

        // What a read first answers: the stored license, unchanged.
        Assert.Equal(CommandOutcome.Unchanged, replay.Outcome);
        Assert.Equal(first.License, replay.License);
        Assert.Null(replay.Detail);
        Assert.Equal(ReadFirst(replay.License!, ActivationRequest(SentOn)), (replay.Outcome, replay.Detail));
        Assert.Equal((Reads: 1, Adds: 1, Discards: 1), (store.Reads, store.Adds, store.Discards));
        Assert.Equal(1, (await store.GetAsync(Serial.Parse(SerialNumber), CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task A_different_activation_of_a_stored_serial_is_a_conflict_and_changes_nothing()
    {
        var first = await Service.ActivateAsync(ActivationRequest(SentOn), Staff, CancellationToken.None);
        store.Reset();

        var other = ActivationRequest(SentOn, onSiteTraining: true);
        var result = await Service.ActivateAsync(other, Staff, CancellationToken.None);

        Assert.Equal(CommandOutcome.Conflict, result.Outcome);
        Assert.Equal(first.License, result.License);
        Assert.Contains(SerialNumber, result.Detail, StringComparison.Ordinal);
        Assert.Equal(ReadFirst(first.License!, other), (result.Outcome, result.Detail));
        Assert.Equal((Reads: 1, Adds: 1, Discards: 1), (store.Reads, store.Adds, store.Discards));
        Assert.Equal(first.License, await store.GetAsync(first.License!.License.Serial, CancellationToken.None));
    }

    [Fact]
    public async Task Section10_activating_a_replaced_serial_or_its_replacement_answers_what_a_read_first_answers()
    {
        var request = ActivationRequest(SentOn);
        var old = (await Service.ActivateAsync(request, Staff, CancellationToken.None)).License!.License.Serial;
        clock.Reset(NoonOn(Date("2026-09-15")));
        Assert.Equal(CommandOutcome.Created, (await Service.ReplaceAsync(old, NewSerial, "broken", Support, CancellationToken.None)).Outcome);
        var replaced = (await store.GetAsync(old, CancellationToken.None))!;
        var replacement = (await store.GetAsync(NewSerial, CancellationToken.None))!;
        store.Reset();

        var again = await Service.ActivateAsync(request, Staff, CancellationToken.None);
        var ofNew = await Service.ActivateAsync(request with { Serial = NewSerial }, Staff, CancellationToken.None);

        Assert.Equal(ReadFirst(replaced, request), (again.Outcome, again.Detail));
        Assert.Equal(replaced, again.License);
        Assert.Equal(ReadFirst(replacement, request with { Serial = NewSerial }), (ofNew.Outcome, ofNew.Detail));
        Assert.Equal(replacement, ofNew.License);
        Assert.Equal((Reads: 2, Adds: 2, Discards: 2), (store.Reads, store.Adds, store.Discards));
        Assert.Equal(replaced, await store.GetAsync(old, CancellationToken.None));
        Assert.Equal(replacement, await store.GetAsync(NewSerial, CancellationToken.None));
    }

    [Fact]
    public async Task An_activation_whose_add_loses_to_an_identical_one_reads_once_and_is_unchanged()
    {
        // Another request stores the serial between this one's decision and its add: the add is refused, and the read decides.
        var request = ActivationRequest(SentOn);
        store.BeforeAdd = async () =>
        {
            store.BeforeAdd = null;
            var winner = Changed(PlanDecisions.Activate(null, request, PlanOptions.DefaultProductName, SentOn, clock.GetCurrentInstant(), Staff));
            Assert.True(await store.TryAddAsync(winner.License, winner.Event, CancellationToken.None));
        };

        var result = await Service.ActivateAsync(request, Staff, CancellationToken.None);

        Assert.Equal(CommandOutcome.Unchanged, result.Outcome);
        Assert.Equal(1, result.License!.Version);
        Assert.Equal((Reads: 1, Adds: 1, Discards: 1), (store.Reads, store.Adds, store.Discards));
    }

    /// <summary>The outcome of deciding on the license read first (how every activation was decided before).</summary>
    private (CommandOutcome, string?) ReadFirst(StoredLicense existing, ActivationRequest request) =>
        PlanDecisions.Activate(existing.License, request, PlanOptions.DefaultProductName, SentOn, clock.GetCurrentInstant(), Staff) switch
        {
            Decision.NoChange => (CommandOutcome.Unchanged, null),
            Decision.Refuse refuse => (CommandOutcome.Conflict, refuse.Detail),
            var other => throw new InvalidOperationException($"An activation of a stored serial decided {other}."),
        };

    /// <summary>Counts the reads and adds the service makes (through this store, not the inner store's own).</summary>
    private sealed class CountingStore(ILicenseStore inner) : ForwardingLicenseStore(inner)
    {
        private int reads;
        private int adds;
        private int discards;

        public int Reads => Volatile.Read(ref reads);

        public int Adds => Volatile.Read(ref adds);

        /// <summary>Calls to remove what a refused add wrote ahead.</summary>
        public int Discards => Volatile.Read(ref discards);

        /// <summary>Run once before the next add reaches the inner store.</summary>
        public Func<Task>? BeforeAdd { get; set; }

        public void Reset()
        {
            Interlocked.Exchange(ref reads, 0);
            Interlocked.Exchange(ref adds, 0);
            Interlocked.Exchange(ref discards, 0);
        }

        public override Task DiscardRefusedAddAsync(License attempted, LicenseEvent firstEvent, StoredLicense stored, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref discards);
            return base.DiscardRefusedAddAsync(attempted, firstEvent, stored, cancellationToken);
        }

        public override Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref reads);
            return base.GetAsync(serial, cancellationToken);
        }

        public override async Task<StoredLicense?> AddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref adds);
            if (BeforeAdd is { } before)
            {
                await before();
            }

            return await base.AddAsync(license, firstEvent, cancellationToken);
        }
    }
}
