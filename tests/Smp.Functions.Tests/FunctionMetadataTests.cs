using System.Text.Json;

namespace Smp.Functions.Tests;

/// <summary>
/// Reads the functions.metadata the build generates (what the Functions host loads) and checks each
/// function's trigger, route, methods and authorization level against SPEC section 3.
/// </summary>
public class FunctionMetadataTests
{
    public static TheoryData<string, string, string, string> HttpFunctions => new()
    {
        { "RecordActivation", "api/activations", "post", "Function" },
        { "RecordTraining", "api/licenses/{serial}/training", "post", "Function" },
        { "RecordRenewal", "api/licenses/{serial}/renewals", "post", "Function" },
        { "ReplaceContacts", "api/licenses/{serial}/contacts", "put", "Function" },
        { "ReplaceDongle", "api/licenses/{serial}/replacement", "post", "Function" },
        { "GetLicense", "api/licenses/{serial}", "get", "Function" },
        { "ListCustomerLicenses", "api/customers/{customerId}/licenses", "get", "Function" },
        { "ExpiringReport", "api/reports/expiring", "get", "Function" },
        { "SearchLicenses", "api/search", "get", "Function" },
        { "Health", "api/health", "get", "Anonymous" },
        { "PublishUpdate", "api/updates/{version}", "put", "Function" },
        { "AnnounceUpdate", "api/updates/{version}/announcements", "post", "Function" },
        { "GetUpdatePassword", "api/updates/{version}/password", "get", "Anonymous" },
        { "RequestPasswordLink", "api/password-requests", "post", "Anonymous" },
        { "TermRequestPage", "api/term-requests", "get", "Anonymous" },
        { "RequestTerm", "api/term-requests", "post", "Anonymous" },
        { "QuoteRequestPage", "api/quote-requests", "get", "Anonymous" },
        { "RequestQuote", "api/quote-requests", "post", "Anonymous" },
        { "ListMail", "api/mail", "get", "Function" },
        { "RetryMail", "api/mail/{id}/retry", "post", "Function" },
        { "PasswordRequestPage", "api/password-requests", "get", "Anonymous" },
        { "GetOpenApiDocument", "api/openapi.json", "get", "Anonymous" },
        { "StartImport", "api/imports", "post", "Function" },
        { "GetImport", "api/imports/{id}", "get", "Function" },
        { "ExportLicenses", "api/exports/licenses.csv", "get", "Function" },
        // The staff console (SPEC section 8): anonymous to the host, the app decides who may do what (section 7).
        { "ConsoleStylesheet", "console/console.css", "get", "Anonymous" },
        { "ConsoleDashboard", "console", "get", "Anonymous" },
        { "ConsoleFindLicense", "console/licenses", "get", "Anonymous" },
        { "ConsoleLicense", "console/licenses/{serial}", "get", "Anonymous" },
        { "ConsoleRecordRenewal", "console/licenses/{serial}/renewals", "post", "Anonymous" },
        { "ConsoleRecordTraining", "console/licenses/{serial}/training", "post", "Anonymous" },
        { "ConsoleReplaceContacts", "console/licenses/{serial}/contacts", "post", "Anonymous" },
        { "ConsoleCustomer", "console/customers/{customerId}", "get", "Anonymous" },
        { "ConsoleMail", "console/mail", "get", "Anonymous" },
        { "ConsoleRetryMail", "console/mail/{id}/retry", "post", "Anonymous" },
        { "ConsoleSearch", "console/search", "get", "Anonymous" },
        { "ConsoleRenewals", "console/renewals", "get", "Anonymous" },
        { "ConsoleRenewalsCsv", "console/renewals.csv", "get", "Anonymous" },
        { "ConsoleExportLicenses", "console/exports/licenses.csv", "get", "Anonymous" },
        { "ConsoleUpdates", "console/updates", "get", "Anonymous" },
        { "ConsolePublishUpdate", "console/updates", "post", "Anonymous" },
        { "ConsoleConfirmAnnouncement", "console/updates/{version}/announcements", "get", "Anonymous" },
        { "ConsoleAnnounceUpdate", "console/updates/{version}/announcements", "post", "Anonymous" },
        { "ConsoleScript", "console/console.js", "get", "Anonymous" },
        { "ConsoleImports", "console/imports", "get", "Anonymous" },
        { "ConsoleUploadImport", "console/imports", "post", "Anonymous" },
        { "ConsoleImport", "console/imports/{id}", "get", "Anonymous" },
        { "ConsoleRunImport", "console/imports/{id}/run", "post", "Anonymous" },
        { "ConsoleSendTermMail", "console/licenses/{serial}/term-mail", "post", "Anonymous" },
        { "ConsoleSendPasswordLink", "console/licenses/{serial}/password-link", "post", "Anonymous" },
        { "ConsoleReplaceDongle", "console/licenses/{serial}/replacement", "post", "Anonymous" },
        { "ConsoleNewActivation", "console/activations/new", "get", "Anonymous" },
        { "ConsoleRecordActivation", "console/activations", "post", "Anonymous" },
    };

    public static TheoryData<string, string> TimerFunctions => new()
    {
        { "RunReminderScan", "%Smp:ReminderSchedule%" },
        { "SendRenewalsDigest", "%Smp:DigestSchedule%" },
        { "DispatchMail", "0 */1 * * * *" },
        { "ProcessCustomerRequests", "0 */1 * * * *" },
        { "ProcessImports", "*/20 * * * * *" },
    };

    [Theory]
    [MemberData(nameof(TimerFunctions))]
    public void Timer_function_is_declared_with_its_schedule(string name, string schedule)
    {
        var trigger = Trigger(name);

        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(schedule, trigger.GetProperty("schedule").GetString());
    }

    /// <summary>
    /// SPEC section 11: the digest is weekly, so a run that fails (storage failing past the client's own retries) must
    /// not wait a week. The host runs the function again on its retry policy; the outbox id from the ISO week keeps it
    /// to one mail.
    /// </summary>
    [Fact]
    public void Section11_the_digest_timer_runs_again_after_a_failed_run()
    {
        var function = Assert.Single(Functions(), f => f.GetProperty("name").GetString() == "SendRenewalsDigest");

        Assert.True(function.TryGetProperty("retry", out var retry), "SendRenewalsDigest declares no retry policy.");
        Assert.Equal("fixedDelay", retry.GetProperty("strategy").GetString(), ignoreCase: true);
        Assert.True(retry.GetProperty("maxRetryCount").GetInt32() >= 3, retry.ToString());
    }

    [Theory]
    [MemberData(nameof(HttpFunctions))]
    public void Http_function_is_declared_with_its_route_method_and_auth_level(string name, string route, string method, string authLevel)
    {
        var trigger = Trigger(name);

        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal([method], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant()));
        Assert.Equal(authLevel, trigger.GetProperty("authLevel").GetString());
    }

    /// <summary>
    /// SPEC section 8: the host has an empty route prefix so the console can live at /console, and every API route
    /// carries its own <c>api/</c>, so each stays at exactly the address it always had.
    /// </summary>
    [Fact]
    public void Section8_the_host_has_no_route_prefix_and_every_route_is_under_api_or_console()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")));
        Assert.Equal(string.Empty, hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());

        var routes = Functions()
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray())
            .Where(b => b.GetProperty("type").GetString() == "httpTrigger")
            .Select(b => b.GetProperty("route").GetString()!)
            .ToList();
        Assert.NotEmpty(routes);
        Assert.All(routes, r => Assert.True(r.StartsWith("api/", StringComparison.Ordinal) || r == "console" || r.StartsWith("console/", StringComparison.Ordinal), r));
    }

    [Fact]
    public void Every_declared_function_is_checked_by_a_test()
    {
        var checkedNames = HttpFunctions.Select(row => (string)row[0]).Concat(NonHttpFunctions).ToHashSet();

        Assert.Equal(checkedNames.Order(), Functions().Select(f => f.GetProperty("name").GetString()!).Order());
    }

    /// <summary>Timer and other non-HTTP functions, checked by their own tests.</summary>
    internal static readonly string[] NonHttpFunctions = ["RunReminderScan", "SendRenewalsDigest", "DispatchMail", "ProcessCustomerRequests", "ProcessImports"];

    internal static IEnumerable<JsonElement> Functions()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), "The build did not produce functions.metadata next to the tests.");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    internal static JsonElement Trigger(string functionName)
    {
        var function = Assert.Single(Functions(), f => f.GetProperty("name").GetString() == functionName);
        return Assert.Single(function.GetProperty("bindings").EnumerateArray(), b => b.GetProperty("direction").GetString() == "In");
    }
}
