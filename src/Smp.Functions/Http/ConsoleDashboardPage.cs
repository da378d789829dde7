using System.Globalization;
using System.Text;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Licenses;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>The console's dashboard (SPEC section 8): counts, two monthly charts as inline SVG with the same numbers in tables, failed mail, the latest events.</summary>
public static class ConsoleDashboardPage
{
    private static readonly YearMonthPattern MonthPattern = YearMonthPattern.CreateWithInvariantCulture("MMM uuuu");
    private static readonly YearMonthPattern ShortMonthPattern = YearMonthPattern.CreateWithInvariantCulture("MMM");
    private static readonly YearMonthPattern YearPattern = YearMonthPattern.CreateWithInvariantCulture("uuuu");

    public static string Body(ExpiryFigures figures, int current, int failedMail, bool partial, IReadOnlyList<RecentLicenseEvent> latest, DateTimeZone zone, bool canActivate = false)
    {
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(latest);
        var html = new StringBuilder(canActivate ? "<p><a href=\"/console/activations/new\">Record an activation</a></p>" : string.Empty)
            .Append("<p><a id=\"export-csv\" href=\"").Append(Functions.ExportFunctions.ConsolePath).Append("\" download>Export every license as CSV</a></p>")
            .Append("<dl class=\"facts\">")
            .Append("<dt>Current (not expired)</dt><dd id=\"current\">").Append(Number(current)).Append("</dd>")
            .Append("<dt>Expiring in 30 days</dt><dd id=\"expiring-30\">").Append(Number(figures.ExpiringIn30Days)).Append("</dd>")
            .Append("<dt>Expiring in 90 days</dt><dd id=\"expiring-90\">").Append(Number(figures.ExpiringIn90Days)).Append("</dd>")
            .Append("<dt>Lapsed in the last 90 days</dt><dd id=\"lapsed-90\">").Append(Number(figures.LapsedInLast90Days)).Append("</dd>")
            .Append("<dt>Failed mail</dt><dd id=\"failed-mail\"><a href=\"/console/mail\">").Append(Number(failedMail)).Append("</a></dd>")
            .Append("</dl>");
        if (partial)
        {
            html.Append("<p>Only the first ").Append(Number(MaxLicenses)).Append(" licenses of the period are counted.</p>");
        }

        html.Append("<h2>Expiries in the next 12 months</h2>").Append(Chart("expiries", "Licenses expiring per month, next 12 months", figures.ExpiriesByMonth));
        html.Append("<h2>Lapses in the past 12 months</h2>").Append(Chart("lapses", "Licenses lapsed per month, past 12 months", figures.LapsesByMonth));
        html.Append("<h2>Latest events</h2>");
        if (latest.Count == 0)
        {
            return html.Append("<p id=\"latest-events\">No events yet.</p>").ToString();
        }

        html.Append("<table class=\"events\" id=\"latest-events\"><caption>The latest changes to any license, newest first</caption>")
            .Append("<thead><tr><th scope=\"col\">When</th><th scope=\"col\">Event</th><th scope=\"col\">License</th><th scope=\"col\">By</th></tr></thead><tbody>");
        foreach (var (serial, _, e) in latest)
        {
            html.Append("<tr><td>").Append(H(ConsolePages.Instant(e.At, zone))).Append("</td><td>").Append(H(e.Type)).Append("</td><td><a href=\"")
                .Append(H("/console/licenses/" + Uri.EscapeDataString(serial.Value))).Append("\">").Append(H(serial.Value)).Append("</a></td><td>").Append(H(e.Actor)).Append("</td></tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>How many of the latest events the dashboard shows.</summary>
    public const int LatestEvents = 20;

    /// <summary>The most licenses the dashboard reads from the expiry report in one view.</summary>
    public const int MaxLicenses = 5000;

    private static string Chart(string id, string caption, IReadOnlyList<(YearMonth Month, int Count)> series)
    {
        const int Width = 600;
        const int Height = 160;
        var max = Math.Max(1, series.Max(s => s.Count));
        var barWidth = (Width - 20) / series.Count;
        var svg = new StringBuilder($"<svg class=\"chart\" viewBox=\"0 0 {Width} {Height + 36}\" role=\"img\" aria-labelledby=\"{id}-title\"><title id=\"{id}-title\">")
            .Append(H(caption)).Append("</title>");
        for (var i = 0; i < series.Count; i++)
        {
            var h = (Height - 10) * series[i].Count / (double)max;
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{10 + (i * barWidth) + 4}\" y=\"{Height - h:0.#}\" width=\"{barWidth - 8}\" height=\"{h:0.#}\"><title>"))
                .Append(H($"{MonthPattern.Format(series[i].Month)}: {series[i].Count}")).Append("</title></rect>");

            // The month under its bar on the axis: its short name, and the year below it.
            var centre = 10 + (i * barWidth) + (barWidth / 2);
            svg.Append(string.Create(CultureInfo.InvariantCulture, $"<text class=\"month\" x=\"{centre}\" y=\"{Height + 16}\" text-anchor=\"middle\"><tspan x=\"{centre}\">"))
                .Append(H(ShortMonthPattern.Format(series[i].Month)))
                .Append(string.Create(CultureInfo.InvariantCulture, $"</tspan><tspan x=\"{centre}\" dy=\"14\">"))
                .Append(H(YearPattern.Format(series[i].Month))).Append("</tspan></text>");
        }

        svg.Append("</svg>");
        var table = new StringBuilder("<table><caption>").Append(H(caption)).Append("</caption><thead><tr><th scope=\"col\">Month</th><th scope=\"col\">Licenses</th></tr></thead><tbody>");
        foreach (var (month, count) in series)
        {
            table.Append("<tr><td>").Append(H(MonthPattern.Format(month))).Append("</td><td>").Append(Number(count)).Append("</td></tr>");
        }

        return svg.Append(table).Append("</tbody></table>").ToString();
    }
}
