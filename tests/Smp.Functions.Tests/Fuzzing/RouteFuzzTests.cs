using FsCheck;
using FsCheck.Fluent;
using Smp.TestSupport;
using Xunit.Abstractions;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// Fuzzes every HTTP route of <see cref="FuzzRoutes"/> against the real app and a real Azurite, checking the
/// properties listed on <see cref="RouteFuzzer"/>. Each route starts from the licenses of <see cref="FuzzData"/>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RouteFuzzTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    public static TheoryData<string> Routes => [.. FuzzRoutes.All.Select(r => r.Name)];

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_keeps_the_contract_for_generated_requests(string name)
    {
        var route = FuzzRoutes.Named(name);
        var settings = FuzzSettings.FromEnvironment();
        using var api = new ApiHarness(azurite.ConnectionString, FuzzData.Now);
        await FuzzData.SeedAsync(api);
        var tables = azurite.CreateServiceClient();
        Assert.NotEmpty((await TableSnapshot.TakeAsync(tables, api.TablePrefix)).Rows);

        var fuzzer = new RouteFuzzer(api, tables, route);
        var property = Prop.ForAll(route.Cases().ToArbitrary(), fuzzer.RunAsync);
        try
        {
            // FsCheck waits on each case; off the test's synchronization context, that cannot deadlock.
            await Task.Run(() => Check.One(settings.Config(), property));
        }
        catch (Exception ex)
        {
            Assert.Fail($"Fuzzing {name} failed. Replay with {settings.ReplayHint}.{Environment.NewLine}{ex.Message}");
        }

        output.WriteLine($"{fuzzer.Summary()} (seed {settings.Seed})");
        if (settings.Cases >= 50)
        {
            // The generators must keep reaching both sides of the contract, or the run proves little.
            Assert.True(fuzzer.Count(s => s is >= 200 and < 300) > 0, $"No request was accepted: {fuzzer.Summary()}");
            Assert.True(!route.HasInputs || fuzzer.Count(s => s == 400) > 0, $"No request was refused: {fuzzer.Summary()}");
        }
    }

    private const string ApiPrefix = "api/";

    [Fact]
    public void Every_http_function_is_in_the_route_table()
    {
        var declared = FunctionMetadataTests.Functions()
            .Select(f => (Function: f, Trigger: f.GetProperty("bindings").EnumerateArray().FirstOrDefault(b => b.GetProperty("type").GetString() == "httpTrigger")))
            .Where(f => f.Trigger.ValueKind != System.Text.Json.JsonValueKind.Undefined)
            .Select(f => (
                Name: f.Function.GetProperty("name").GetString()!,
                Method: string.Join(",", f.Trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant())),
                Route: f.Trigger.GetProperty("route").GetString()!))
            // The API's routes (the console's HTML pages are not part of the fuzzed JSON contract).
            .Where(f => f.Route.StartsWith(ApiPrefix, StringComparison.Ordinal))
            .Select(f => (f.Name, f.Method, Route: f.Route[ApiPrefix.Length..]))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

        Assert.Equal(declared, FuzzRoutes.All.Select(r => (r.Name, Method: r.Method, Route: r.Template)).OrderBy(f => f.Name, StringComparer.Ordinal));
    }
}
