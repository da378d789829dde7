using System.Diagnostics.Metrics;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Observability;
using Smp.Core.Outbox;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5: one outbox row that cannot be read (a status another version wrote, a lost content chunk) never
/// stops delivery. The dispatcher, the staff listing and the sent-body purge skip it, leave it in place for staff,
/// log it and count it (<c>smp.mail.unreadable</c>); the mail around it goes on.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UnreadableOutboxMessageTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Section5_a_row_with_an_unknown_status_among_three_good_ones_is_skipped_and_counted_and_the_three_are_sent()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1));
        using var unreadable = Collect(api);
        var ids = await MailDeliveryTests.EnqueueAsync(api, 4);
        await SetAsync(api, ids[1], "Status", "Bounced");

        await DispatchAsync(api);

        Assert.Equal(new[] { ids[0], ids[2], ids[3] }.Select(id => id + ".eml").Order(StringComparer.Ordinal), PickedUpFiles(api).Select(Path.GetFileName));
        Assert.Equal(1, unreadable.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal("Bounced", (await RowAsync(api, ids[1])).GetString("Status")); // Left in place for staff.
    }

    [Fact]
    public async Task Section5_the_staff_listing_of_failed_mail_skips_an_unreadable_row_and_lists_the_others()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1));
        using var unreadable = Collect(api);
        var ids = await MailDeliveryTests.EnqueueAsync(api, 2);
        foreach (var id in ids)
        {
            var stored = (await Outbox(api).GetAsync(id, CancellationToken.None))!;
            Assert.NotNull(await Outbox(api).TryUpdateAsync(stored, stored.Message with { Status = MailStatus.Failed, LastError = "550 Mailbox unknown." }, CancellationToken.None));
        }

        await SetAsync(api, ids[0], "Status", "Bounced");

        var failed = await MailApiTests.ListAsync(api, "status=failed");

        Assert.Equal(200, failed.Status);
        Assert.Equal([ids[1]], failed.Json().GetProperty("mail").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        Assert.Equal(1, unreadable.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section5_the_sent_body_purge_skips_an_unreadable_row_and_purges_the_others()
    {
        using var api = new ApiHarness(azurite.ConnectionString, InDenver(2027, 1, 1));
        using var unreadable = Collect(api);
        var ids = await MailDeliveryTests.EnqueueAsync(api, 3);
        await DispatchAsync(api);
        Assert.Equal(3, PickedUpFiles(api).Count);
        var row = await RowAsync(api, ids[1]);
        row.Remove("Content0"); // A lost content chunk.
        await Table(api).UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace);

        api.Clock.Advance(Duration.FromDays(DeliveryOptions.DefaultSentBodyRetentionDays + 1));
        await DispatchAsync(api); // The purge runs at the end of each dispatch run.

        Assert.True((await MessageAsync(api, ids[0])).BodyPurged);
        Assert.True((await MessageAsync(api, ids[2])).BodyPurged);
        Assert.Equal(1, unreadable.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Null((await RowAsync(api, ids[1])).GetBinary("Content0"));
    }

    private static MetricCollector<long> Collect(ApiHarness api) =>
        new(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.mail.unreadable");

    private static TableClient Table(ApiHarness api) =>
        api.Services.GetRequiredService<TableServiceClient>().GetTableClient(api.TablePrefix + "mailoutbox");

    private static async Task<TableEntity> RowAsync(ApiHarness api, string id) =>
        (await Table(api).GetEntityAsync<TableEntity>("mail", "msg|" + id)).Value;

    private static async Task SetAsync(ApiHarness api, string id, string column, string value) =>
        await Table(api).UpdateEntityAsync(new TableEntity("mail", "msg|" + id) { [column] = value }, ETag.All, TableUpdateMode.Merge);
}
