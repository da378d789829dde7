using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using Smp.Core.Outbox;
using Smp.Core.Plans;
using Smp.Core.Requests;
using Smp.TestSupport;
using static Smp.Functions.Tests.MailTestKit;

namespace Smp.Functions.Tests;

/// <summary>
/// SPEC section 5 (R11, R12, R13): the background work on customer requests goes on with the requests behind one
/// that keeps failing, and gives a failing request up after a bounded number of attempts, with an error log.
/// </summary>
public sealed class CustomerRequestRetryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Instant Now = InDenver(2026, 3, 20, 9);

    /// <summary>A request of a kind this version does not know (recorded by another version): acting on it always fails.</summary>
    private const string UnknownKind = "retired-kind";

    [Fact]
    public async Task Section5_customer_requests_that_keep_failing_do_not_block_the_one_behind_them()
    {
        using var api = new ApiHarness(azurite.ConnectionString, Now);
        await ActivateAsync(api, "VT-1", new LocalDate(2026, 1, 1));
        var queue = api.Services.GetRequiredService<ICustomerRequestQueue>();

        // More failing requests than one run lists, all listed before the good one (same day, keys sorting first).
        for (var i = 0; i < 101; i++)
        {
            Assert.True(await queue.RecordAsync(Request(UnknownKind, $"VT-F{i:D3}"), CancellationToken.None));
        }

        Assert.True(await queue.RecordAsync(Request(CustomerRequestKinds.Term, "VT-1"), CancellationToken.None));

        await ProcessCustomerRequestsAsync(api);
        api.Clock.Advance(Duration.FromMinutes(1));

        // The next run (the timer's next minute) reaches the request behind them.
        Assert.Single(await UndeliveredAsync(api), m => m.Kind == MailKinds.Term);
        Assert.Single(await EventsAsync(api, "VT-1", "termRequested"));
    }

    [Fact]
    public async Task Section5_a_customer_request_that_keeps_failing_is_given_up_after_the_bound_and_logged_without_secrets()
    {
        var logs = new LogCapture();
        using var api = new ApiHarness(azurite.ConnectionString, Now, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var failing = Request(UnknownKind, "VT-9");
        Assert.True(await api.Services.GetRequiredService<ICustomerRequestQueue>().RecordAsync(failing, CancellationToken.None));

        // Each run an hour apart (at least the longest wait between attempts), well within the request's two days.
        for (var run = 1; run <= CustomerRequestRetry.Default.MaxAttempts + 3; run++)
        {
            Assert.True(run <= CustomerRequestRetry.Default.MaxAttempts || logs.Records.Any(r => r.Level == LogLevel.Error), $"Not given up after {run - 1} runs.");
            Assert.True(run > CustomerRequestRetry.Default.MaxAttempts || logs.Records.All(r => r.Level != LogLevel.Error), $"Given up after only {run - 1} runs.");
            await ProcessCustomerRequestsAsync(api);
            api.Clock.Advance(Duration.FromHours(1));
        }

        var errors = logs.Records.Where(r => r.Level == LogLevel.Error).ToList();
        var error = Assert.Single(errors);
        Assert.Contains(UnknownKind, error.Text, StringComparison.Ordinal);
        Assert.Contains(failing.Key, error.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(failing.CorrelationId, error.Text, StringComparison.Ordinal);
    }

    private static CustomerRequest Request(string kind, string serial) =>
        new(kind, Serial.Parse(serial), null, QuoteScope.License, Now.InZone(DateTimeZoneProviders.Tzdb["America/Denver"]).Date, "term-requests", "corr-" + serial);

    /// <summary>Every log entry of the app, with its level and its formatted text.</summary>
    private sealed class LogCapture : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture capture) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                capture.Records.Enqueue((logLevel, formatter(state, exception) + (exception is null ? string.Empty : " | " + exception)));
        }
    }
}
