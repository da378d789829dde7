using System.Reflection;
using System.Text.RegularExpressions;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.Core.Updates;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Licenses;

/// <summary>
/// R13, R14, R15: the idempotency of the event-recording commands compares stored event data by name, so every
/// name is one constant of <see cref="LicenseEventData"/>, written and read through it; a misspelt name cannot
/// compile, and the stored names never change.
/// </summary>
public partial class LicenseEventDataTests
{
    private const string ConstantsFile = "LicenseEventData.cs";

    private static readonly UpdateVersion Version196 = UpdateVersion.Parse("1.96");

    private static IReadOnlyList<string> Names =>
        typeof(LicenseEventData).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();

    [Fact]
    public void R15_the_event_data_names_are_the_names_stored_in_recorded_events()
    {
        // Events already stored (and shown by GET /api/licenses/{serial}) carry these exact names; changing one would
        // make the idempotency checks miss every event recorded before.
        string[] stored =
        [
            "product", "customerId", "onSiteTraining", "activationEmailSentAt", "start", "expiresOn", "previousExpiresOn",
            "orderReference", "months", "coveredFrom", "paidAt", "contacts", "previousContacts", "stage", "dueOn", "mailId",
            "version", "clientAddressHash", "releasedOn", "requestedFor", "scope", "notificationMailId",
            "acknowledgementMailId", "newSerial", "serial", "reason", "row", "fileSha256", "note", "activationEmailSentOn", "importId",
        ];

        Assert.Equal(stored.Order(StringComparer.Ordinal), Names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void R15_every_event_the_decisions_record_names_its_data_through_LicenseEventData()
    {
        var sentOn = Date("2026-03-14");
        var license = ActivatedOn(sentOn);
        var now = NoonOn(Date("2026-04-01"));
        var reminder = new PlannedReminder(new ReminderStage(30), Date("2026-03-14"), Date("2026-04-13"));
        LicenseEvent[] events =
        [
            Changed(PlanDecisions.Activate(null, ActivationRequest(sentOn), PlanOptions.DefaultProductName, sentOn, NoonOn(sentOn), Staff)).Event,
            Changed(PlanDecisions.RecordTraining(license, Date("2026-04-01"), now, Staff)).Event,
            Changed(PlanDecisions.Renew(license, new RenewalRequest("PO-9", 12, now), Date("2026-04-01"), now, Staff)).Event,
            Changed(PlanDecisions.ReplaceContacts(license, [EmailAddress.Parse("new@acme.example")], now, Staff)).Event,
            Changed(PlanDecisions.RecordReminder(license, reminder, ReminderOutcome.Sent, "mail-1", now, Staff)).Event,
            Changed(PlanDecisions.RecordAnnouncement(license, [], Version196, "mail-2", now, Staff)).Event,
            Changed(PlanDecisions.RecordPasswordReleased(license, [], Version196, "hash-1", Date("2026-04-01"), now, Staff)).Event,
            Changed(PlanDecisions.RecordPasswordLinkRequested(license, [], Version196, "mail-3", now, Staff)).Event,
        ];

        Assert.All(events, e => Assert.All(e.Data.Keys, key => Assert.Contains(key, Names)));
    }

    [Fact]
    public void R13_R14_the_idempotency_reads_find_the_events_the_writes_recorded()
    {
        var license = ActivatedOn("2026-03-14");
        var today = Date("2026-04-01");
        var now = NoonOn(today);

        var announced = Changed(PlanDecisions.RecordAnnouncement(license, [], Version196, "mail-2", now, Staff)).Event;
        Assert.Equal(Version196.Value, announced.Data[LicenseEventData.Version]);
        Assert.Equal("mail-2", announced.Data[LicenseEventData.MailId]);
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordAnnouncement(license, [announced], Version196, "mail-other", now, Staff));

        var released = Changed(PlanDecisions.RecordPasswordReleased(license, [], Version196, "hash-1", today, now, Staff)).Event;
        Assert.Equal(["clientAddressHash", "releasedOn", "version"], released.Data.Keys);
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordPasswordReleased(license, [released], Version196, "hash-1", today, now + Duration.FromHours(1), Staff));

        var linked = Changed(PlanDecisions.RecordPasswordLinkRequested(license, [], Version196, "mail-3", now, Staff)).Event;
        Assert.Equal("mail-3", linked.Data[LicenseEventData.MailId]);
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordPasswordLinkRequested(license, [linked], Version196, "mail-3", now, Staff));
    }

    [Fact]
    public void R15_no_event_data_name_is_spelt_as_a_literal_in_src_outside_LicenseEventData()
    {
        var src = Path.Combine(RepositoryRoot.Path, "src");
        var names = Names.ToHashSet(StringComparer.Ordinal);
        var findings = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepositoryRoot.Path, file).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)
                || Path.GetFileName(file) == ConstantsFile)
            {
                continue;
            }

            var lines = File.ReadAllLines(file);
            // A file that works with license events must not spell an event data name itself; elsewhere in src/ the
            // same words are HTTP fields or table columns, so only a literal read or write of event data counts.
            var eventFile = lines.Any(l => EventWork().IsMatch(l));
            for (var i = 0; i < lines.Length; i++)
            {
                var code = lines[i].TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (Match literal in StringLiteral().Matches(code))
                {
                    var value = literal.Groups["value"].Value;
                    if (eventFile && names.Contains(value))
                    {
                        findings.Add($"{relative}:{i + 1}: \"{value}\"");
                    }
                }

                if (LiteralDataAccess().IsMatch(code))
                {
                    findings.Add($"{relative}:{i + 1}: {code}");
                }
            }
        }

        Assert.True(findings.Count == 0, "Use the constants of LicenseEventData for event data names:\n" + string.Join('\n', findings));
    }

    [GeneratedRegex(@"\bLicenseEvent(Types)?\b|\bPlanDecisions\.|\bRecordRequestOnceAsync\b")]
    private static partial Regex EventWork();

    [GeneratedRegex("(?<![@$])\"(?<value>(?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex("\\bData\\s*(\\[\\s*\"|\\.\\s*(GetValueOrDefault|TryGetValue|ContainsKey|Remove|Add)\\s*\\(\\s*\")")]
    private static partial Regex LiteralDataAccess();
}
