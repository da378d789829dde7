using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Smp.Core.Links;
using Smp.Core.Plans;
using Smp.Core.Updates;
using Smp.Functions.Functions;
using FsCheck;
using FsCheck.Fluent;
using static Smp.Functions.Tests.Fuzzing.FuzzCustomerInputs;

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
        new("ReplaceDongle", "post", "licenses/{serial}/replacement", (api, r, c, i) => api.Function<ReplacementFunctions>().ReplaceDongle(r, i["serial"], c)) { Body = FuzzBodies.For(FuzzBodies.Replacement) },
        new("ReplaceContacts", "put", "licenses/{serial}/contacts", (api, r, c, i) => api.Function<LicenseFunctions>().ReplaceContacts(r, i["serial"], c)) { Body = FuzzBodies.For(FuzzBodies.Contacts) },
        new("GetLicense", "get", "licenses/{serial}", (api, r, c, i) => api.Function<LicenseFunctions>().GetLicense(r, i["serial"], c)),
        new("ListCustomerLicenses", "get", "customers/{customerId}/licenses", (api, r, c, i) => api.Function<ReportFunctions>().ListCustomerLicenses(r, i["customerId"], c)),
        new("ExpiringReport", "get", "reports/expiring", (api, r, c, _) => api.Function<ReportFunctions>().ExpiringReport(r, c)) { Query = FuzzValues.ExpiringQuery },
        new("SearchLicenses", "get", "search", (api, r, c, _) => api.Function<SearchFunctions>().SearchLicenses(r, c)) { Query = FuzzValues.SearchQuery },
        new("Health", "get", "health", (api, r, c, _) => api.Function<HealthFunction>().Health(r, c)),
        new("GetOpenApiDocument", "get", "openapi.json", (_, r, _, _) => Task.FromResult(OpenApiFunction.GetOpenApiDocument(r))),
        new("PublishUpdate", "put", "updates/{version}", (api, r, c, i) => api.Function<UpdateFunctions>().PublishUpdate(r, i["version"], c)) { RouteValues = Versions, Body = FuzzBodies.For(FuzzBodies.Publish) },

        // Each accepted announcement queues mail (to the outbox only: nothing is dispatched) and answers with what it queued.
        new("AnnounceUpdate", "post", "updates/{version}/announcements", (api, r, c, i) => api.Function<UpdateFunctions>().AnnounceUpdate(r, i["version"], c)) { RouteValues = Versions, RepeatIsNoOp = false },

        // Opening a link records who opened it (an audit event), so a repeat is not a no-op; a browser gets the password page.
        new("GetUpdatePassword", "get", "updates/{version}/password", OpenPasswordLinkAsync) { RouteValues = Versions, Query = PasswordLinkQuery, Success = SuccessBodies.Json | SuccessBodies.Html, RepeatIsNoOp = false },

        // The customer POSTs queue mail and count against a per-serial limit: a repeat is not a no-op.
        new("RequestPasswordLink", "post", "password-requests", (api, r, c, _) => api.Function<PasswordFunctions>().RequestPasswordLink(r, c))
        {
            Body = FuzzBodies.For(FuzzBodies.PasswordRequest), Form = Form(SerialField, VersionField), Success = SuccessBodies.Json | SuccessBodies.Html, RepeatIsNoOp = false,
        },
        new("PasswordRequestPage", "get", "password-requests", (_, r, _, _) => Task.FromResult(PasswordFunctions.PasswordRequestPage(r))) { Query = PageQuery(SerialField, VersionField), Success = SuccessBodies.Html },
        new("TermRequestPage", "get", "term-requests", (_, r, _, _) => Task.FromResult(CustomerRequestFunctions.TermRequestPage(r))) { Query = PageQuery(SerialField), Success = SuccessBodies.Html },
        new("RequestTerm", "post", "term-requests", (api, r, c, _) => api.Function<CustomerRequestFunctions>().RequestTerm(r, c))
        {
            Body = FuzzBodies.For(FuzzBodies.TermRequest), Form = Form(SerialField), Success = SuccessBodies.Json | SuccessBodies.Html, RepeatIsNoOp = false,
        },
        new("QuoteRequestPage", "get", "quote-requests", (_, r, _, _) => Task.FromResult(CustomerRequestFunctions.QuoteRequestPage(r))) { Query = PageQuery(SerialField, ScopeField), Success = SuccessBodies.Html },
        new("RequestQuote", "post", "quote-requests", (api, r, c, _) => api.Function<CustomerRequestFunctions>().RequestQuote(r, c))
        {
            Body = FuzzBodies.For(FuzzBodies.QuoteRequest), Form = Form(SerialField, ScopeField), Success = SuccessBodies.Json | SuccessBodies.Html, RepeatIsNoOp = false,
        },
        new("ListMail", "get", "mail", (api, r, c, _) => api.Function<MailFunctions>().ListMail(r, c)) { Query = MailQuery },

        // A retry requeues failed mail (202, no body); the same retry again finds it pending (409).
        new("RetryMail", "post", "mail/{id}/retry", (api, r, c, i) => api.Function<MailFunctions>().RetryMail(r, i["id"], c))
        {
            RouteValues = new Dictionary<string, Gen<Fuzzed<string>>> { ["id"] = MailId }, Success = SuccessBodies.Json | SuccessBodies.Empty, RepeatIsNoOp = false,
        },

        // Each accepted file starts a new import (202 with its Location), so a repeat is not a no-op.
        new("StartImport", "post", "imports", (api, r, c, _) => api.Function<ImportFunctions>().StartImport(r, c))
        {
            Query = FuzzImports.Query, Payloads = FuzzImports.Payloads, RepeatIsNoOp = false,
        },
        new("GetImport", "get", "imports/{id}", (api, r, c, i) => api.Function<ImportFunctions>().GetImport(r, i["id"], c))
        {
            RouteValues = new Dictionary<string, Gen<Fuzzed<string>>> { ["id"] = ImportId },
        },
        new("ExportLicenses", "get", "exports/licenses.csv", (api, r, c, _) => Task.FromResult(api.Function<ExportFunctions>().ExportLicenses(r, c))) { Success = SuccessBodies.Csv },
    ];

    private static Gen<Guid> AnyGuid => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(16).Select(b => new Guid(b));

    /// <summary>Import ids: 32 lower-case hex digits (often the stored import's); other GUID forms, cases and hostile text are refused.</summary>
    private static Gen<Fuzzed<string>> ImportId =>
        Gen.Frequency(
                (3, Gen.Constant(FuzzData.StoredImportId)),
                (3, AnyGuid.Select(g => g.ToString("N"))),
                (2, from guid in AnyGuid
                    from format in Gen.Elements("D", "B", "X")
                    select guid.ToString(format)),
                (1, AnyGuid.Select(g => g.ToString("N").ToUpperInvariant())),
                (2, FuzzText.Hostile))
            .Select(s => new Fuzzed<string>(s, s.Length == 32 && s.All(char.IsAsciiHexDigitLower) ? Verdict.Valid : Verdict.Invalid, "import id"));

    private static Dictionary<string, Gen<Fuzzed<string>>> Versions => new() { ["version"] = FuzzCustomerInputs.Version };

    /// <summary>
    /// Opens a password link. For the query <c>genuine-link=SERIAL</c> (or <c>tampered-link=SERIAL</c>) the link is made
    /// by the app itself for the route's version, when that version is well-formed, so that real links get fuzzed too.
    /// </summary>
    private static async Task<IActionResult> OpenPasswordLinkAsync(ApiHarness api, HttpRequest request, FunctionContext context, FuzzCase input)
    {
        var version = input["version"];
        if (input.Query?.Split('=') is [var kind and (GenuineLink or TamperedLink), var serial] && UpdateVersion.TryParse(version, out var parsed))
        {
            var link = await api.Services.GetRequiredService<LinkService>().CreatePasswordLinkAsync(Serial.Parse(serial), parsed, CancellationToken.None);
            var query = link.Url.Query;
            if (kind == TamperedLink)
            {
                var at = query.IndexOf("sig=", StringComparison.Ordinal) + 4;
                query = query[..at] + (query[at] == 'A' ? 'B' : 'A') + query[(at + 1)..];
            }

            request.QueryString = new QueryString(query);
        }

        return await api.Function<PasswordFunctions>().GetUpdatePassword(request, version, context);
    }

    public static FuzzRoute Named(string name) => All.Single(r => r.Name == name);
}
