using System.Text;
using Microsoft.Playwright;
using Smp.Core.Plans;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>
/// SPEC sections 8 and 9 in the browser: the search, renewals, updates and imports pages, walked by a person with
/// Smp.Admin; axe-core checks each page and the main ones are kept as screenshots in docs/console.
/// </summary>
public sealed partial class ConsoleBrowserTests
{
    private static async Task<(IPlaywright Playwright, IBrowser Browser, IPage Page)> OpenAsAdminAsync(string baseAddress)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
        var context = await browser.NewContextAsync(new()
        {
            BaseURL = baseAddress,
            ViewportSize = new() { Width = 1200, Height = 900 },
            ExtraHTTPHeaders = new Dictionary<string, string> { [Smp.Functions.Staff.ClientPrincipal.Header] = ConsoleWorkPagesTests.AdminPrincipal },
        });
        context.SetDefaultTimeout(BrowserTimeoutMs);
        return (playwright, browser, await context.NewPageAsync());
    }

    [Fact]
    public async Task Section8_a_person_finds_a_customer_by_a_word_of_its_name_opens_its_license_sees_the_renewals_and_publishes_and_announces_an_update()
    {
        using var api = App(azurite.ConnectionString);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, ActivationApiTests.ActivationBody())).Status);
        await using var server = await LoopbackServer.StartAsync(new ConsoleApp(api));
        var (playwright, browser, page) = await OpenAsAdminAsync(server.BaseAddress);
        using var _ = playwright;
        await using var __ = browser;

        // The navigation's search box finds the customer by a word of its name; the result opens the license.
        await OpenAsync(page, "/console", page.GetByRole(AriaRole.Searchbox, new() { Name = "Find" }));
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Find" }).FillAsync("tube");
        await FollowAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Find" }), "**/console/search?q=tube", page.Locator("table.results tbody td:nth-child(2)"));
        Assert.Equal("Acme Tube Works", await page.Locator("table.results tbody td:nth-child(2)").InnerTextAsync());
        await CheckPageAsync(page, "search");
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = Serial }), "**/console/licenses/" + Serial, page.Locator("#expires-on"));
        Assert.Equal("License " + Serial, await page.Locator("h1").InnerTextAsync());

        // The renewals page lists it in today's 90 days and offers the same range as CSV.
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Renewals", Exact = true }), "**/console/renewals", page.Locator("table.renewals"));
        Assert.Equal(1, await page.Locator("table.renewals").GetByRole(AriaRole.Link, new() { Name = Serial }).CountAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = "Download this range as CSV" }).CountAsync());
        await CheckPageAsync(page, "renewals");

        // Publish an update: the password field comes back empty.
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Updates", Exact = true }), "**/console/updates", page.GetByRole(AriaRole.Button, new() { Name = "Publish update" }));
        await CheckPageAsync(page, null);
        await page.GetByLabel("Version").FillAsync("1.96");
        await page.GetByLabel("Released on").FillAsync("2026-03-16");
        await page.GetByLabel("Password").FillAsync("Tube-Bend 1.96");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish update" }).ClickAsync();
        await ArriveAsync(page, "**/console/updates?done=published", page.GetByRole(AriaRole.Status));
        Assert.Equal("The update was published.", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        Assert.Equal(string.Empty, await page.GetByLabel("Password").InputValueAsync());
        Assert.DoesNotContain("Tube-Bend", await page.ContentAsync(), StringComparison.Ordinal);
        await CheckPageAsync(page, "updates");

        // Announce it, after the confirmation page.
        await FollowAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Announce update 1.96" }), "**/console/updates/1.96/announcements", page.GetByRole(AriaRole.Button, new() { Name = "Announce update 1.96" }));
        await CheckPageAsync(page, "announce");
        await page.GetByRole(AriaRole.Button, new() { Name = "Announce update 1.96" }).ClickAsync();
        await ArriveAsync(page, "**/console/updates?*done=announced", page.GetByRole(AriaRole.Status));
        Assert.Equal("The update was announced: 2 recipients about 1 licenses.", await page.GetByRole(AriaRole.Status).InnerTextAsync());
        Assert.Single(await MailTestKit.EventsAsync(api, Serial, LicenseEventTypes.UpdateAnnounced));
        await CheckPageAsync(page, null);
    }

    [Fact]
    public async Task Section9_a_person_uploads_a_file_reads_its_dry_run_starts_the_real_run_and_sees_the_rows_to_fix()
    {
        using var api = App(azurite.ConnectionString);
        await using var server = await LoopbackServer.StartAsync(new ConsoleApp(api));
        var (playwright, browser, page) = await OpenAsAdminAsync(server.BaseAddress);
        using var _ = playwright;
        await using var __ = browser;

        await OpenAsync(page, "/console/imports", page.Locator("#import-file"));
        await CheckPageAsync(page, "imports");
        await page.Locator("#import-file").SetInputFilesAsync(new FilePayload { Name = "plans.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(ImportApiTests.Sample) });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload and check (dry run)" }).ClickAsync();
        await ArriveAsync(page, "**/console/imports/*?done=dry-run", page.Locator("#import-status"));
        Assert.Equal("queued", await page.Locator("#import-status").InnerTextAsync());
        await CheckPageAsync(page, "import-progress");

        // The job advances in the background; the page's script reloads it until the report is there.
        await ImportApiTests.ProcessAsync(api);
        await page.Locator("#import-status", new() { HasTextRegex = new System.Text.RegularExpressions.Regex("^done$") }).WaitForAsync();
        Assert.Equal("3", await page.Locator("#import-created").InnerTextAsync());
        Assert.Equal(2, await page.Locator("table.import-errors tbody tr").CountAsync());
        await CheckPageAsync(page, "import-dry-run");

        await page.GetByRole(AriaRole.Button, new() { Name = "Import these rows" }).ClickAsync();
        await ArriveAsync(page, "**/console/imports/*?done=started", page.Locator("#import-status"));
        await ImportApiTests.ProcessAsync(api);
        await page.Locator("#import-status", new() { HasTextRegex = new System.Text.RegularExpressions.Regex("^done$") }).WaitForAsync();
        Assert.Equal("Import: licenses are written.", await page.Locator("#import-kind").InnerTextAsync());
        Assert.Equal("3", await page.Locator("#import-created").InnerTextAsync());
        Assert.Contains("yyyy-MM-dd", await page.Locator("table.import-errors").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("Acme Tube Works", (await MailTestKit.StoredAsync(api, "VT-101")).Customer.Name);
        await CheckPageAsync(page, "import-result");
    }
}
