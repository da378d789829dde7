using Smp.Functions.Functions;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// Every HTTP route of the app, for <see cref="RouteFuzzTests"/>. A new route is one entry: its function name,
/// method and template as declared on the function, the call, and generators for the body or query it reads
/// (placeholders named <c>serial</c> or <c>customerId</c> get theirs from <see cref="FuzzRoute.DefaultRouteValues"/>).
/// <see cref="RouteFuzzTests.Every_http_function_is_in_the_route_table"/> fails until a new function is listed here.
/// </summary>
public static class FuzzRoutes
{
    public static IReadOnlyList<FuzzRoute> All { get; } =
    [
        new("RecordActivation", "post", "activations", (api, r, c, _) => api.Function<ActivationFunctions>().RecordActivation(r, c)) { Body = FuzzBodies.For(FuzzBodies.Activation) },
        new("RecordTraining", "post", "licenses/{serial}/training", (api, r, c, i) => api.Function<LicenseFunctions>().RecordTraining(r, i["serial"], c)),
        new("RecordRenewal", "post", "licenses/{serial}/renewals", (api, r, c, i) => api.Function<LicenseFunctions>().RecordRenewal(r, i["serial"], c)) { Body = FuzzBodies.For(FuzzBodies.Renewal) },
        new("ReplaceContacts", "put", "licenses/{serial}/contacts", (api, r, c, i) => api.Function<LicenseFunctions>().ReplaceContacts(r, i["serial"], c)) { Body = FuzzBodies.For(FuzzBodies.Contacts) },
        new("GetLicense", "get", "licenses/{serial}", (api, r, c, i) => api.Function<LicenseFunctions>().GetLicense(r, i["serial"], c)),
        new("ListCustomerLicenses", "get", "customers/{customerId}/licenses", (api, r, c, i) => api.Function<ReportFunctions>().ListCustomerLicenses(r, i["customerId"], c)),
        new("ExpiringReport", "get", "reports/expiring", (api, r, c, _) => api.Function<ReportFunctions>().ExpiringReport(r, c)) { Query = FuzzValues.ExpiringQuery },
        new("Health", "get", "health", (api, r, c, _) => api.Function<HealthFunction>().Health(r, c)),
    ];

    public static FuzzRoute Named(string name) => All.Single(r => r.Name == name);
}
