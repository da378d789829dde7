using System.Diagnostics.Metrics;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Observability;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// R9 "one license whose data cannot be mailed never stops the reminders of other licenses", and its siblings in
/// R12 and R14: a license stored (as older code could store it) with a customer name made only of an invisible
/// direction mark, U+200E, which every mail template refuses, among licenses of other customers.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UnmailableRecordTests(AzuriteFixture azurite) : IDisposable
{
    private const string GoodName = "Acme Tube Works";
    private static readonly LocalDate April2026 = new(2026, 4, 1);

    private readonly ApiHarness _api = new(azurite.ConnectionString, InDenver(2026, 3, 20));

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task R9_a_license_whose_name_cannot_be_mailed_is_counted_as_failed_and_retried_while_the_other_customers_get_their_reminders()
    {
        await ActivateAllAsync();
        await SetStoredNameAsync("VT-8002", "\u200E");
        using var failed = new MetricCollector<long>(_api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.reminders.failed");

        _api.Clock.Reset(InDenver(2027, 1, 1));
        await RunScanAsync(_api);

        var messages = await UndeliveredAsync(_api);
        Assert.Equal(2, messages.Count);
        Assert.Single(messages, m => m.Mail.PlainText.Contains("VT-8001", StringComparison.Ordinal));
        Assert.Single(messages, m => m.Mail.PlainText.Contains("VT-8003", StringComparison.Ordinal));
        Assert.Empty(await EventsAsync(_api, "VT-8002", "reminderSent"));
        Assert.Equal(1, failed.GetMeasurementSnapshot().EvaluateAsCounter());

        // The next run tries it again (and fails again, counted again); once the record is corrected it goes out.
        _api.Clock.Reset(InDenver(2027, 1, 2));
        await RunScanAsync(_api);
        Assert.Equal(2, failed.GetMeasurementSnapshot().EvaluateAsCounter());
        await SetStoredNameAsync("VT-8002", GoodName);
        _api.Clock.Reset(InDenver(2027, 1, 3));
        await RunScanAsync(_api);

        messages = await UndeliveredAsync(_api);
        Assert.Equal(3, messages.Count);
        Assert.Single(messages, m => m.Mail.PlainText.Contains("VT-8002", StringComparison.Ordinal));
        Assert.Equal("90-day", Data(Assert.Single(await EventsAsync(_api, "VT-8002", "reminderSent")), "stage"));
        Assert.Equal(2, failed.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task R14_an_announcement_with_a_license_whose_name_cannot_be_mailed_answers_202_mails_the_others_and_retries_it_when_announced_again()
    {
        await ActivateAllAsync();
        await SetStoredNameAsync("VT-8002", "\u200E");
        _api.Clock.Reset(InDenver(2026, 6, 1));
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api, releasedOn: "2026-05-15")).Status);

        var response = await UpdateApi.AnnounceAsync(_api);

        Assert.True(response.Status == 202, response.ToString());
        Assert.Equal(1, response.Json().GetProperty("failed").GetInt32());
        var mails = await UndeliveredAsync(_api);
        Assert.Equal(2, mails.Count);
        Assert.DoesNotContain(mails, m => m.Mail.PlainText.Contains("VT-8002", StringComparison.Ordinal));

        await SetStoredNameAsync("VT-8002", GoodName);
        var again = await UpdateApi.AnnounceAsync(_api);
        Assert.True(again.Status == 202, again.ToString());
        Assert.Equal(0, again.Json().GetProperty("failed").GetInt32());
        mails = await UndeliveredAsync(_api);
        Assert.Equal(3, mails.Count);
        Assert.Single(mails, m => m.Mail.PlainText.Contains("VT-8002", StringComparison.Ordinal));
    }

    [Fact]
    public async Task R12_a_term_request_for_a_license_whose_name_cannot_be_mailed_answers_202_like_any_other()
    {
        await ActivateAllAsync();
        await SetStoredNameAsync("VT-8002", "\u200E");
        _api.Clock.Reset(InDenver(2026, 6, 1));

        var bad = await CustomerRequestTests.RequestTermAsync(_api, """{"serial":"VT-8002"}""");
        var unknown = await CustomerRequestTests.RequestTermAsync(_api, """{"serial":"VT-8999"}""");
        var good = await CustomerRequestTests.RequestTermAsync(_api, """{"serial":"VT-8001"}""");

        Assert.True(bad.Status == 202, bad.ToString());
        Assert.Equal((unknown.Status, unknown.Body), (bad.Status, bad.Body));
        Assert.Equal(202, good.Status);
        var mail = Assert.Single(await UndeliveredAsync(_api));
        Assert.Contains("VT-8001", mail.Mail.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task R11_a_quote_request_for_a_license_whose_name_cannot_be_mailed_answers_202_like_any_other()
    {
        await ActivateAllAsync();
        await SetStoredNameAsync("VT-8002", "\u200E");
        _api.Clock.Reset(InDenver(2026, 6, 1));

        var bad = await CustomerRequestTests.RequestQuoteAsync(_api, """{"serial":"VT-8002"}""");
        var unknown = await CustomerRequestTests.RequestQuoteAsync(_api, """{"serial":"VT-8999"}""");

        Assert.True(bad.Status == 202, bad.ToString());
        Assert.Equal((unknown.Status, unknown.Body), (bad.Status, bad.Body));
        Assert.Empty(await UndeliveredAsync(_api));
    }

    [Fact]
    public async Task R13_a_password_link_request_for_a_license_whose_name_cannot_be_mailed_answers_202_like_any_other()
    {
        await ActivateAllAsync();
        await SetStoredNameAsync("VT-8002", "\u200E");
        _api.Clock.Reset(InDenver(2026, 6, 1));
        Assert.Equal(201, (await UpdateApi.PublishAsync(_api, releasedOn: "2026-05-15")).Status);

        var bad = await UpdateApi.RequestLinkAsync(_api, "VT-8002", "1.96");
        var unknown = await UpdateApi.RequestLinkAsync(_api, "VT-8999", "1.96");

        Assert.True(bad.Status == 202, bad.ToString());
        Assert.Equal((unknown.Status, unknown.Body), (bad.Status, bad.Body));
        Assert.Empty(await UndeliveredAsync(_api));
    }

    /// <summary>Three customers, one license each, all expiring on 2027-04-01.</summary>
    private async Task ActivateAllAsync()
    {
        await ActivateAsync(_api, "VT-8001", April2026, customerId: "C-81", contacts: ["a@c81.example.com"]);
        await ActivateAsync(_api, "VT-8002", April2026, customerId: "C-82", contacts: ["a@c82.example.com"]);
        await ActivateAsync(_api, "VT-8003", April2026, customerId: "C-83", contacts: ["a@c83.example.com"]);
    }

    /// <summary>Rewrites the customer name inside the stored license record, as a record written before validation could hold it.</summary>
    private async Task SetStoredNameAsync(string serial, string name)
    {
        var table = _api.Services.GetRequiredService<TableServiceClient>().GetTableClient(_api.TablePrefix + "licenses");
        var row = (await table.GetEntityAsync<TableEntity>(serial, "license|" + serial)).Value;
        var document = System.Text.Json.Nodes.JsonNode.Parse(row.GetString("License")!)!;
        Assert.True(SetCustomerName(document, name), "No customer name in the stored record.");
        row["License"] = document.ToJsonString();
        await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
    }

    /// <summary>Sets every <c>customerName</c> property in the record; false when there is none.</summary>
    private static bool SetCustomerName(System.Text.Json.Nodes.JsonNode? node, string name)
    {
        var found = false;
        switch (node)
        {
            case System.Text.Json.Nodes.JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (key == "customerName")
                    {
                        obj[key] = name;
                        found = true;
                    }
                    else
                    {
                        found |= SetCustomerName(obj[key], name);
                    }
                }

                break;
            case System.Text.Json.Nodes.JsonArray array:
                foreach (var item in array)
                {
                    found |= SetCustomerName(item, name);
                }

                break;
        }

        return found;
    }
}
