using System.Globalization;
using Deque.AxeCore.Playwright;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// SPEC section 8 in a real browser: the machine's Chromium, driven by Playwright, uses the real app served over HTTP
/// on a loopback port (Kestrel in front of the real composition root). The App Service front end is played by the
/// browser context, which sends the signed-in person's <c>X-MS-CLIENT-PRINCIPAL</c> with authentication on. axe-core
/// checks every page for serious or critical WCAG violations, and the main pages are kept as screenshots in
/// docs/console.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ConsoleBrowserTests(AzuriteFixture azurite)
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Serial = "VT-1001";

    /// <summary>The machine is shared: waits for a page allow far more than the default 30 s, which a busy host can exceed.</summary>
    private const float BrowserTimeoutMs = 120_000;

    /// <summary>Set to 1 to rewrite the screenshots in docs/console.</summary>
    public const string ScreenshotsSetting = "SMP_CONSOLE_SCREENSHOTS";

    [Fact]
    public async Task Section8_a_person_opens_a_license_records_a_renewal_sees_the_new_expiry_and_their_name_and_retries_failed_mail()
    {
        var transport = new FailingTransport();
        using var api = App(azurite.ConnectionString, transport);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        var mailId = Assert.Single(await MailDeliveryTests.EnqueueAsync(api, 1));
        transport.Refusing = true;
        await MailTestKit.DispatchAsync(api);
        transport.Refusing = false;
        Assert.Equal(MailStatus.Failed, (await MailTestKit.MessageAsync(api, mailId)).Status);

        await using var server = await LoopbackServer.StartAsync(new ConsoleApp(api));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
        await using var context = await browser.NewContextAsync(new()
        {
            BaseURL = server.BaseAddress,
            ViewportSize = new() { Width = 1200, Height = 900 },
            ExtraHTTPHeaders = new Dictionary<string, string> { [Smp.Functions.Staff.ClientPrincipal.Header] = StaffPrincipal },
        });
        context.SetDefaultTimeout(BrowserTimeoutMs);
        var page = await context.NewPageAsync();

        // The dashboard; the serial field in the navigation bar opens the license.
        await OpenAsync(page, "/console", page.Locator("#failed-mail"));
        Assert.Equal("Dashboard", await page.Locator("h1").InnerTextAsync());
        Assert.Equal("1", await page.Locator("#failed-mail").InnerTextAsync());
        await CheckPageAsync(page, "dashboard");
        await page.GetByLabel("Serial").FillAsync(Serial);
        await FollowAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Open" }), "**/console/licenses/" + Serial, page.Locator("#expires-on"));
        var before = await page.Locator("#expires-on").InnerTextAsync();
        await CheckPageAsync(page, "license");

        // A renewal: the browser is redirected to the license, which shows the new expiry and the person's event.
        await page.GetByLabel("Order reference").FillAsync("SO-2026-0042");
        await page.GetByLabel("Months").FillAsync("12");
        await page.GetByRole(AriaRole.Button, new() { Name = "Record renewal" }).ClickAsync();
        await ArriveAsync(page, "**/console/licenses/" + Serial + "?done=renewed", page.GetByRole(AriaRole.Status));
        Assert.Equal("The renewal was recorded.", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        var stored = await MailTestKit.StoredAsync(api, Serial);
        var after = await page.Locator("#expires-on").InnerTextAsync();
        Assert.Equal(stored.ExpiresOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), after);
        Assert.True(LocalDateParse(after) > LocalDateParse(before), $"{after} is not after {before}");
        var renewedRow = page.Locator("table.events tr", new() { HasText = "renewed" });
        Assert.Contains("Dana Staff", await renewedRow.InnerTextAsync(), StringComparison.Ordinal);
        await CheckPageAsync(page, "license-renewed");

        // A refused form (the same order with other months: a conflict) comes back with the field named and the values kept.
        await page.GetByLabel("Order reference").FillAsync("SO-2026-0042");
        await page.GetByLabel("Months").FillAsync("24");
        await page.GetByRole(AriaRole.Button, new() { Name = "Record renewal" }).ClickAsync();
        Assert.Contains("orderReference", await page.GetByRole(AriaRole.Alert).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("24", await page.GetByLabel("Months").InputValueAsync());
        Assert.Equal(after, await page.Locator("#expires-on").InnerTextAsync());
        await CheckPageAsync(page, null);

        // The customer's page lists the license.
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Acme Tube Works" }), "**/console/customers/**", page.GetByRole(AriaRole.Link, new() { Name = Serial }));
        Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = Serial }).CountAsync());
        await CheckPageAsync(page, "customer");

        // Failed mail, retried from the mail page.
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Mail", Exact = true }), "**/console/mail", page.GetByRole(AriaRole.Button, new() { Name = "Retry" }));
        await CheckPageAsync(page, "mail");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await ArriveAsync(page, "**/console/mail?done=retried", page.GetByRole(AriaRole.Status));
        Assert.Equal("The mail was queued to be sent again.", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        Assert.Equal(MailStatus.Pending, (await MailTestKit.MessageAsync(api, mailId)).Status);
        await CheckPageAsync(page, null);
    }

    [Fact]
    public async Task Section8_Section10_an_admin_records_an_activation_sends_the_term_mail_and_replaces_the_dongle_then_sees_the_old_license_replaced_and_the_new_one_current()
    {
        using var api = App(azurite.ConnectionString);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);

        await using var server = await LoopbackServer.StartAsync(new ConsoleApp(api));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
        await using var context = await browser.NewContextAsync(new()
        {
            BaseURL = server.BaseAddress,
            ViewportSize = new() { Width = 1200, Height = 900 },
            ExtraHTTPHeaders = new Dictionary<string, string> { [Smp.Functions.Staff.ClientPrincipal.Header] = Smp.Functions.Staff.ClientPrincipal.Encode("Avery Admin", AdminId, Smp.Functions.Staff.StaffRoles.Admin) },
        });
        context.SetDefaultTimeout(BrowserTimeoutMs);
        var page = await context.NewPageAsync();

        // An activation from the dashboard's link.
        await OpenAsync(page, "/console", page.GetByRole(AriaRole.Link, new() { Name = "Record an activation" }));
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Record an activation" }), "**/console/activations/new", page.GetByRole(AriaRole.Button, new() { Name = "Record the activation" }));
        await CheckPageAsync(page, "activation");
        await page.GetByLabel("Serial", new() { Exact = true }).Last.FillAsync("VT-3003");
        await page.GetByLabel("Customer id").FillAsync("C-77");
        await page.GetByLabel("Customer name").FillAsync("Vertex Tooling");
        await page.GetByLabel("Contact email addresses, one per line").FillAsync("buyer@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Record the activation" }).ClickAsync();
        await ArriveAsync(page, "**/console/licenses/VT-3003?done=activated", page.GetByRole(AriaRole.Status));
        Assert.Equal("The activation was recorded.", await page.GetByRole(AriaRole.Status).InnerTextAsync());

        // The term mail of the first license, queued and said so.
        await OpenAsync(page, "/console/licenses/" + Serial, page.GetByRole(AriaRole.Button, new() { Name = "Send the term mail" }));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send the term mail" }).ClickAsync();
        await ArriveAsync(page, "**/console/licenses/" + Serial + "?done=term-queued", page.GetByRole(AriaRole.Status));
        Assert.StartsWith("The term mail was queued", await page.GetByRole(AriaRole.Status).InnerTextAsync(), StringComparison.Ordinal);

        // The replacement: back on the old license, now replaced, with the new serial linked from the confirmation.
        await page.GetByLabel("New serial").FillAsync("VT-2002");
        await page.GetByLabel("Reason (optional)").FillAsync("Dongle broken in transit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Replace the dongle" }).ClickAsync();
        await ArriveAsync(page, "**/console/licenses/" + Serial + "?done=replaced", page.Locator("#replaced-by"));
        Assert.Equal("Replaced", await page.Locator("dd.status").InnerTextAsync());
        Assert.Equal("VT-2002", await page.Locator("#replaced-by").InnerTextAsync());
        await CheckPageAsync(page, "license-replaced");
        await FollowAsync(page, page.GetByRole(AriaRole.Status).GetByRole(AriaRole.Link), "**/console/licenses/VT-2002", page.Locator("#replacement-of"));
        Assert.Equal("Current", await page.Locator("dd.status").InnerTextAsync());
        Assert.Equal(Serial, await page.Locator("#replacement-of").InnerTextAsync());
        Assert.Contains("Avery Admin", await page.Locator("table.events tr", new() { HasText = "replacementOf" }).InnerTextAsync(), StringComparison.Ordinal);
        await CheckPageAsync(page, null);
    }

    private static NodaTime.LocalDate LocalDateParse(string text) => NodaTime.Text.LocalDatePattern.Iso.Parse(text).Value;

    /// <summary>
    /// Waits until the browser has navigated to a URL matching <paramref name="url"/> (the new document committed, not
    /// its <c>load</c> event, which a busy host or a page's own script can delay or make fire before the wait begins)
    /// and the page shows <paramref name="expected"/>, content only that page has.
    /// </summary>
    private static async Task ArriveAsync(IPage page, string url, ILocator expected)
    {
        await page.WaitForURLAsync(url, new() { WaitUntil = WaitUntilState.Commit });
        await expected.First.WaitForAsync();
    }

    /// <summary>How long a click on a link or a GET form's button may go without the browser asking for the next page before it is taken as lost.</summary>
    private static readonly TimeSpan LostClickAfter = TimeSpan.FromSeconds(15);

    /// <summary>How many times <see cref="FollowAsync"/> clicks before it gives up.</summary>
    private const int MostClicks = 3;

    /// <summary>
    /// Clicks <paramref name="target"/>, a link or the button of a GET form (an idempotent navigation: never a POST
    /// form, whose submission must not be repeated), then arrives as <see cref="ArriveAsync"/> does. On a busy host
    /// Chromium can drop the click's input events before they reach the document: Playwright's hit-target check
    /// catches a click that lands on another element (a moved layout) and clicks again by itself, but it reports an
    /// event that never arrived as a success, and the browser stays on the page. So when the main frame has not asked
    /// for a new document within <see cref="LostClickAfter"/>, the click is repeated, at most <see cref="MostClicks"/>
    /// times; a navigation that was asked for is never clicked again, however slow its answer.
    /// </summary>
    private static async Task FollowAsync(IPage page, ILocator target, string url, ILocator expected)
    {
        var from = page.Url;
        var navigation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRequest(object? sender, IRequest request)
        {
            if (request.IsNavigationRequest && request.Frame == page.MainFrame)
            {
                navigation.TrySetResult();
            }
        }

        page.Request += OnRequest;
        try
        {
            for (var click = 1; ; click++)
            {
                await target.ClickAsync();
                if (await Task.WhenAny(navigation.Task, Task.Delay(LostClickAfter)) == navigation.Task)
                {
                    break;
                }

                if (click == MostClicks)
                {
                    throw new InvalidOperationException($"The browser stayed on {from} after {MostClicks} clicks on {target}: no page was asked for.");
                }
            }
        }
        finally
        {
            page.Request -= OnRequest;
        }

        await ArriveAsync(page, url, expected);
    }

    /// <summary>
    /// Opens <paramref name="path"/> and waits, as <see cref="ArriveAsync"/> does, for <paramref name="expected"/>, then
    /// for the document's load (at once when it has loaded already), so the test's first click never lands on a page
    /// still loading, where a form's submission can be dropped.
    /// </summary>
    private static async Task OpenAsync(IPage page, string path, ILocator expected)
    {
        await page.GotoAsync(path, new() { WaitUntil = WaitUntilState.Commit });
        await expected.First.WaitForAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    }

    /// <summary>axe-core finds no serious or critical violation; the page is kept as a screenshot when named.</summary>
    private static async Task CheckPageAsync(IPage page, string? screenshot)
    {
        // The page's stylesheet must be applied before axe judges contrast and before a screenshot: the arrival waits
        // stop at the committed document, so wait here for the document to be complete (a state, not an event that
        // may already have fired).
        await page.WaitForFunctionAsync("() => document.readyState === 'complete' && document.styleSheets.length > 0");
        var axe = await page.RunAxe();
        var bad = axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Impact} {v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})").ToList();
        Assert.True(bad.Count == 0, $"{page.Url}: {string.Join(Environment.NewLine, bad)}");
        if (screenshot is not null)
        {
            // docs/console holds the screenshots the README shows; they are rewritten only when asked for, so an
            // ordinary test run leaves the working tree as it was.
            var folder = Environment.GetEnvironmentVariable(ScreenshotsSetting) == "1"
                ? Path.Combine(RepositoryRoot.Path, "docs", "console")
                : Path.Combine(Path.GetTempPath(), "smp-console-screenshots");
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, screenshot + ".png"), FullPage = true });
        }
    }

    /// <summary>Kestrel on 127.0.0.1 (a free port) in front of the console of the real app.</summary>
    private sealed class LoopbackServer(WebApplication app, string baseAddress) : IAsyncDisposable
    {
        public string BaseAddress => baseAddress;

        public static async Task<LoopbackServer> StartAsync(ConsoleApp console)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.Run(async http =>
            {
                if (!await console.HandleAsync(http))
                {
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                }
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new LoopbackServer(app, address);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
