using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Smp.Azure.Mail;
using Smp.Core.Mail;

namespace Smp.Azure.Tests.Mail;

/// <summary>The access key appears in no exception, log line (at any level, HTTP client logs included) or ToString.</summary>
public sealed class AcsSecretLeakTests
{
    private readonly byte[] key = RandomNumberGenerator.GetBytes(32);

    private string Base64Key => Convert.ToBase64String(key);

    [Fact]
    public async Task Sending_through_every_outcome_logs_nothing_of_the_key()
    {
        await using var server = await FakeAcsServer.StartAsync(new FakeAcsAuth.AccessKey(key));
        var connectionString = TestMail.AccessKeyConnectionString(server, key);
        await using var services = TestMail.AcsServices(server, TestMail.Configuration(
            ("Smp:Email:Transport", "Acs"),
            ("Smp:Email:AcsConnectionString", connectionString)));
        var transport = services.GetRequiredService<IMailTransport>();
        var texts = new List<string>();

        ScriptedResponse?[] outcomes =
        [
            null,
            ScriptedResponse.Throttled("5"),
            ScriptedResponse.Error(500, "InternalServerError", "Boom."),
            ScriptedResponse.Error(400, "BadRequest", "Bad."),
            ScriptedResponse.Error(401, "Denied", "Denied."),
        ];
        foreach (var outcome in outcomes)
        {
            server.Script = _ => outcome;
            var mail = TestMail.Create();
            texts.Add((await transport.SendAsync(mail, CancellationToken.None)).ToString());
            texts.Add((await transport.GetStatusAsync(mail.Id, CancellationToken.None)).ToString());
        }

        await server.DisposeAsync();
        texts.Add((await transport.SendAsync(TestMail.Create(), CancellationToken.None)).ToString());

        var logs = services.GetFakeLogCollector().GetSnapshot();
        Assert.Contains(logs, r => r.Category?.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal) == true);
        texts.AddRange(logs.Select(Describe));
        AssertNoSecret(texts, connectionString);
    }

    [Theory]
    [InlineData("endpoint=https://acs.example.com/;accesskey={0}!")]
    [InlineData("endpoint=http://acs.example.com/;accesskey={0}")]
    [InlineData("endpoint=https://acs.example.com/path;accesskey={0}")]
    [InlineData("accesskey={0}")]
    [InlineData("endpoint=https://acs.example.com/;key={0}")]
    [InlineData("{0}")]
    public void A_bad_connection_string_is_refused_naming_the_setting_and_not_the_key(string format)
    {
        var connectionString = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, Base64Key);
        var services = new ServiceCollection();

        var error = Assert.Throws<InvalidOperationException>(() => services.AddSmpMailTransport(TestMail.Configuration(
            ("Smp:Email:Transport", "Acs"),
            ("Smp:Email:AcsConnectionString", connectionString))));

        Assert.Contains("Smp:Email:AcsConnectionString", error.Message, StringComparison.Ordinal);
        AssertNoSecret([error.ToString()], connectionString);
    }

    [Fact]
    public void Options_and_signer_print_without_the_key()
    {
        var connectionString = $"endpoint=https://acs.example.com/;accesskey={Base64Key}";
        var options = new AcsEmailOptions { ConnectionString = connectionString };

        AssertNoSecret(
            [options.ToString(), AcsHmacSigner.FromBase64Key(Base64Key).ToString(), AcsConnectionString.Parse(connectionString, "setting").ToString()],
            connectionString);
    }

    private static string Describe(FakeLogRecord record) =>
        string.Join(
            " | ",
            new[] { record.Message, record.Exception?.ToString() }
                .Concat(record.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])
                .Concat(record.Scopes.Select(s => s?.ToString())));

    private void AssertNoSecret(IEnumerable<string> texts, string connectionString)
    {
        var forms = new[] { Base64Key, Convert.ToHexString(key), Convert.ToHexString(key).ToLowerInvariant(), connectionString };
        foreach (var text in texts)
        {
            foreach (var form in forms)
            {
                Assert.DoesNotContain(form, text, StringComparison.Ordinal);
            }
        }
    }
}
