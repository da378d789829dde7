using System.Diagnostics.Metrics;
using System.Text;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Observability;
using Smp.Core.Plans;
using Smp.Functions.Functions;
using Smp.Functions.Http;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>SPEC section 9: GET /api/exports/licenses.csv through the real composition root over Azurite, and its round trip.</summary>
public sealed class ExportApiTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = InDenver(2027, 2, 15, 9);

    public static async Task<(ApiResponse Response, byte[] Bytes)> ExportAsync(ApiHarness api)
    {
        var request = api.Request("GET", "/api/exports/licenses.csv");
        var response = await api.InvokeAsync(request, "ExportLicenses", c => Task.FromResult(api.Function<ExportFunctions>().ExportLicenses(request, c)));
        return (response, ((MemoryStream)request.HttpContext.Response.Body).ToArray());
    }

    [Fact]
    public async Task Section9_export_streams_every_license_with_a_BOM_and_imports_back_into_an_empty_store_as_the_same_rows()
    {
        using var source = new ApiHarness(azurite.ConnectionString, Now);
        // More licenses than one page of the export, so the paging is part of the round trip.
        for (var i = 0; i < 505; i++)
        {
            await ActivateAsync(source, $"VT-{i:D4}", new LocalDate(2026, 1 + (i % 12), 1), customerId: $"C-{i % 7}");
        }

        await ImportApiTests.ImportAndWaitAsync(source, ImportApiTests.Sample);
        // SPEC section 10: a replaced license is exported too (status replaced), next to the license that replaced it.
        var replaced = await ReplacementApiTests.ReplaceAsync(source, "VT-0003", """{"newSerial":"VT-R003","reason":"broken"}""");
        Assert.Equal(201, replaced.Status);
        // A chain: VT-0005 replaced by VT-R005, which is renewed and then replaced by VT-S005, whose contacts change.
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(source, "VT-0005", """{"newSerial":"VT-R005"}""")).Status);
        Assert.Equal(201, (await LicenseApiTests.RenewAsync(source, "VT-R005", """{"orderReference":"SO-R5","months":12}""")).Status);
        Assert.Equal(201, (await ReplacementApiTests.ReplaceAsync(source, "VT-R005", """{"newSerial":"VT-S005"}""")).Status);
        await source.Services.GetRequiredService<LicenseService>().ReplaceContactsAsync(Serial.Parse("VT-S005"), [EmailAddress.Parse("new.buyer@c5.example")], new CommandContext("test", "corr-c"), CancellationToken.None);

        var (first, bytes) = await ExportAsync(source);

        Assert.Equal(200, first.Status);
        Assert.Equal("text/csv", first.MediaType);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.StartsWith("serial,customerId,customerName,contacts,product,activationEmailSentOn,planStart,expiresOn,onSiteTraining,note,status,replacedBy\r\n", first.Body);
        var lines = first.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 505 + 1 + 3 + 2, lines.Length);
        Assert.EndsWith(",replaced,VT-R003", Assert.Single(lines, l => l.StartsWith("VT-0003,", StringComparison.Ordinal)));
        Assert.EndsWith(",current,", Assert.Single(lines, l => l.StartsWith("VT-R003,", StringComparison.Ordinal)));
        Assert.EndsWith(",replaced,VT-R005", Assert.Single(lines, l => l.StartsWith("VT-0005,", StringComparison.Ordinal)));
        Assert.EndsWith(",replaced,VT-S005", Assert.Single(lines, l => l.StartsWith("VT-R005,", StringComparison.Ordinal)));
        // The note is kept on the imported event and exported with the license.
        Assert.EndsWith(",yes,first,current,", Assert.Single(lines, l => l.StartsWith("VT-101,", StringComparison.Ordinal)));

        using var empty = new ApiHarness(azurite.ConnectionString, Now);
        var imported = await ImportAndWaitAsync(empty, bytes);
        Assert.Equal(511, imported.GetProperty("created").GetInt32());
        Assert.Equal(0, imported.GetProperty("invalid").GetInt32());
        Assert.Equal(0, imported.GetProperty("conflicts").GetInt32());
        Assert.True((await StoredAsync(empty, "VT-0003")).IsReplaced);
        Assert.False((await StoredAsync(empty, "VT-R003")).IsReplaced);
        Assert.Equal("VT-R005", (await StoredAsync(empty, "VT-0005")).Replacement!.NewSerial.Value);
        Assert.Equal("VT-S005", (await StoredAsync(empty, "VT-R005")).Replacement!.NewSerial.Value);

        var (_, again) = await ExportAsync(empty);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public async Task Section9_an_unreadable_license_is_left_out_of_the_export_and_counted_while_the_others_are_exported()
    {
        // The export has answered 200 before it reaches the license, so no problem document can follow: the license is
        // left out of the file, logged by serial and counted (smp.export.unreadable), and the rest of the file follows.
        // The export reads the license records themselves, so the unreadable one is a record that is no longer JSON.
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        foreach (var serial in new[] { "VT-E1", "VT-E2", "VT-E3" })
        {
            await ActivateAsync(api, serial, new LocalDate(2026, 6, 1));
        }

        var table = api.Services.GetRequiredService<TableServiceClient>().GetTableClient(api.TablePrefix + "licenses");
        var row = (await table.GetEntityAsync<TableEntity>("VT-E2", "license|VT-E2")).Value;
        row["License"] = "{\"serial\": \"VT-E";
        await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);

        using var counted = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, SmpMetrics.Instruments.ExportUnreadable);

        var (response, _) = await ExportAsync(api);

        Assert.Equal(200, response.Status);
        var serials = response.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')[0]);
        Assert.Equal(["VT-E1", "VT-E3"], serials);
        Assert.Equal(1, counted.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section9_export_pages_by_serial_so_a_renewal_and_an_activation_between_pages_list_every_license_once()
    {
        BetweenPagesStore? hooked = null;
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.Decorate<ILicenseStore>((inner, _) => hooked = new BetweenPagesStore(inner)));
        // In expiry order VT-P1 comes first; a renewal moves it behind every other license.
        await ActivateAsync(api, "VT-P1", new LocalDate(2026, 6, 1));
        await ActivateAsync(api, "VT-P2", new LocalDate(2026, 7, 1));
        await ActivateAsync(api, "VT-P3", new LocalDate(2026, 8, 1));
        await ActivateAsync(api, "VT-P4", new LocalDate(2026, 9, 1));
        var licenses = api.Services.GetRequiredService<LicenseService>();
        Assert.NotNull(hooked);
        hooked!.BeforeSecondPage = async () =>
        {
            var renewed = await licenses.RenewAsync(Serial.Parse("VT-P1"), new RenewalRequest("SO-P1", 12, null), new CommandContext("test", "corr-p"), CancellationToken.None);
            Assert.Equal(CommandOutcome.Updated, renewed.Outcome);
            await ActivateAsync(api, "VT-P5", new LocalDate(2026, 5, 1));
        };

        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        await new LicenseCsvResult(licenses, Now.InZone(DateTimeZoneProviders.Tzdb["America/Denver"]).Date, _ => { }, CancellationToken.None, pageSize: 2)
            .ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));

        Assert.Null(hooked.BeforeSecondPage); // The change did come between two pages.
        var serials = Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray())
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => line.Split(',')[0]).ToList();
        Assert.Equal(serials.Distinct(), serials);
        Assert.All(new[] { "VT-P1", "VT-P2", "VT-P3", "VT-P4", "VT-P5" }, serial => Assert.Single(serials, serial));
    }

    /// <summary>Runs <see cref="BeforeSecondPage"/> once, when the export asks for its second page of licenses.</summary>
    private sealed class BetweenPagesStore(ILicenseStore inner) : ILicenseStore
    {
        private int listings;

        public Func<Task>? BeforeSecondPage { get; set; }

        public IAsyncEnumerable<StoredLicense> ListAllAsync(Serial? after, int pageSize, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
            Paged(() => inner.ListAllAsync(after, pageSize, onFailure, cancellationToken));

        public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) =>
            Paged(() => inner.ListExpiringAfterAsync(from, to, after, onFailure, cancellationToken));

        public Task<StoredLicense?> GetAsync(Serial serial, CancellationToken cancellationToken) => inner.GetAsync(serial, cancellationToken);

        public Task<IReadOnlyList<LicenseEvent>> GetEventsAsync(Serial serial, CancellationToken cancellationToken) => inner.GetEventsAsync(serial, cancellationToken);

        public Task<bool> TryAddAsync(License license, LicenseEvent firstEvent, CancellationToken cancellationToken) => inner.TryAddAsync(license, firstEvent, cancellationToken);

        public Task<bool> TryUpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.TryUpdateAsync(current, updated, newEvent, cancellationToken);

        public Task<StoredLicense?> UpdateAsync(StoredLicense current, License updated, LicenseEvent newEvent, CancellationToken cancellationToken) => inner.UpdateAsync(current, updated, newEvent, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListByCustomerAsync(string customerId, Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, onFailure, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAsync(LocalDate from, LocalDate to, CancellationToken cancellationToken) => inner.ListExpiringAsync(from, to, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListExpiringAfterAsync(LocalDate from, LocalDate to, ExpiryPosition? after, CancellationToken cancellationToken) => inner.ListExpiringAfterAsync(from, to, after, cancellationToken);

        public IAsyncEnumerable<StoredLicense> ListReminderCandidatesAsync(LocalDate dueOnOrBefore, CancellationToken cancellationToken) => inner.ListReminderCandidatesAsync(dueOnOrBefore, cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(cancellationToken);

        public IAsyncEnumerable<Serial> ListPendingReplacementsAsync(Action<LicenseReadFailure> onFailure, CancellationToken cancellationToken) => inner.ListPendingReplacementsAsync(onFailure, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

        private async IAsyncEnumerable<StoredLicense> Paged(Func<IAsyncEnumerable<StoredLicense>> list)
        {
            if (++listings == 2 && BeforeSecondPage is { } hook)
            {
                BeforeSecondPage = null;
                await hook();
            }

            await foreach (var license in list())
            {
                yield return license;
            }
        }
    }

    [Fact]
    public async Task Section10_a_replacedBy_that_names_no_license_or_another_customers_is_a_conflict_on_replacedBy_and_imports_nothing_for_the_row()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        await ActivateAsync(api, "VT-X900", new LocalDate(2026, 3, 1), customerId: "C-OTHER");
        const string Header = "serial,customerId,customerName,contacts,expiresOn,status,replacedBy\r\n";
        var file = Header
            + "VT-X901,C-1,Acme,buyer@acme.example,2027-04-01,replaced,VT-X999\r\n"
            + "VT-X902,C-1,Acme,buyer@acme.example,2027-04-01,replaced,VT-X900\r\n"
            + "VT-X903,C-1,Acme,buyer@acme.example,2027-04-01,current,\r\n"
            + "VT-X904,C-1,Acme,buyer@acme.example,2027-04-01,replaced,VT-X903\r\n";

        var done = await ImportAndWaitAsync(api, Encoding.UTF8.GetBytes(file));

        Assert.Equal(2, done.GetProperty("created").GetInt32());
        Assert.Equal(2, done.GetProperty("conflicts").GetInt32());
        var errors = done.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).Order().ToList();
        Assert.Equal([(2, "replacedBy"), (3, "replacedBy")], errors);
        Assert.Null(await api.Services.GetRequiredService<ILicenseStore>().GetAsync(Serial.Parse("VT-X901"), CancellationToken.None));
        Assert.Null(await api.Services.GetRequiredService<ILicenseStore>().GetAsync(Serial.Parse("VT-X902"), CancellationToken.None));
        Assert.Equal("VT-X903", (await StoredAsync(api, "VT-X904")).Replacement!.NewSerial.Value);
    }

    private static async Task<System.Text.Json.JsonElement> ImportAndWaitAsync(ApiHarness api, byte[] body)
    {
        var posted = await ImportApiTests.PostAsync(api, body);
        Assert.Equal(202, posted.Status);
        await ImportApiTests.ProcessAsync(api);
        var done = (await ImportApiTests.GetAsync(api, posted.Json().GetProperty("id").GetString()!)).Json();
        Assert.Equal("done", done.GetProperty("status").GetString());
        return done;
    }
}
