using System.Globalization;
using System.Text;
using NodaTime;
using Smp.Core.Plans;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>
/// The console's updates page (SPEC section 8): the published updates, the publish form (its password field is never
/// filled in, not even when the form comes back refused) and the announcement's confirmation step.
/// </summary>
public static class ConsoleUpdatesPage
{
    public const string Path = "/console/updates";

    /// <summary>The confirmations a redirect to the updates page may show, by key (nothing the caller wrote is echoed).</summary>
    public static string? Confirmation(string done, string recipients, string licenses, string failed) => done switch
    {
        "published" => "The update was published.",
        "announced" when Count(recipients) is { } r && Count(licenses) is { } l => $"The update was announced: {Number(r)} recipients about {Number(l)} licenses."
            + (Count(failed) is > 0 and var f ? $" {Number(f)} licenses could not be reached; announce again to retry them." : string.Empty),
        _ => null,
    };

    public static string AnnouncePath(UpdateVersion version) => Path + "/" + Uri.EscapeDataString(version.Value) + "/announcements";

    public static string Body(IReadOnlyList<UpdateRelease> releases, LocalDate today, DateTimeZone zone, string? token, IReadOnlyDictionary<string, string>? values, ValidationErrors? errors)
    {
        var html = new StringBuilder();
        if (releases.Count == 0)
        {
            html.Append("<p id=\"no-updates\">No update is published yet.</p>");
        }
        else
        {
            html.Append("<table class=\"updates\"><caption>Published updates</caption><thead><tr><th scope=\"col\">Version</th><th scope=\"col\">Released on</th>")
                .Append("<th scope=\"col\">Password stored</th><th scope=\"col\">Published</th><th scope=\"col\">Announced</th>");
            if (token is not null)
            {
                html.Append("<th scope=\"col\">Action</th>");
            }

            html.Append("</tr></thead><tbody>");
            foreach (var release in releases.OrderByDescending(r => r.ReleasedOn).ThenBy(r => r.Version.Value, StringComparer.Ordinal))
            {
                html.Append("<tr><td>").Append(H(release.Version.Value)).Append("</td><td>").Append(Date(release.ReleasedOn)).Append("</td><td>").Append(release.HasPassword ? "yes" : "no")
                    .Append("</td><td>").Append(H(ConsolePages.Instant(release.PublishedAt, zone))).Append("</td><td>")
                    .Append(release.AnnouncedAt is { } at ? H(ConsolePages.Instant(at, zone)) : "not yet").Append("</td>");
                if (token is not null)
                {
                    html.Append("<td>");
                    if (release.IsReleasedOn(today) && release.HasPassword)
                    {
                        html.Append("<a href=\"").Append(H(AnnouncePath(release.Version))).Append("\" aria-label=\"Announce update ").Append(H(release.Version.Value)).Append("\">Announce…</a>");
                    }
                    else
                    {
                        html.Append(release.HasPassword ? "Released on " + Date(release.ReleasedOn) : "Store its password to announce it");
                    }

                    html.Append("</td>");
                }

                html.Append("</tr>");
            }

            html.Append("</tbody></table>");
        }

        if (token is not null)
        {
            html.Append(PublishForm(token, values ?? new Dictionary<string, string>(), errors));
        }

        return html.ToString();
    }

    /// <summary>The publish form; the password field is always empty and never autocompleted.</summary>
    public static string PublishForm(string token, IReadOnlyDictionary<string, string> values, ValidationErrors? errors)
    {
        string Value(string name) => values.TryGetValue(name, out var v) ? v : string.Empty;
        var inner = ErrorSummary(errors)
            + Field("update-version", "version", "Version", Value("version"), errors, "text", " required maxlength=\"" + Number(UpdateVersion.MaxLength) + "\"")
            + Field("update-released-on", "releasedOn", "Released on (yyyy-MM-dd)", Value("releasedOn"), errors, "date", " required")
            + Field("update-password", "password", "Password (stored in the secret store, never shown again)", string.Empty, errors, "password", " autocomplete=\"off\"");
        return "<section class=\"publish\"><h2>Publish an update</h2>" + Form(Path, token, inner, "Publish update", "Publish an update") + "</section>";
    }

    /// <summary>The announcement's confirmation step: what it will do, and the button that does it.</summary>
    public static string Confirm(UpdateRelease release, DateTimeZone zone, string token)
    {
        var html = new StringBuilder("<p>Announcing update <strong>").Append(H(release.Version.Value)).Append("</strong> (released on ").Append(Date(release.ReleasedOn))
            .Append(") mails the contacts of every license current today, with a personal password link per license. A license that has heard of this version before is not mailed again.</p>");
        if (release.AnnouncedAt is { } at)
        {
            html.Append("<p>It was announced before, at ").Append(H(ConsolePages.Instant(at, zone))).Append("; announcing again reaches only licenses that did not hear of it.</p>");
        }

        html.Append("<p>Are you sure?</p>")
            .Append(Form(AnnouncePath(release.Version), token, string.Empty, "Announce update " + release.Version.Value, "Announce update " + release.Version.Value))
            .Append("<p><a href=\"").Append(Path).Append("\">Cancel</a></p>");
        return html.ToString();
    }

    private static int? Count(string text) =>
        text is { Length: > 0 and <= 9 } && text.All(char.IsAsciiDigit) ? int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : null;
}
