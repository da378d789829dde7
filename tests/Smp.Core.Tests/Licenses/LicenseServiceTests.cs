using System.Collections.Immutable;
using NodaTime;
using NodaTime.Testing;
using NodaTime.Text;
using NSubstitute;
using NSubstitute.Core;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Licenses;

/// <summary>
/// The use cases over a substitute store: a write that loses an optimistic-concurrency race is decided
/// again on the winner's license, never written over it.
/// </summary>
public class LicenseServiceTests
{
    private static readonly Serial Vt10042 = Serial.Parse(SerialNumber);
    private static readonly CommandContext Desk = new("renewals-desk", "corr-1234");
    private static readonly License OneYearPlan = ActivatedOn("2026-03-14", onSiteTraining: true);

    private readonly ILicenseStore store = Substitute.For<ILicenseStore>();
    private readonly FakeClock clock = new(NoonOn(Date("2027-02-10")));

    private LicenseService Service => new(store, new BusinessCalendar(clock, BusinessZone), new PlanOptions(PlanOptions.DefaultProductName));

    [Fact]
    public async Task A_renewal_that_loses_a_concurrent_write_is_decided_again_on_the_winners_license()
    {
        var read = new StoredLicense(OneYearPlan, 1, "etag-1");
        var winner = new StoredLicense(OneYearPlan.RenewedOn("2027-02-09", months: 6, orderReference: "PO-OTHER"), 2, "etag-2");
        var final = new StoredLicense(winner.License.RenewedOn("2027-02-10", months: 12, orderReference: "PO-OURS"), 3, "etag-3");
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(read), Found(winner), Found(final));
        store.TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(false, true);

        var result = await Service.RenewAsync(Vt10042, new RenewalRequest("PO-OURS", 12, null), Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Updated, result.Outcome);
        Assert.Same(final, result.License);

        var writes = CallsTo(nameof(ILicenseStore.TryUpdateAsync));
        Assert.Equal(2, writes.Count);

        var (lostCurrent, lostUpdate, _) = WriteArguments(writes[0]);
        Assert.Same(read, lostCurrent);
        Assert.Equal(["PO-OURS"], lostUpdate.Renewals.Select(r => r.OrderReference));

        var (current, updated, recorded) = WriteArguments(writes[1]);
        Assert.Same(winner, current);
        Assert.Equal(["PO-OTHER", "PO-OURS"], updated.Renewals.Select(r => r.OrderReference));
        Assert.Equal(Date("2027-10-01"), updated.Terms[2].Start);
        Assert.Equal(Date("2028-10-01"), updated.ExpiresOn);
        Assert.Equal("2027-10-01", recorded.Data["previousExpiresOn"]);
        Assert.Equal("2028-10-01", recorded.Data["expiresOn"]);
        Assert.Equal("corr-1234", recorded.CorrelationId);
        Assert.Equal("renewals-desk", recorded.Actor);
        Assert.Equal(clock.GetCurrentInstant(), recorded.At);

        await store.Received(3).GetAsync(Vt10042, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_command_that_loses_to_the_same_change_ends_unchanged_without_writing_again()
    {
        var read = new StoredLicense(ActivatedOn("2026-03-14"), 1, "etag-1");
        var winner = new StoredLicense(read.License.WithTrainingRecordedOn("2027-02-10"), 2, "etag-2");
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(read), Found(winner));
        store.TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(false);

        var result = await Service.RecordTrainingAsync(Vt10042, Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Unchanged, result.Outcome);
        Assert.Same(winner, result.License);
        await store.Received(1).TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>());
        await store.Received(1).TryUpdateAsync(read, Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_renewal_that_loses_to_the_same_order_with_other_months_is_a_conflict_not_an_overwrite()
    {
        var read = new StoredLicense(OneYearPlan, 1, "etag-1");
        var winner = new StoredLicense(OneYearPlan.RenewedOn("2027-02-10", months: 24, orderReference: "PO-1"), 2, "etag-2");
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(read), Found(winner));
        store.TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(false);

        var result = await Service.RenewAsync(Vt10042, new RenewalRequest("PO-1", 12, null), Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Conflict, result.Outcome);
        Assert.Same(winner, result.License);
        Assert.NotNull(result.Detail);
        await store.Received(1).TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_license_that_keeps_changing_is_never_overwritten_the_command_gives_up()
    {
        var attempt = 0L;
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>())
            .Returns(_ => Found(new StoredLicense(OneYearPlan, ++attempt, $"etag-{attempt}")));
        store.TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(false);

        await Assert.ThrowsAsync<ConcurrencyExhaustedException>(
            () => Service.RenewAsync(Vt10042, new RenewalRequest("PO-1", 12, null), Desk, CancellationToken.None));

        var writes = CallsTo(nameof(ILicenseStore.TryUpdateAsync));
        Assert.Equal(LicenseService.MaxAttempts, writes.Count);
        Assert.Equal(Enumerable.Range(1, LicenseService.MaxAttempts).Select(i => (long)i), writes.Select(w => WriteArguments(w).Current.Version));
    }

    [Fact]
    public async Task Commands_on_an_unknown_serial_are_not_found_and_write_nothing()
    {
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(null));

        var training = await Service.RecordTrainingAsync(Vt10042, Desk, CancellationToken.None);
        var renewal = await Service.RenewAsync(Vt10042, new RenewalRequest("PO-1", 12, null), Desk, CancellationToken.None);
        var contacts = await Service.ReplaceContactsAsync(Vt10042, AcmeContacts, Desk, CancellationToken.None);

        Assert.All([training, renewal, contacts], r => Assert.Equal(new CommandResult(CommandOutcome.NotFound, null), r));
        Assert.Empty(CallsTo(nameof(ILicenseStore.TryUpdateAsync)));
        Assert.Empty(CallsTo(nameof(ILicenseStore.TryAddAsync)));
    }

    [Fact]
    public async Task A_repeated_renewal_is_unchanged_and_writes_nothing()
    {
        var stored = new StoredLicense(OneYearPlan.RenewedOn("2027-02-09", orderReference: "PO-1"), 2, "etag-2");
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(stored));

        var result = await Service.RenewAsync(Vt10042, new RenewalRequest("PO-1", 12, null), Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Unchanged, result.Outcome);
        Assert.Same(stored, result.License);
        Assert.Empty(CallsTo(nameof(ILicenseStore.TryUpdateAsync)));
    }

    [Fact]
    public async Task R15_a_customer_request_already_recorded_under_its_mail_id_is_unchanged_and_writes_nothing()
    {
        var stored = new StoredLicense(OneYearPlan, 2, "etag-2");
        var data = new Dictionary<string, string> { [LicenseEventData.MailId] = "mail-1" };
        var earlier = new LicenseEvent(LicenseEventTypes.TermRequested, NoonOn(Date("2027-02-09")), "term-requests", Desk.CorrelationId, data.ToImmutableSortedDictionary(StringComparer.Ordinal));
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(stored));
        store.GetEventsAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Task.FromResult<IReadOnlyList<LicenseEvent>>([earlier]));

        // The same request again (a retry whose first answer was lost, or a run again after a crash, under a correlation
        // id of its own): nothing new.
        var repeat = await Service.RecordRequestOnceAsync(Vt10042, LicenseEventTypes.TermRequested, data, LicenseEventData.MailId, Desk with { CorrelationId = "corr-5678" }, CancellationToken.None);
        Assert.Equal(CommandOutcome.Unchanged, repeat.Outcome);
        Assert.Empty(CallsTo(nameof(ILicenseStore.TryUpdateAsync)));

        // Another request (another mail), or another kind of request: recorded.
        store.TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(true);
        var another = new Dictionary<string, string> { [LicenseEventData.MailId] = "mail-2" };
        await Service.RecordRequestOnceAsync(Vt10042, LicenseEventTypes.TermRequested, another, LicenseEventData.MailId, Desk with { CorrelationId = "corr-5678" }, CancellationToken.None);
        var quote = new Dictionary<string, string> { [LicenseEventData.NotificationMailId] = "mail-1" };
        await Service.RecordRequestOnceAsync(Vt10042, LicenseEventTypes.QuoteRequested, quote, LicenseEventData.NotificationMailId, Desk, CancellationToken.None);
        Assert.Equal(
            [(LicenseEventTypes.TermRequested, "corr-5678"), (LicenseEventTypes.QuoteRequested, Desk.CorrelationId)],
            CallsTo(nameof(ILicenseStore.TryUpdateAsync)).Select(c => (WriteArguments(c).Event.Type, WriteArguments(c).Event.CorrelationId)));
    }

    [Fact]
    public async Task An_activation_stores_the_license_dated_in_the_business_zone()
    {
        var sentAt = OffsetDateTimePattern.ExtendedIso.Parse("2026-03-31T23:30:00-06:00").GetValueOrThrow().ToInstant();
        clock.Reset(sentAt.Plus(Duration.FromSeconds(2)));
        var stored = new StoredLicense(ActivatedOn("2026-03-31"), 1, "etag-1");
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(null));
        store.AddAsync(Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(stored);
        var request = ActivationRequest(Date("2026-03-31")) with { ActivationEmailSentAt = sentAt };

        var result = await Service.ActivateAsync(request, Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Created, result.Outcome);
        Assert.Same(stored, result.License);
        var add = Assert.Single(CallsTo(nameof(ILicenseStore.AddAsync))).GetArguments();
        var added = Assert.IsType<License>(add[0]);
        var recorded = Assert.IsType<LicenseEvent>(add[1]);
        Assert.Equal(Date("2026-03-31"), added.Activation.EmailSentOn);
        Assert.Equal(Date("2026-04-01"), added.Terms[0].Start);
        Assert.Equal(LicenseEventTypes.Activated, recorded.Type);
        Assert.Equal(clock.GetCurrentInstant(), recorded.At);
        Assert.Equal("renewals-desk", recorded.Actor);
        Assert.Equal("corr-1234", recorded.CorrelationId);
    }

    [Fact]
    public async Task An_activation_that_loses_the_add_race_to_an_identical_activation_is_unchanged()
    {
        var request = ActivationRequest(Date("2026-03-14"));
        var stored = new StoredLicense(ActivatedOn("2026-03-14"), 1, "etag-1");
        // The add comes first (no read before it) and is refused; the read then finds the other activation.
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(stored));
        store.AddAsync(Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns((StoredLicense?)null);

        var result = await Service.ActivateAsync(request, Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Unchanged, result.Outcome);
        Assert.Same(stored, result.License);
        Assert.Null(result.Detail);
        Assert.Single(CallsTo(nameof(ILicenseStore.AddAsync)));
        Assert.Single(CallsTo(nameof(ILicenseStore.GetAsync)));
        Assert.Empty(CallsTo(nameof(ILicenseStore.TryUpdateAsync)));
    }

    [Fact]
    public async Task An_activation_that_loses_the_add_race_to_a_different_activation_is_a_conflict()
    {
        var request = ActivationRequest(Date("2026-03-14"));
        var stored = new StoredLicense(ActivatedOn("2026-03-14", onSiteTraining: true), 1, "etag-1");
        // The add comes first (no read before it) and is refused; the read then finds the other activation.
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(stored));
        store.AddAsync(Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns((StoredLicense?)null);

        var result = await Service.ActivateAsync(request, Desk, CancellationToken.None);

        Assert.Equal(CommandOutcome.Conflict, result.Outcome);
        Assert.Same(stored, result.License);
        Assert.Contains(SerialNumber, result.Detail, StringComparison.Ordinal);
        Assert.Single(CallsTo(nameof(ILicenseStore.AddAsync)));
        Assert.Single(CallsTo(nameof(ILicenseStore.GetAsync)));
        Assert.Empty(CallsTo(nameof(ILicenseStore.TryUpdateAsync)));
    }

    [Fact]
    public async Task A_renewal_late_in_the_evening_is_dated_by_the_business_zone_not_UTC()
    {
        // 2027-04-01T05:30Z is 2027-03-31 23:30 in Denver: the day before the one-year plan expires.
        clock.Reset(Instant.FromUtc(2027, 4, 1, 5, 30));
        var stored = new StoredLicense(OneYearPlan, 1, "etag-1");
        store.GetAsync(Vt10042, Arg.Any<CancellationToken>()).Returns(Found(stored));
        store.TryUpdateAsync(Arg.Any<StoredLicense>(), Arg.Any<License>(), Arg.Any<LicenseEvent>(), Arg.Any<CancellationToken>()).Returns(true);

        await Service.RenewAsync(Vt10042, new RenewalRequest("PO-1", 12, null), Desk, CancellationToken.None);

        var (_, updated, _) = WriteArguments(Assert.Single(CallsTo(nameof(ILicenseStore.TryUpdateAsync))));
        Assert.Equal(Date("2027-03-31"), updated.Renewals[0].RecordedOn);
        Assert.Equal(Date("2027-04-01"), updated.Terms[1].Start);
        Assert.Equal(Date("2027-04-01"), updated.Terms[1].CoveredFrom);
        Assert.Equal(Date("2028-04-01"), updated.ExpiresOn);
    }

    private static Task<StoredLicense?> Found(StoredLicense? license) => Task.FromResult(license);

    private static (StoredLicense Current, License Updated, LicenseEvent Event) WriteArguments(ICall call)
    {
        var arguments = call.GetArguments();
        return ((StoredLicense)arguments[0]!, (License)arguments[1]!, (LicenseEvent)arguments[2]!);
    }

    private List<ICall> CallsTo(string method) =>
        [.. store.ReceivedCalls().Where(c => c.GetMethodInfo().Name == method)];
}
