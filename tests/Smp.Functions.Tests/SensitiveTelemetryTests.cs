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

public sealed class ValueBasedRedactionTests
{
    private const string Signature = "PYhR1mOP4Dnvstp2JLkSfpVRpD1VIqM1UVwhIk_hN5A";
    private const string Key = "Fk7pQ2xZrT9wLm4vN8bC1dE6hJ3kS5yU0aGiOq";
    private const string Link = "https://smp.example.com/api/updates/1.96/password?serial=VT-1001&expires=1775232000&sig=" + Signature;

    [Fact]
    public void Section5_span_tags_holding_urls_keep_serial_and_expires_and_lose_the_signature_and_key_values()
    {
        var tags = ExportSpan(activity =>
        {
            activity.SetTag("url.full", Link);
            activity.SetTag("url.query", "?serial=VT-1001&expires=1775232000&sig=" + Signature);
            activity.SetTag("http.target", "/api/licenses/VT-1001?code=" + Key);
            activity.SetTag("http.request.header.x-functions-key", Key);
            activity.SetTag("smp.serial", "VT-1001");
            activity.SetStatus(ActivityStatusCode.Error, "GET " + Link + " failed");
        }, out var status);

        Assert.Equal("https://smp.example.com/api/updates/1.96/password?serial=VT-1001&expires=1775232000&sig=[REDACTED]", tags["url.full"]);
        Assert.Equal("?serial=VT-1001&expires=1775232000&sig=[REDACTED]", tags["url.query"]);
        Assert.Equal("/api/licenses/VT-1001?code=[REDACTED]", tags["http.target"]);
        Assert.Equal(SensitiveTelemetry.Redacted, tags["http.request.header.x-functions-key"]);
        Assert.Equal("VT-1001", tags["smp.serial"]);
        Assert.DoesNotContain(Signature, status, StringComparison.Ordinal);
    }

    [Fact]
    public void Section5_log_messages_templates_attributes_and_exceptions_lose_signature_key_and_password_values()
    {
        var exported = new List<(string? Message, object? Body, Dictionary<string, object?> Attributes, string? Exception)>();
        using (var loggerFactory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(otel =>
        {
            otel.IncludeFormattedMessage = true;
            otel.AddProcessor(new SensitiveLogAttributeRedactor());
            otel.AddProcessor(new Capture<LogRecord>(r => exported.Add((
                r.FormattedMessage, r.Body, (r.Attributes ?? []).ToDictionary(a => a.Key, a => a.Value), r.Exception?.ToString()))));
        })))
        {
            var logger = loggerFactory.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics");
            logger.LogInformation("Request starting {Method} {Path}{QueryString}", "GET", "/api/updates/1.96/password", "?serial=VT-1001&expires=1775232000&sig=" + Signature);
            logger.LogInformation("Called " + Link);
            logger.LogWarning(new InvalidOperationException("Could not read " + Link), "Staff call failed with x-functions-key: " + Key);
            logger.LogInformation("Body {Body}", "{\"releasedOn\":\"2026-03-16\",\"password\":\"Tube-Bend 1.96 / p\u00e4ss\"}");
        }

        Assert.Equal(4, exported.Count);
        Assert.Equal("Request starting GET /api/updates/1.96/password?serial=VT-1001&expires=1775232000&sig=[REDACTED]", exported[0].Message);
        Assert.Equal("?serial=VT-1001&expires=1775232000&sig=[REDACTED]", exported[0].Attributes["QueryString"]);
        Assert.Equal("Called https://smp.example.com/api/updates/1.96/password?serial=VT-1001&expires=1775232000&sig=[REDACTED]", exported[1].Message);
        Assert.Equal(exported[1].Message, exported[1].Body);
        Assert.Contains("InvalidOperationException", exported[2].Exception, StringComparison.Ordinal);
        Assert.Contains("expires=1775232000&sig=[REDACTED]", exported[2].Exception, StringComparison.Ordinal);
        Assert.Equal("Staff call failed with x-functions-key: [REDACTED]", exported[2].Body);
        Assert.Contains("\"password\":\"[REDACTED]\"", exported[3].Message, StringComparison.Ordinal);
        foreach (var record in exported)
        {
            var text = string.Join(" | ", [record.Message, record.Body, record.Exception, .. record.Attributes.Select(a => $"{a.Key}={a.Value}")]);
            Assert.DoesNotContain(Signature, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
            Assert.DoesNotContain("Tube-Bend", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Section5_absolute_urls_lose_a_key_or_signature_that_comes_first_in_their_query()
    {
        var tags = ExportSpan(activity =>
        {
            activity.SetTag("url.full", "https://smp.example.com/api/licenses/VT-1001?code=" + Key);
            activity.SetTag("http.url", "https://smp.example.com/api/updates/1.96/password?sig=" + Signature + "&serial=VT-1001&expires=1775232000");
            activity.SetTag("smp.next", "next=https%3A%2F%2Fsmp.example.com%2Fapi%2Fupdates%2F1.96%2Fpassword%3Fserial%3DVT-1001%26expires%3D1775232000%26sig%3D" + Signature);
            activity.SetTag("smp.html", "<a href=\"https://smp.example.com/p?serial=VT-1001\u0026expires=1775232000\u0026sig=" + Signature + "\">");
            activity.SetTag("smp.escaped", "https://smp.example.com/p?serial\u003dVT-1001\u0026sig\u003d" + Signature);
            activity.SetStatus(ActivityStatusCode.Error, "GET https://smp.example.com/api/licenses/VT-1001?code=" + Key + " failed");
        }, out var status);

        Assert.Equal("https://smp.example.com/api/licenses/VT-1001?code=[REDACTED]", tags["url.full"]);
        Assert.Equal("https://smp.example.com/api/updates/1.96/password?sig=[REDACTED]&serial=VT-1001&expires=1775232000", tags["http.url"]);
        Assert.Equal("next=https%3A%2F%2Fsmp.example.com%2Fapi%2Fupdates%2F1.96%2Fpassword%3Fserial%3DVT-1001%26expires%3D1775232000%26sig%3D[REDACTED]", tags["smp.next"]);
        Assert.Equal("<a href=\"https://smp.example.com/p?serial=VT-1001\u0026expires=1775232000\u0026sig=[REDACTED]\">", tags["smp.html"]);
        Assert.Equal("https://smp.example.com/p?serial\u003dVT-1001\u0026sig\u003d[REDACTED]", tags["smp.escaped"]);
        Assert.Equal("GET https://smp.example.com/api/licenses/VT-1001?code=[REDACTED] failed", status);
        foreach (var value in tags.Values.Append(status))
        {
            Assert.DoesNotContain(Signature, value?.ToString() ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain(Key, value?.ToString() ?? "", StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Section5_log_messages_lose_keys_and_signatures_in_absolute_urls_and_colon_forms()
    {
        var exported = new List<(string? Message, Dictionary<string, object?> Attributes)>();
        using (var loggerFactory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(otel =>
        {
            otel.IncludeFormattedMessage = true;
            otel.AddProcessor(new SensitiveLogAttributeRedactor());
            otel.AddProcessor(new Capture<LogRecord>(r => exported.Add((r.FormattedMessage, (r.Attributes ?? []).ToDictionary(a => a.Key, a => a.Value)))));
        })))
        {
            var logger = loggerFactory.CreateLogger("System.Net.Http.HttpClient");
            logger.LogInformation("GET https://smp.example.com/api/licenses/VT-1001?code=" + Key);
            logger.LogInformation("Sending {Url}", "https://smp.example.com/api/updates/1.96/password?sig=" + Signature + "&serial=VT-1001");
            logger.LogInformation("Link parts sig: " + Signature + ", code: " + Key);
            logger.LogInformation("Redirect {Location}", "/login?next=https%3A%2F%2Fsmp.example.com%2Fp%3Fserial%3DVT-1001%26sig%3D" + Signature + "%26expires%3D1775232000");
        }

        Assert.Equal(4, exported.Count);
        Assert.Equal("GET https://smp.example.com/api/licenses/VT-1001?code=[REDACTED]", exported[0].Message);
        Assert.Equal("Sending https://smp.example.com/api/updates/1.96/password?sig=[REDACTED]&serial=VT-1001", exported[1].Message);
        Assert.Equal("https://smp.example.com/api/updates/1.96/password?sig=[REDACTED]&serial=VT-1001", exported[1].Attributes["Url"]);
        Assert.Equal("Link parts sig: [REDACTED]", exported[2].Message); // a "name: value" runs to the end of its line
        Assert.Equal("/login?next=https%3A%2F%2Fsmp.example.com%2Fp%3Fserial%3DVT-1001%26sig%3D[REDACTED]%26expires%3D1775232000", exported[3].Attributes["Location"]);
        foreach (var record in exported)
        {
            var text = string.Join(" | ", [record.Message, .. record.Attributes.Select(a => $"{a.Key}={a.Value}")]);
            Assert.DoesNotContain(Signature, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// SPEC section 5: no part of a secret survives, whatever it holds. Outside a URL query a sensitively named value
    /// runs to whitespace (a quoted one to its closing quote, a header's to the end of its line); inside a query a
    /// separator ends it only when a <c>name=</c> parameter follows, at the same level of encoding.
    /// </summary>
    [Theory]
    // Plain text and headers: the tail after "&", ";" or "," is still the secret.
    [InlineData("password=ab&cd", "password=[REDACTED]")]
    [InlineData("sig=ab,cd", "sig=[REDACTED]")]
    [InlineData("login with password=ab;cd,ef failed", "login with password=[REDACTED] failed")]
    [InlineData(@"password=""a b"" then", @"password=""[REDACTED]"" then")]
    [InlineData("password='a b' then", "password='[REDACTED]' then")]
    [InlineData(@"password=""a b", @"password=""[REDACTED]")]
    [InlineData("Authorization: Bearer abc def", "Authorization: [REDACTED]")]
    [InlineData("Authorization: Bearer abc def\nAccept: text/html", "Authorization: [REDACTED]\nAccept: text/html")]
    [InlineData("authorization=Bearer abc&def next", "authorization=[REDACTED] next")]
    [InlineData("x-functions-key: ab cd", "x-functions-key: [REDACTED]")]
    [InlineData("password=ab%26cd", "password=[REDACTED]")]
    [InlineData(@"password=ab\u0026cd", "password=[REDACTED]")]
    [InlineData(@"sig\u003dab,cd then", @"sig\u003d[REDACTED] then")]
    // URL queries: serial and expires stay readable, "&" ends a value only before another parameter.
    [InlineData("?serial=VT-1&password=ab&cd&expires=17", "?serial=VT-1&password=[REDACTED]&expires=17")]
    [InlineData("https://x.example/p?sig=ab,cd;ef&serial=VT-1", "https://x.example/p?sig=[REDACTED]&serial=VT-1")]
    [InlineData("https://x.example/p?serial=VT-1&sig=ab%26cd&expires=17", "https://x.example/p?serial=VT-1&sig=[REDACTED]&expires=17")]
    [InlineData(@"?password=a""b&serial=VT-1", "?password=[REDACTED]&serial=VT-1")]
    [InlineData(@"<a href=""/p?serial=VT-1&password=a&b"" title=""x"">", @"<a href=""/p?serial=VT-1&password=[REDACTED]"" title=""x"">")]
    [InlineData(@"<a href=""/p?password=a&b"">", @"<a href=""/p?password=[REDACTED]"">")]
    [InlineData(@"?password=ab\u0026cd&serial=VT-1", "?password=[REDACTED]&serial=VT-1")]
    [InlineData("?token=ab%20cd%3Bef&serial=VT-1", "?token=[REDACTED]&serial=VT-1")]
    [InlineData("Cookie: a=b; session=xyz", "Cookie: [REDACTED]")]
    [InlineData("GET /p?code=ab&cd#top then", "GET /p?code=[REDACTED]#top then")]
    [InlineData(@"<a href=""https://x.example/p?serial=VT-1&sig=ab&cd"">", @"<a href=""https://x.example/p?serial=VT-1&sig=[REDACTED]"">")]
    [InlineData(@"?serial=VT-1\u0026sig=ab\u0026cd\u0026expires=17", @"?serial=VT-1\u0026sig=[REDACTED]\u0026expires=17")]
    [InlineData(@"?serial\u003dVT-1\u0026sig\u003dab\u0026cd\u0026expires\u003d17", @"?serial\u003dVT-1\u0026sig\u003d[REDACTED]\u0026expires\u003d17")]
    // Percent-encoded URLs inside a parameter: "%26" ends a value only before "name%3D"; a literal "&" before "name=".
    [InlineData("next=https%3A%2F%2Fx.example%2Fp%3Fserial%3DVT-1%26sig%3Dab%2526cd%26expires%3D17", "next=https%3A%2F%2Fx.example%2Fp%3Fserial%3DVT-1%26sig%3D[REDACTED]%26expires%3D17")]
    [InlineData("/login?next=%2Fp%3Fsig%3Dab%26cd&lang=en", "/login?next=%2Fp%3Fsig%3D[REDACTED]&lang=en")]
    // Percent-encoded names (ASP.NET decodes "%73ig" to "sig") and URLs encoded twice ("%253D" is an encoded "%3D").
    [InlineData("https://x.example/p?serial=VT-1&%73ig=ab,cd&expires=17", "https://x.example/p?serial=VT-1&%73ig=[REDACTED]&expires=17")]
    [InlineData("?%63%6F%64%65=ab&serial=VT-1", "?%63%6F%64%65=[REDACTED]&serial=VT-1")]
    [InlineData("?serial=VT-1&%70assword=ab", "?serial=VT-1&%70assword=[REDACTED]")]
    [InlineData("next=https%253A%252F%252Fx.example%252Fp%253Fserial%253DVT-1%2526sig%253Dab%252526cd%2526expires%253D17", "next=https%253A%252F%252Fx.example%252Fp%253Fserial%253DVT-1%2526sig%253D[REDACTED]%2526expires%253D17")]
    [InlineData("/login?next=%252Fp%253Fsig%253Dab&lang=en", "/login?next=%252Fp%253Fsig%253D[REDACTED]&lang=en")]
    [InlineData("https%253A%252F%252Fx.example%252Fp%253Fsig%253Dab", "https%253A%252F%252Fx.example%252Fp%253Fsig%253D[REDACTED]")]
    // JSON, and JSON escaped inside a JSON string.
    [InlineData(@"{""password"":""a \""b\"" c"",""serial"":""VT-1""}", @"{""password"":""[REDACTED]"",""serial"":""VT-1""}")]
    [InlineData(@"{""token"": 12345, ""serial"": ""VT-1""}", @"{""token"": [REDACTED], ""serial"": ""VT-1""}")]
    [InlineData(@"{""body"":""{\""password\"":\""a b\\\""c\"",\""serial\"":\""VT-1\""}""}", @"{""body"":""{\""password\"":\""[REDACTED]\"",\""serial\"":\""VT-1\""}""}")]
    [InlineData(@"{""msg"":""password=ab&cd"",""serial"":""VT-1""}", @"{""msg"":""password=[REDACTED]"",""serial"":""VT-1""}")]
    [InlineData(@"{""url"":""https://x.example/p?serial=VT-1\u0026sig=ab\u0026cd""}", @"{""url"":""https://x.example/p?serial=VT-1\u0026sig=[REDACTED]""}")]
    // Nothing secret: unchanged.
    [InlineData("?serial=VT-1&expires=17", "?serial=VT-1&expires=17")]
    [InlineData("https://x.example/p?serial=VT-1", "https://x.example/p?serial=VT-1")]
    public void Section5_no_tail_of_a_secret_survives_redaction(string input, string expected)
    {
        Assert.Equal(expected, SensitiveTelemetry.Scrub(input));
        Assert.Equal(expected, SensitiveTelemetry.Scrub(expected));
    }

    /// <summary>
    /// SPEC section 5: a JSON member named <c>sig</c> or <c>code</c> loses its value like the parameter of that name
    /// (every <c>code</c> value: a function key cannot be told from an error code by its shape alone), and so does a
    /// sensitive header written as a pair (<c>[x-functions-key, value]</c>, <c>name, value</c>) without ":" or "=".
    /// </summary>
    [Theory]
    [InlineData(@"{""serial"":""VT-1"",""sig"":""abcdEFGH.0123-_xyz""}", @"{""serial"":""VT-1"",""sig"":""[REDACTED]""}")]
    [InlineData(@"{""code"":""staffkeyvalue123""}", @"{""code"":""[REDACTED]""}")]
    [InlineData(@"{""code"": ""Fk7pQ2xZrT9wLm4vN8bC1dE6hJ3kS5yU0aGiOq=="", ""status"": 403}", @"{""code"": ""[REDACTED]"", ""status"": 403}")]
    [InlineData(@"{""error"":{""code"":""ResourceNotFound"",""message"":""gone""}}", @"{""error"":{""code"":""[REDACTED]"",""message"":""gone""}}")]
    [InlineData(@"{""body"":""{\""SIG\"":\""ab cd\"",\""serial\"":\""VT-1\""}""}", @"{""body"":""{\""SIG\"":\""[REDACTED]\"",\""serial\"":\""VT-1\""}""}")]
    [InlineData("[x-functions-key, Fk7pQ2xZrT9wLm4vN8bC1dE6hJ3kS5yU0aGiOq==]", "[x-functions-key, [REDACTED]]")]
    [InlineData("Headers [Accept, text/html] [X-Functions-Key, ab cd] sent", "Headers [Accept, text/html] [X-Functions-Key, [REDACTED]] sent")]
    [InlineData("[Authorization, Bearer abc def]", "[Authorization, [REDACTED]]")]
    [InlineData("(Cookie, a=b; session=xyz)", "(Cookie, [REDACTED])")]
    [InlineData("x-ms-client-principal, eyJhdXRoX3R5cCI6ImFhZCJ9\nAccept, text/html", "x-ms-client-principal, [REDACTED]\nAccept, text/html")]
    [InlineData("x-functions-key, ab cd", "x-functions-key, [REDACTED]")]
    [InlineData(@"[[""x-functions-key"",""ab cd""],[""Accept"",""text/html""]]", @"[[""x-functions-key"",""[REDACTED]""],[""Accept"",""text/html""]]")]
    [InlineData("x-ms-client-principal: eyJhdXRoX3R5cCI6ImFhZCJ9", "x-ms-client-principal: [REDACTED]")]
    // Readable: other pairs, and words that are not a header pair.
    [InlineData("[Accept, text/html]", "[Accept, text/html]")]
    [InlineData("Cookie, a=b; session=xyz", "Cookie, [REDACTED]")]
    [InlineData("Set a cookie, then retry", "Set a cookie, then retry")]
    [InlineData("Missing authorization, expected a key", "Missing authorization, expected a key")]
    [InlineData(@"{""kind"":""sig"",""serial"":""VT-1""}", @"{""kind"":""sig"",""serial"":""VT-1""}")]
    public void Section5_json_sig_and_code_members_and_sensitive_header_pairs_lose_their_values(string input, string expected)
    {
        Assert.Equal(expected, SensitiveTelemetry.Scrub(input));
        Assert.Equal(expected, SensitiveTelemetry.Scrub(expected));
    }

    [Fact]
    public void Section5_span_events_such_as_recorded_exceptions_lose_signature_and_key_values()
    {
        var sourceName = $"Smp.Tests.{Guid.NewGuid():N}";
        var exported = new List<List<(string Name, Dictionary<string, object?> Tags)>>();
        using var source = new ActivitySource(sourceName);
        using (Sdk.CreateTracerProviderBuilder()
            .AddSource(sourceName)
            .AddProcessor(new SensitiveTagRedactor())
            .AddProcessor(new Capture<Activity>(a => exported.Add([.. a.Events.Select(e => (e.Name, e.Tags.ToDictionary(t => t.Key, t => t.Value)))])))
            .Build())
        {
            using var activity = source.StartActivity("ReminderScan");
            Assert.NotNull(activity);
            try
            {
                throw new InvalidOperationException("Could not deliver " + Link);
            }
            catch (InvalidOperationException thrown)
            {
                activity.AddException(thrown);
            }

            activity.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection
            {
                ["smp.url"] = "/api/licenses/VT-1001?code=" + Key,
                ["smp.password"] = "hunter2",
                ["smp.serial"] = "VT-1001",
            }));
        }

        var events = Assert.Single(exported);
        Assert.Equal(["exception", "retry"], events.Select(e => e.Name));
        var exception = events[0].Tags;
        Assert.Equal(typeof(InvalidOperationException).FullName, exception["exception.type"]);
        Assert.Equal("Could not deliver https://smp.example.com/api/updates/1.96/password?serial=VT-1001&expires=1775232000&sig=[REDACTED]", exception["exception.message"]);
        Assert.Contains("sig=[REDACTED]", (string)exception["exception.stacktrace"]!, StringComparison.Ordinal);
        Assert.Contains(nameof(Section5_span_events_such_as_recorded_exceptions_lose_signature_and_key_values), (string)exception["exception.stacktrace"]!, StringComparison.Ordinal);
        var retry = events[1].Tags;
        Assert.Equal("/api/licenses/VT-1001?code=[REDACTED]", retry["smp.url"]);
        Assert.Equal(SensitiveTelemetry.Redacted, retry["smp.password"]);
        Assert.Equal("VT-1001", retry["smp.serial"]);
    }

    private static Dictionary<string, object?> ExportSpan(Action<Activity> tag, out string? status)
    {
        var sourceName = $"Smp.Tests.{Guid.NewGuid():N}";
        var exported = new List<(Dictionary<string, object?> Tags, string? Status)>();
        using var source = new ActivitySource(sourceName);
        using (Sdk.CreateTracerProviderBuilder()
            .AddSource(sourceName)
            .AddProcessor(new SensitiveTagRedactor())
            .AddProcessor(new Capture<Activity>(a => exported.Add((a.TagObjects.ToDictionary(t => t.Key, t => t.Value), a.StatusDescription))))
            .Build())
        {
            using var activity = source.StartActivity("GET");
            Assert.NotNull(activity);
            tag(activity);
        }

        var (tags, description) = Assert.Single(exported);
        status = description;
        return tags;
    }
}

/// <summary>Hands each finished span or log record to a callback (which must copy what it keeps: records are reused).</summary>
internal sealed class Capture<T>(Action<T> onEnd) : BaseProcessor<T>
    where T : class
{
    public override void OnEnd(T data) => onEnd(data);
}
