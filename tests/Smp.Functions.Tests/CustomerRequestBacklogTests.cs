using System.Diagnostics.Metrics;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NodaTime;
using Smp.Core.Observability;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5 (R11, R12, R13): an accepted customer request (202) is acted on, or given up with a log line and a
/// metric, never dropped silently: not by a malformed row beside it, nor by the purge of past days after the
/// background work was down for days.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CustomerRequestBacklogTests(AzuriteFixture azurite)
{
    private static readonly DateTimeZone Denver = DateTimeZoneProviders.Tzdb["America/Denver"];

    /// <summary>More accepted requests than one run of the background work takes (it takes 100).</summary>
    private const int Backlog = 120;

    /// <summary>The documented maximum age of an accepted request, in business days (docs/reminders-and-mail.md).</summary>
    private const int MaxAgeDays = 7;

    [Fact]
    public async Task Section5_a_malformed_request_row_is_removed_and_counted_and_the_good_requests_around_it_are_processed_and_purged()
    {
        var day1 = InDenver(2026, 3, 20, 9);
        using var api = new ApiHarness(azurite.ConnectionString, day1);
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1), customerId: "C-1", contacts: ["a@c1.example.com"]);
        await ActivateAsync(api, "VT-3", new LocalDate(2026, 1, 1), customerId: "C-3", contacts: ["a@c3.example.com"]);
        using var unreadable = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.requests.unreadable");
        var queue = api.Services.GetRequiredService<ICustomerRequestQueue>();
        Assert.True(await queue.RecordAsync(Request(CustomerRequestKinds.Term, "VT-1", day1), CancellationToken.None));
        Assert.True(await queue.RecordAsync(Request(CustomerRequestKinds.Term, "VT-3", day1), CancellationToken.None));

        // A row between the two (by key) whose serial no version of the app could have written.
        var table = Requests(api);
        var day = DayKey(day1);
        await table.AddEntityAsync(new TableEntity(day, "term|VT-2 bad|-|license|" + day)
        {
            ["Kind"] = CustomerRequestKinds.Term,
            ["Serial"] = "VT-2 bad",
            ["Scope"] = "license",
            ["Actor"] = "term-requests",
            ["CorrelationId"] = "corr-bad",
            ["Status"] = "Pending",
        });

        await ProcessCustomerRequestsAsync(api);

        var mails = await UndeliveredAsync(api);
        Assert.Single(mails, m => m.Kind == MailKinds.Term && m.Mail.PlainText.Contains("VT-1", StringComparison.Ordinal));
        Assert.Single(mails, m => m.Kind == MailKinds.Term && m.Mail.PlainText.Contains("VT-3", StringComparison.Ordinal));
        Assert.Equal(1, unreadable.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.DoesNotContain(await RowsAsync(table), r => r.GetString("Serial") == "VT-2 bad");

        // Two days on, the purge removes the day's requests (all acted on).
        api.Clock.Reset(InDenver(2026, 3, 22, 9));
        await ProcessCustomerRequestsAsync(api);
        Assert.Empty(await RowsAsync(table));
        Assert.Equal(1, unreadable.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section5_requests_accepted_before_three_days_of_downtime_are_processed_when_the_work_runs_again_not_purged()
    {
        var day1 = InDenver(2026, 3, 20, 9);
        using var api = new ApiHarness(azurite.ConnectionString, day1);
        await ActivateAsync(api, "VT-11", new LocalDate(2026, 1, 1), customerId: "C-11", contacts: ["a@c11.example.com"]);
        await ActivateAsync(api, "VT-12", new LocalDate(2026, 1, 1), customerId: "C-12", contacts: ["a@c12.example.com"]);
        var queue = api.Services.GetRequiredService<ICustomerRequestQueue>();

        // More requests than one run takes, all accepted on day 1; the two for stored licenses come last.
        for (var i = 1; i <= Backlog; i++)
        {
            Assert.True(await queue.RecordAsync(Request(CustomerRequestKinds.Quote, $"VT-{i:D4}", day1), CancellationToken.None));
        }

        Assert.True(await queue.RecordAsync(Request(CustomerRequestKinds.Quote, "VT-12", day1), CancellationToken.None));
        Assert.True(await queue.RecordAsync(Request(CustomerRequestKinds.Term, "VT-11", day1), CancellationToken.None));

        // The background work was down from day 1 on; it runs again three days later, once a minute.
        api.Clock.Reset(InDenver(2026, 3, 23, 9));
        await ProcessCustomerRequestsAsync(api);
        api.Clock.Advance(Duration.FromMinutes(1));

        var mails = await UndeliveredAsync(api);
        Assert.Single(mails, m => m.Kind == MailKinds.Term && m.Mail.PlainText.Contains("VT-11", StringComparison.Ordinal));
        Assert.Single(mails, m => m.Kind == MailKinds.QuoteAcknowledgement);
        Assert.Single(await EventsAsync(api, "VT-11", "termRequested"));
        Assert.Single(await EventsAsync(api, "VT-12", "quoteRequested"));

        // Acted on, they go with the next purge; quote requests stay 15 days, for the renewals desk's digest (SPEC section 11).
        await ProcessCustomerRequestsAsync(api);
        var kept = await RowsAsync(Requests(api));
        Assert.NotEmpty(kept);
        Assert.All(kept, r => Assert.True(r.GetString("Kind") == CustomerRequestKinds.Quote && r.GetString("Status") != "Pending", $"{r.GetString("Kind")} {r.GetString("Status")}"));
        api.Clock.Reset(InDenver(2026, 4, 4, 9));
        await ProcessCustomerRequestsAsync(api);
        Assert.Empty(await RowsAsync(Requests(api)));
    }

    [Fact]
    public async Task Section5_a_request_older_than_the_maximum_age_is_given_up_unprocessed_with_a_log_line_and_a_metric()
    {
        var day1 = InDenver(2026, 3, 20, 9);
        var logs = new LogCapture();
        using var api = new ApiHarness(azurite.ConnectionString, day1, services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        await ActivateAsync(api, "VT-21", new LocalDate(2026, 1, 1), customerId: "C-21", contacts: ["a@c21.example.com"]);
        await ActivateAsync(api, "VT-22", new LocalDate(2026, 1, 1), customerId: "C-22", contacts: ["a@c22.example.com"]);
        using var givenUp = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.requests.given_up");
        var queue = api.Services.GetRequiredService<ICustomerRequestQueue>();
        var old = Request(CustomerRequestKinds.Term, "VT-21", day1);
        Assert.True(await queue.RecordAsync(old, CancellationToken.None));

        // Down for longer than the maximum age: the reply would come too late to be of use.
        var back = day1 + Duration.FromDays(MaxAgeDays + 1);
        api.Clock.Reset(back);
        var recent = Request(CustomerRequestKinds.Term, "VT-22", back - Duration.FromDays(MaxAgeDays));
        Assert.True(await queue.RecordAsync(recent, CancellationToken.None));
        await ProcessCustomerRequestsAsync(api);

        var mail = Assert.Single(await UndeliveredAsync(api));
        Assert.Contains("VT-22", mail.Mail.PlainText, StringComparison.Ordinal);
        Assert.Empty(await EventsAsync(api, "VT-21", "termRequested"));
        Assert.Equal(1, givenUp.GetMeasurementSnapshot().EvaluateAsCounter());
        var line = Assert.Single(logs.Records, r => r.Level == Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.Contains(old.Key, line.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(old.CorrelationId, line.Text, StringComparison.Ordinal);

        // Given up, it is purged with its day; it is never acted on later.
        await ProcessCustomerRequestsAsync(api);
        Assert.DoesNotContain(await RowsAsync(Requests(api)), r => r.GetString("Serial") == "VT-21");
        Assert.Empty(await EventsAsync(api, "VT-21", "termRequested"));
        Assert.Equal(1, givenUp.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task Section5_a_failed_purge_still_reports_the_requests_given_up_in_the_run_and_is_itself_logged_and_counted()
    {
        var day1 = InDenver(2026, 3, 20, 9);
        var logs = new LogCapture();
        var purgeFails = new FailDeletes();
        using var api = new ApiHarness(azurite.ConnectionString, day1, services: s =>
        {
            s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs);
            s.AddSingleton(_ =>
            {
                var options = new TableClientOptions();
                options.AddPolicy(purgeFails, global::Azure.Core.HttpPipelinePosition.PerCall);
                return new TableServiceClient(azurite.ConnectionString, options);
            });
        });
        await ActivateAsync(api, "VT-31", new LocalDate(2026, 1, 1), customerId: "C-31", contacts: ["a@c31.example.com"]);
        using var givenUp = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.requests.given_up");
        using var purgeFailed = new MetricCollector<long>(api.Services.GetRequiredService<IMeterFactory>(), SmpMetrics.MeterName, "smp.requests.purge_failed");
        var queue = api.Services.GetRequiredService<ICustomerRequestQueue>();
        var old = Request(CustomerRequestKinds.Term, "VT-31", day1);
        Assert.True(await queue.RecordAsync(old, CancellationToken.None));

        // Back after longer than the maximum age: the request is given up in this run, then the purge of past days
        // (which would remove it) cannot delete anything.
        api.Clock.Reset(day1 + Duration.FromDays(MaxAgeDays + 1));
        purgeFails.Active = true;
        await ProcessCustomerRequestsAsync(api);

        Assert.True(purgeFails.Failed > 0);
        Assert.Equal(1, givenUp.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Contains(logs.Records, r => r.Level == Microsoft.Extensions.Logging.LogLevel.Error && r.Text.Contains(old.Key, StringComparison.Ordinal));
        Assert.Equal(1, purgeFailed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Contains(logs.Records, r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && r.Text.Contains("purge", StringComparison.OrdinalIgnoreCase));

        // Storage back: the next run purges the given-up request and counts nothing twice.
        purgeFails.Active = false;
        await ProcessCustomerRequestsAsync(api);
        Assert.DoesNotContain(await RowsAsync(Requests(api)), r => r.GetString("Serial") == "VT-31");
        Assert.Equal(1, givenUp.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, purgeFailed.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    private static CustomerRequest Request(string kind, string serial, Instant at) =>
        new(kind, Serial.Parse(serial), null, QuoteScope.License, at.InZone(Denver).Date, kind + "-requests", "corr-" + serial);

    private static string DayKey(Instant at) => NodaTime.Text.LocalDatePattern.Iso.Format(at.InZone(Denver).Date);

    private static TableClient Requests(ApiHarness api) =>
        api.Services.GetRequiredService<TableServiceClient>().GetTableClient(api.TablePrefix + "customerrequests");

    private static async Task<List<TableEntity>> RowsAsync(TableClient table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>While active, every delete (single or in a batch) fails as storage answers when it is unavailable.</summary>
    private sealed class FailDeletes : global::Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int failed;

        public volatile bool Active;

        public int Failed => Volatile.Read(ref failed);

        public override void Process(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The stores call storage asynchronously.");

        public override async ValueTask ProcessAsync(global::Azure.Core.HttpMessage message, ReadOnlyMemory<global::Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            if (Active && (message.Request.Method == global::Azure.Core.RequestMethod.Delete
                || (message.Request.Method == global::Azure.Core.RequestMethod.Post && message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))))
            {
                Interlocked.Increment(ref failed);
                throw new global::Azure.RequestFailedException(503, "The server is currently unable to receive requests.");
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>Every log entry of the app, with its level and its formatted text (and exception).</summary>
    private sealed class LogCapture : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<(Microsoft.Extensions.Logging.LogLevel Level, string Text)> Records { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture capture) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel != Microsoft.Extensions.Logging.LogLevel.None;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                capture.Records.Enqueue((logLevel, formatter(state, exception) + (exception is null ? string.Empty : " | " + exception)));
        }
    }
}
