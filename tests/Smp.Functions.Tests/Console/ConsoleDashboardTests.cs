using System.Text.RegularExpressions;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>SPEC section 8, the dashboard: charts with their months on the axis, and the latest events.</summary>
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

    [GeneratedRegex("<svg class=\"chart\".*?</svg>", RegexOptions.Singleline)]
    private static partial Regex Chart();

    [GeneratedRegex("<text class=\"month\"[^>]*><tspan[^>]*>([A-Z][a-z]{2})</tspan><tspan[^>]*>(\\d{4})</tspan></text>")]
    private static partial Regex MonthLabel();
}
