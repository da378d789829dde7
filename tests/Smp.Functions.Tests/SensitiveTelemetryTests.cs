using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using Smp.Functions.Hosting;

namespace Smp.Functions.Tests;

public sealed class SensitiveTelemetryTests
{
    [Theory]
    [InlineData("password")]
    [InlineData("Password")]
    [InlineData("smp.update_password")]
    [InlineData("UpdatePassword")]
    [InlineData("link-signing-key")]
    [InlineData("secret")]
    [InlineData("http.request.header.authorization")]
    [InlineData("access_token")]
    [InlineData("ConnectionString")]
    [InlineData("x-ms-signature")]
    public void Names_that_announce_a_secret_are_sensitive(string name) =>
        Assert.True(SensitiveTelemetry.IsSensitive(name));

    [Theory]
    [InlineData("")]
    [InlineData("serial")]
    [InlineData("kind")]
    [InlineData("{OriginalFormat}")]
    [InlineData("url.full")]
    [InlineData("az.client_request_id")]
    [InlineData("faas.invocation_id")]
    [InlineData("smp.mails_enqueued")]
    public void Ordinary_names_are_not(string name) =>
        Assert.False(SensitiveTelemetry.IsSensitive(name));

    [Fact]
    public void A_span_tag_holding_a_password_is_redacted_before_export()
    {
        var sourceName = $"Smp.Tests.{Guid.NewGuid():N}";
        var exported = new List<Dictionary<string, object?>>();
        using var source = new ActivitySource(sourceName);
        using (Sdk.CreateTracerProviderBuilder()
            .AddSource(sourceName)
            .AddProcessor(new SensitiveTagRedactor())
            .AddProcessor(new Capture<Activity>(a => exported.Add(a.TagObjects.ToDictionary(t => t.Key, t => t.Value))))
            .Build())
        {
            using var activity = source.StartActivity("publish update");
            Assert.NotNull(activity);
            activity.SetTag("smp.update.version", "1.96");
            activity.SetTag("smp.update.password", "hunter2");
        }

        var tags = Assert.Single(exported);
        Assert.Equal("1.96", tags["smp.update.version"]);
        Assert.Equal(SensitiveTelemetry.Redacted, tags["smp.update.password"]);
        Assert.DoesNotContain("hunter2", tags.Values);
    }

    [Fact]
    public void A_log_attribute_holding_a_password_is_redacted_and_the_message_falls_back_to_its_template()
    {
        var exported = new List<(string? Message, Dictionary<string, object?> Attributes)>();
        using (var loggerFactory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(otel =>
        {
            otel.IncludeFormattedMessage = true;
            otel.AddProcessor(new SensitiveLogAttributeRedactor());
            otel.AddProcessor(new Capture<LogRecord>(r => exported.Add((r.FormattedMessage, (r.Attributes ?? []).ToDictionary(a => a.Key, a => a.Value)))));
        })))
        {
            var logger = loggerFactory.CreateLogger("Smp.Tests");
            logger.LogInformation("Stored {Password} for update {Version}", "hunter2", "1.96");
            logger.LogInformation("Published update {Version}", "1.97");
        }

        Assert.Equal(2, exported.Count);
        var (message, attributes) = exported[0];
        Assert.Null(message);
        Assert.Equal(SensitiveTelemetry.Redacted, attributes["Password"]);
        Assert.Equal("1.96", attributes["Version"]);
        Assert.DoesNotContain("hunter2", attributes.Values);
        Assert.Equal("Published update 1.97", exported[1].Message);
    }
}

/// <summary>Hands each finished span or log record to a callback (which must copy what it keeps: records are reused).</summary>
internal sealed class Capture<T>(Action<T> onEnd) : BaseProcessor<T>
    where T : class
{
    public override void OnEnd(T data) => onEnd(data);
}
