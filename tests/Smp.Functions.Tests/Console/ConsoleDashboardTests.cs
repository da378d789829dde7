using System.Text.RegularExpressions;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>SPEC section 8, the dashboard: charts with their months on the axis, the count of current licenses, and the latest events.</summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ConsoleDashboardTests : IDisposable
{
    private readonly ApiHarness _api;
    private readonly ConsoleApp _console;

    public ConsoleDashboardTests(AzuriteFixture azurite)
    {
        _api = App(azurite.ConnectionString);
        _console = new ConsoleApp(_api);
    }

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Section8_each_chart_names_its_twelve_months_on_the_axis_as_svg_text()
    {
        var page = await _console.SendAsync("GET", "/console", headers: As(ReaderPrincipal));

        Assert.Equal(200, page.Status);
        var charts = Chart().Matches(page.Body);
        Assert.Equal(2, charts.Count);
        // The expiries chart runs from this month (March 2026) for 12 months; the lapses chart ends last month.
        var expiries = MonthLabel().Matches(charts[0].Value).Select(m => m.Groups[1].Value + " " + m.Groups[2].Value).ToList();
        Assert.Equal(12, expiries.Count);
        Assert.Equal("Mar 2026", expiries[0]);
        Assert.Equal("Feb 2027", expiries[11]);
        var lapses = MonthLabel().Matches(charts[1].Value).Select(m => m.Groups[1].Value + " " + m.Groups[2].Value).ToList();
        Assert.Equal(12, lapses.Count);
        // The same months are in the table beside each chart.
        Assert.Contains("<td>" + expiries[0] + "</td>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<td>" + lapses[11] + "</td>", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_R15_the_dashboard_shows_the_latest_events_newest_first_with_time_type_license_link_and_person()
    {
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody())).Status);
        _api.Clock.Advance(NodaTime.Duration.FromHours(1));
        var token = TokenOf((await _console.SendAsync("GET", "/console/licenses/VT-1001", headers: As(StaffPrincipal))).Body);
        var renewed = await _console.SendAsync("POST", "/console/licenses/VT-1001/renewals", new Dictionary<string, string> { ["__form"] = token, ["orderReference"] = "SO-2026-0042", ["months"] = "12" }, As(StaffPrincipal));
        Assert.Equal(302, renewed.Status);

        var page = await _console.SendAsync("GET", "/console", headers: As(ReaderPrincipal));

        Assert.Equal(200, page.Status);
        var table = LatestEvents().Match(page.Body);
        Assert.True(table.Success, "The dashboard has no table of the latest events.");
        var rows = Row().Matches(table.Value).Select(m => m.Value).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(
            "<tr><td>2026-03-20 11:00</td><td>renewed</td><td><a href=\"/console/licenses/VT-1001\">VT-1001</a></td><td>Dana Staff</td></tr>",
            rows[0]);
        Assert.StartsWith("<tr><td>2026-03-20 10:00</td><td>activated</td><td><a href=\"/console/licenses/VT-1001\">VT-1001</a></td>", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Section8_the_dashboard_counts_the_licenses_not_yet_expired_from_the_expiry_index()
    {
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-1003"))).Status);

        // Lapsed on 2026-01-31: not current.
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-1002", sentAt: "2025-12-14T10:00:00-07:00"))).Status);

        var page = await _console.SendAsync("GET", "/console", headers: As(ReaderPrincipal));

        Assert.Equal(200, page.Status);
        Assert.Contains("<dd id=\"current\">2</dd>", page.Body, StringComparison.Ordinal);
    }

    [GeneratedRegex("<table class=\"events\" id=\"latest-events\">.*?</table>", RegexOptions.Singleline)]
    private static partial Regex LatestEvents();

    [GeneratedRegex("<tr><td>.*?</tr>")]
    private static partial Regex Row();

    [GeneratedRegex("<svg class=\"chart\".*?</svg>", RegexOptions.Singleline)]
    private static partial Regex Chart();

    [GeneratedRegex("<text class=\"month\"[^>]*><tspan[^>]*>([A-Z][a-z]{2})</tspan><tspan[^>]*>(\\d{4})</tspan></text>")]
    private static partial Regex MonthLabel();
}
