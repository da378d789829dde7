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
        { "RecordActivation", "activations", "post", "Function" },
        { "RecordTraining", "licenses/{serial}/training", "post", "Function" },
        { "RecordRenewal", "licenses/{serial}/renewals", "post", "Function" },
        { "ReplaceContacts", "licenses/{serial}/contacts", "put", "Function" },
        { "GetLicense", "licenses/{serial}", "get", "Function" },
        { "ListCustomerLicenses", "customers/{customerId}/licenses", "get", "Function" },
        { "ExpiringReport", "reports/expiring", "get", "Function" },
        { "Health", "health", "get", "Anonymous" },
        { "PublishUpdate", "updates/{version}", "put", "Function" },
        { "AnnounceUpdate", "updates/{version}/announcements", "post", "Function" },
        { "GetUpdatePassword", "updates/{version}/password", "get", "Anonymous" },
        { "RequestPasswordLink", "password-requests", "post", "Anonymous" },
        { "TermRequestPage", "term-requests", "get", "Anonymous" },
        { "RequestTerm", "term-requests", "post", "Anonymous" },
        { "QuoteRequestPage", "quote-requests", "get", "Anonymous" },
        { "RequestQuote", "quote-requests", "post", "Anonymous" },
        { "ListMail", "mail", "get", "Function" },
        { "RetryMail", "mail/{id}/retry", "post", "Function" },
        { "PasswordRequestPage", "password-requests", "get", "Anonymous" },
        { "GetOpenApiDocument", "openapi.json", "get", "Anonymous" },
        { "StartImport", "imports", "post", "Function" },
        { "GetImport", "imports/{id}", "get", "Function" },
        { "ExportLicenses", "exports/licenses.csv", "get", "Function" },
    };

    public static TheoryData<string, string> TimerFunctions => new()
    {
        { "RunReminderScan", "%Smp:ReminderSchedule%" },
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

    [Fact]
    public void Every_declared_function_is_checked_by_a_test()
    {
        var checkedNames = HttpFunctions.Select(row => (string)row[0]).Concat(NonHttpFunctions).ToHashSet();

        Assert.Equal(checkedNames.Order(), Functions().Select(f => f.GetProperty("name").GetString()!).Order());
    }

    /// <summary>Timer and other non-HTTP functions, checked by their own tests.</summary>
    internal static readonly string[] NonHttpFunctions = ["RunReminderScan", "DispatchMail", "ProcessCustomerRequests", "ProcessImports"];

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
