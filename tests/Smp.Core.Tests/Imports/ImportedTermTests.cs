using System.Collections.Immutable;
using FsCheck;
using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Imports;

/// <summary>
/// SPEC section 9: an imported row is a fact like an activation. Its term is <c>{kind: imported, start, end: expiresOn}</c>,
/// covered from <c>activationEmailSentOn</c> when given, else from the start; R5-R14 then apply as to any license.
/// </summary>
public class ImportedTermTests
{
    private static readonly ImportSource File = new(new string('a', 64), Date("2027-02-15"));

    public static ImportRow Row(string expiresOn, string? planStart = null, string? sentOn = null, bool training = false, int rowNumber = 2, string? note = null)
    {
        var expires = Date(expiresOn);
        var sent = sentOn is null ? (LocalDate?)null : Date(sentOn);
        var start = ImportedPlan.StartFor(planStart is null ? null : Date(planStart), sent, expires);
        return new ImportRow(rowNumber, Serial.Parse(SerialNumber), null, Acme, AcmeContacts, training, new ImportedPlan(sent, start, expires), note);
    }

    public static Decision Import(ImportRow row, License? existing = null, ImportSource? source = null, ReminderSchedule? schedule = null) =>
        PlanDecisions.Import(existing, row, source ?? File, PlanOptions.DefaultProductName, schedule ?? ReminderSchedule.Default, BusinessZone, NoonOn((source ?? File).ImportedOn), Staff);

    public static License Imported(ImportRow row, ImportSource? source = null) => Changed(Import(row, source: source)).License;

    [Fact]
    public void Section9_start_is_planStart_else_R2_start_of_activation_else_expiresOn_minus_12_months()
    {
        Assert.Equal(Date("2026-05-01"), Imported(Row("2027-05-01", planStart: "2026-05-01", sentOn: "2026-03-14")).Terms[0].Start);
        Assert.Equal(Date("2026-04-01"), Imported(Row("2027-05-01", sentOn: "2026-03-14")).Terms[0].Start);
        Assert.Equal(Date("2026-05-01"), Imported(Row("2027-05-01")).Terms[0].Start);
    }

    [Fact]
    public void Section9_imported_term_is_covered_from_activation_else_from_start_until_expiresOn()
    {
        var withActivation = Imported(Row("2027-04-01", sentOn: "2026-03-14"));
        Assert.Equal(
            new Term(TermKind.Imported, Date("2026-04-01"), Date("2027-04-01"), 12, null, TermSource.Import, null, Date("2026-03-14")),
            Assert.Single(withActivation.Terms));
        Assert.Equal(PlanStatus.Lapsed, withActivation.StatusOn(Date("2026-03-13")));
        Assert.Equal(PlanStatus.Current, withActivation.StatusOn(Date("2026-03-14")));
        Assert.Equal(PlanStatus.Current, withActivation.StatusOn(Date("2027-03-31")));
        Assert.Equal(PlanStatus.Lapsed, withActivation.StatusOn(Date("2027-04-01")));
        Assert.Equal(Date("2027-04-01"), withActivation.ExpiresOn);

        var withoutActivation = Imported(Row("2026-06-15", planStart: "2026-05-01"));
        var term = Assert.Single(withoutActivation.Terms);
        Assert.Equal((Date("2026-05-01"), (int?)null, (int?)45), (term.CoveredFrom, term.Months, term.Days));
        Assert.Equal(PlanStatus.Lapsed, withoutActivation.StatusOn(Date("2026-04-30")));
        Assert.Equal(PlanStatus.Current, withoutActivation.StatusOn(Date("2026-05-01")));
    }

    [Fact]
    public void Section9_first_event_is_imported_with_row_file_hash_note_and_actor()
    {
        var change = Changed(Import(Row("2027-04-01", sentOn: "2026-03-14", rowNumber: 7, note: "from the old sheet")));

        Assert.Equal(LicenseEventTypes.Imported, change.Event.Type);
        Assert.Equal(Staff.Actor, change.Event.Actor);
        Assert.Equal("7", change.Event.Data[LicenseEventData.Row]);
        Assert.Equal(File.FileSha256, change.Event.Data[LicenseEventData.FileSha256]);
        Assert.Equal("from the old sheet", change.Event.Data[LicenseEventData.Note]);
        Assert.Equal("2026-03-14", change.Event.Data[LicenseEventData.ActivationEmailSentOn]);
        Assert.Equal("2027-04-01", change.Event.Data[LicenseEventData.ExpiresOn]);
    }

    [Fact]
    public void Section9_same_row_again_is_unchanged_and_other_data_for_the_serial_is_a_conflict()
    {
        var row = Row("2027-04-01", sentOn: "2026-03-14");
        var license = Imported(row).RenewedOn("2027-03-01");

        Assert.IsType<Decision.NoChange>(Import(row with { RowNumber = 9, Note = "again" }, license));
        Assert.IsType<Decision.Refuse>(Import(Row("2027-05-01", sentOn: "2026-03-14"), license));
        Assert.IsType<Decision.Refuse>(Import(row with { OnSiteTraining = true }, license));
        Assert.IsType<Decision.Refuse>(Import(row, ActivatedOn("2026-03-14", onSiteTraining: true)));
    }

    [Fact]
    public void R6_renewal_before_imported_expiresOn_continues_from_it()
    {
        var license = Imported(Row("2027-04-15", planStart: "2026-04-01")).RenewedOn("2027-03-01");

        Assert.Equal(new Term(TermKind.Renewal, Date("2027-04-15"), Date("2028-04-15"), 12, null, TermSource.Renewal, "PO-1", Date("2027-04-15")), license.Terms[^1]);
        Assert.Equal(Date("2028-04-15"), license.ExpiresOn);
    }

    [Fact]
    public void R6_renewal_after_imported_expiresOn_resumes_on_recording_and_starts_next_month()
    {
        var license = Imported(Row("2027-04-15", planStart: "2026-04-01")).RenewedOn("2027-05-10", months: 6);

        Assert.Equal(new Term(TermKind.Renewal, Date("2027-06-01"), Date("2027-12-01"), 6, null, TermSource.Renewal, "PO-1", Date("2027-05-10")), license.Terms[^1]);
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(Date("2027-05-09")));
        Assert.Equal(PlanStatus.Current, license.StatusOn(Date("2027-05-10")));
    }

    [Fact]
    public void R5_training_recorded_later_changes_no_imported_term()
    {
        var license = Imported(Row("2026-06-15", planStart: "2026-05-01"));
        var trained = license.WithTrainingRecordedOn("2026-05-20");

        Assert.True(trained.OnSiteTraining);
        Assert.Equal<Term>(license.Terms, trained.Terms);
        Assert.Equal(Date("2026-06-15"), trained.ExpiresOn);
    }

    [Fact]
    public void R8_reminders_due_before_the_import_date_are_handled_before_import_and_never_sent()
    {
        // Imported 2027-02-15; expires 2027-04-01: the 90-day reminder was due 2027-01-01, the 30-day one is due 2027-03-02.
        var license = Imported(Row("2027-04-01", sentOn: "2026-03-14"));

        var handled = Assert.Single(license.Reminders);
        Assert.Equal((new ReminderStage(90), ReminderOutcome.BeforeImport, Date("2027-01-01"), (string?)null), (handled.Stage, handled.Outcome, handled.DueOn, handled.MailId));
        Assert.Null(ReminderSchedule.Default.DueOn(license, Date("2027-02-15")));
        Assert.Null(ReminderSchedule.Default.DueOn(license, Date("2027-03-01")));
        Assert.Equal(new PlannedReminder(new ReminderStage(30), Date("2027-03-02"), Date("2027-04-01")), ReminderSchedule.Default.DueOn(license, Date("2027-03-02")));
    }

    [Fact]
    public void R8_an_imported_year_has_both_reminders_when_imported_early()
    {
        var license = Imported(Row("2027-12-01", planStart: "2026-12-01"));

        Assert.Empty(license.Reminders);
        Assert.Equal(new PlannedReminder(new ReminderStage(90), Date("2027-09-02"), Date("2027-12-01")), ReminderSchedule.Default.DueOn(license, Date("2027-09-02")));
    }

    [Fact]
    public void R8_imported_plan_that_already_lapsed_records_every_stage_as_handled_and_sends_nothing()
    {
        var license = Imported(Row("2027-01-01", planStart: "2026-01-01"));

        Assert.Equal(2, license.Reminders.Count(r => r.Outcome == ReminderOutcome.BeforeImport));
        Assert.Empty(ReminderSchedule.Default.Pending(license));
        Assert.Equal(PlanStatus.Lapsed, license.StatusOn(File.ImportedOn));
    }

    [Theory]
    [InlineData(EntitlementPolicy.CurrentPlan, "2027-03-01", "2027-03-10", true)]
    [InlineData(EntitlementPolicy.CurrentPlan, "2027-03-01", "2027-04-10", false)]
    [InlineData(EntitlementPolicy.ReleasedDuringCover, "2027-03-01", "2027-04-10", true)]
    [InlineData(EntitlementPolicy.ReleasedDuringCover, "2026-03-13", "2027-03-10", false)]
    [InlineData(EntitlementPolicy.ReleasedDuringCover, "2026-03-14", "2027-03-10", true)]
    public void R13_imported_plan_gets_passwords_per_entitlement_policy(EntitlementPolicy policy, string releasedOn, string today, bool entitled)
    {
        var license = Imported(Row("2027-04-01", sentOn: "2026-03-14"));

        Assert.Equal(entitled, Entitlement.IsEntitled(license, Date(releasedOn), Date(today), policy));
    }

    /// <summary>Coverage invariants over generated rows: one term, covered exactly [coveredFrom, expiresOn), no reminder due before the import.</summary>
    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay, MaxTest = 300)]
    public void Section9_imported_coverage_is_exactly_from_first_covered_day_to_expiresOn(NonNegativeInt startMonths, PositiveInt lengthDays, bool withActivation, NonNegativeInt sentBefore, NonNegativeInt importAfter)
    {
        var start = Date("2020-01-01").PlusMonths(startMonths.Get % 120);
        var expiresOn = start.PlusDays(1 + (lengthDays.Get % 1500));
        LocalDate? sentOn = withActivation ? start.PlusDays(-(sentBefore.Get % 60)) : null;
        var source = new ImportSource(new string('b', 64), start.PlusDays(importAfter.Get % 2000));
        var row = new ImportRow(2, Serial.Parse(SerialNumber), null, Acme, AcmeContacts, false, new ImportedPlan(sentOn, start, expiresOn), null);

        var license = Changed(Import(row, source: source)).License;

        var term = Assert.Single(license.Terms);
        Assert.Equal((TermKind.Imported, start, expiresOn), (term.Kind, term.Start, term.End));
        var coveredFrom = sentOn ?? start;
        Assert.Equal(new DateInterval(coveredFrom, expiresOn.PlusDays(-1)), Assert.Single(PlanRules.CoveredSpans(license)));
        Assert.True(term.Months is null != term.Days is null);
        Assert.All(ReminderSchedule.Default.Pending(license), p => Assert.True(p.DueOn >= source.ImportedOn));
        Assert.All(license.Reminders, r => Assert.True(r.DueOn < source.ImportedOn));
        var renewed = license.RenewedOn(LocalDatePattern(source.ImportedOn));
        Assert.True(renewed.ExpiresOn > license.ExpiresOn);
        Assert.All(PlanRules.CoveredSpans(license).SelectMany(s => s), d => Assert.Equal(PlanStatus.Current, renewed.StatusOn(d)));
    }

    private static string LocalDatePattern(LocalDate date) => NodaTime.Text.LocalDatePattern.Iso.Format(date);
}
