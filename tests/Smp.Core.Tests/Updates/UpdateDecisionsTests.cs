using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Updates;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Updates;

/// <summary>R15 for updates: the events recorded when a license hears of an update, asks for a link, or sees a password.</summary>
public class UpdateDecisionsTests
{
    private static readonly UpdateVersion Version = UpdateVersion.Parse("1.96");
    private static readonly NodaTime.Instant At = NoonOn(Date("2026-03-20"));

    [Fact]
    public void An_announcement_is_recorded_once_per_version_whatever_mail_carried_it()
    {
        var license = ActivatedOn("2026-03-14");

        var first = Changed(PlanDecisions.RecordAnnouncement(license, [], Version, "mail-1", At, Staff));
        var history = new[] { first.Event };

        Assert.Same(license, first.License);
        Assert.Equal(LicenseEventTypes.UpdateAnnounced, first.Event.Type);
        Assert.Equal("1.96", first.Event.Data["version"]);
        Assert.Equal("mail-1", first.Event.Data["mailId"]);
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordAnnouncement(license, history, Version, "mail-1", At, Staff));
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordAnnouncement(license, history, Version, "mail-2", At, Staff));
        Assert.IsType<Decision.Change>(PlanDecisions.RecordAnnouncement(license, history, UpdateVersion.Parse("1.97"), "mail-3", At, Staff));
    }

    [Fact]
    public void A_password_link_request_is_recorded_once_per_mail()
    {
        var license = ActivatedOn("2026-03-14");

        var first = Changed(PlanDecisions.RecordPasswordLinkRequested(license, [], Version, "mail-1", At, Staff));

        Assert.Equal(LicenseEventTypes.PasswordLinkRequested, first.Event.Type);
        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordPasswordLinkRequested(license, [first.Event], Version, "mail-1", At, Staff));
        Assert.IsType<Decision.Change>(PlanDecisions.RecordPasswordLinkRequested(license, [first.Event], Version, "mail-2", At, Staff));
    }

    [Fact]
    public void A_password_release_is_an_event_with_the_version_the_client_hash_and_the_day_only()
    {
        var license = ActivatedOn("2026-03-14");
        var today = new NodaTime.LocalDate(2026, 4, 2);

        var release = Changed(PlanDecisions.RecordPasswordReleased(license, [], Version, "0123456789abcdef", today, At, Staff));

        Assert.Equal(LicenseEventTypes.PasswordReleased, release.Event.Type);
        Assert.Equal(At, release.Event.At);
        Assert.Equal(Staff.Actor, release.Event.Actor);
        Assert.Equal(Staff.CorrelationId, release.Event.CorrelationId);
        Assert.Equal(["clientAddressHash", "releasedOn", "version"], release.Event.Data.Keys);
        Assert.Equal("2026-04-02", release.Event.Data["releasedOn"]);
    }

    [Fact]
    public void The_same_release_to_the_same_client_on_the_same_day_is_recorded_once_and_others_are_recorded()
    {
        var license = ActivatedOn("2026-03-14");
        var today = new NodaTime.LocalDate(2026, 4, 2);
        var first = Changed(PlanDecisions.RecordPasswordReleased(license, [], Version, "0123456789abcdef", today, At, Staff));

        Assert.IsType<Decision.NoChange>(PlanDecisions.RecordPasswordReleased(first.License, [first.Event], Version, "0123456789abcdef", today, At, Staff));
        Assert.IsType<Decision.Change>(PlanDecisions.RecordPasswordReleased(first.License, [first.Event], Version, "fedcba9876543210", today, At, Staff));
        Assert.IsType<Decision.Change>(PlanDecisions.RecordPasswordReleased(first.License, [first.Event], Version, "0123456789abcdef", today.PlusDays(1), At, Staff));
    }
}
