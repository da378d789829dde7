using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Functions.Http;

/// <summary>An update as the staff routes show it: never its password, only whether one is stored.</summary>
public sealed record UpdateDocument(string Version, LocalDate ReleasedOn, bool HasPassword, Instant PublishedAt, Instant? AnnouncedAt)
{
    public static UpdateDocument From(UpdateRelease release)
    {
        ArgumentNullException.ThrowIfNull(release);
        return new(release.Version.Value, release.ReleasedOn, release.HasPassword, release.PublishedAt, release.AnnouncedAt);
    }

    public static string Location(UpdateRelease release) => $"/api/updates/{release.Version.Value}";
}

/// <summary>The 202 answer of an announcement: what this call enqueued (zero when every license had heard already).</summary>
public sealed record AnnouncementDocument(int Recipients, int Licenses, int Mails, int Failed = 0);

/// <summary>One published update in a license document: whether the license is entitled to it today.</summary>
public sealed record UpdateEntitlementDocument(string Version, LocalDate ReleasedOn, bool Entitled)
{
    public static UpdateEntitlementDocument From(UpdateEntitlement entitlement)
    {
        ArgumentNullException.ThrowIfNull(entitlement);
        return new(entitlement.Release.Version.Value, entitlement.Release.ReleasedOn, entitlement.Entitled);
    }
}

/// <summary>The password, for a client that asked for JSON. Only ever sent by the password route.</summary>
public sealed record PasswordDocument(string Serial, string Version, string Password)
{
    public override string ToString() => $"PasswordDocument {{ Serial = {Serial}, Version = {Version}, Password = [redacted] }}";
}

/// <summary>The one answer to every well-formed password-link request, whatever became of it.</summary>
public sealed record PasswordRequestAcceptedDocument(string Status, string Detail)
{
    public static PasswordRequestAcceptedDocument Instance { get; } = new(
        "accepted",
        "If the serial and the version are known and the plan includes this update, a new link to its password is on its way to the license's registered contacts.");
}
