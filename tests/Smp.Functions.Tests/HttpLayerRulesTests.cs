using Smp.Functions.Http;
using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>
/// One way for each thing in the HTTP layer: one HTML encoder, one content negotiation, the customer headers set in one
/// place (a worker middleware), triggers that neither build headers nor negotiate on their own, and one request
/// prologue (<c>HttpCall</c>) that every trigger starts with.
/// </summary>
public sealed class HttpLayerRulesTests
{
    private static readonly string FunctionsSource = Path.Combine(RepositoryRoot.Path, "src", "Smp.Functions");

    [Fact]
    public void Spec5_customer_pages_encode_markup_with_the_password_pages_encoder_and_keep_letters_as_themselves()
    {
        const string Text = "Größe <b> & \"quoted\" 'single' päss";

        var page = CustomerPages.Page(200, Text, [Text]).Content!;

        Assert.Contains("<title>Größe &lt;b&gt; &amp; &quot;quoted&quot; &#39;single&#39; päss</title>", page, StringComparison.Ordinal);
        Assert.Contains("<p>Größe &lt;b&gt; &amp; &quot;quoted&quot; &#39;single&#39; päss</p>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void The_http_layer_has_one_html_encoder_and_one_negotiation()
    {
        foreach (var file in Sources(FunctionsSource))
        {
            var text = File.ReadAllText(file);
            foreach (var banned in new[] { "WebUtility.HtmlEncode", "HtmlEncoder", "WantsJson", "MediaTypeHeaderValue" })
            {
                if (banned == "MediaTypeHeaderValue" && Path.GetFileName(file) == "ContentNegotiation.cs")
                {
                    continue;
                }

                Assert.False(text.Contains(banned, StringComparison.Ordinal), $"{Relative(file)} uses {banned}: the HTTP layer has one HTML encoder (CustomerPages.Html) and one negotiation (ContentNegotiation).");
            }
        }
    }

    [Fact]
    public void No_trigger_builds_its_own_headers_or_reads_the_accept_header()
    {
        foreach (var file in Sources(Path.Combine(FunctionsSource, "Functions")))
        {
            var text = File.ReadAllText(file);
            foreach (var banned in new[] { "SecureHeaders", "CustomerResponses.Secure", ".Headers", "Accept\"", "Headers.Accept" })
            {
                Assert.False(text.Contains(banned, StringComparison.Ordinal), $"{Relative(file)} uses {banned}: the customer headers are set by CustomerHeadersMiddleware and negotiation is ContentNegotiation's.");
            }
        }
    }

    [Fact]
    public void The_customer_headers_are_written_in_one_place()
    {
        var writers = Sources(FunctionsSource)
            .Where(f => File.ReadAllText(f).Contains("StrictTransportSecurity =", StringComparison.Ordinal) || File.ReadAllText(f).Contains("SecureHeaders(", StringComparison.Ordinal))
            .Select(Relative)
            .ToList();

        Assert.Equal([Path.Combine("Hosting", "CustomerHeadersMiddleware.cs")], writers);
    }

    [Fact]
    public void Every_http_trigger_starts_with_the_one_request_prologue()
    {
        foreach (var file in Sources(Path.Combine(FunctionsSource, "Functions")))
        {
            var text = File.ReadAllText(file);
            var triggers = System.Text.RegularExpressions.Regex.Count(text, @"\[HttpTrigger\(");
            Assert.Equal(triggers, System.Text.RegularExpressions.Regex.Count(text, @"HttpCall\.Of\("));
            foreach (var banned in new[] { "new ValidationErrors()", "RequestAudit.", "JsonBody.", "Problems.Validation(" })
            {
                Assert.False(text.Contains(banned, StringComparison.Ordinal), $"{Relative(file)} uses {banned}: a trigger reads its request through HttpCall.");
            }
        }
    }

    private static IEnumerable<string> Sources(string folder) =>
        Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static string Relative(string file) => Path.GetRelativePath(FunctionsSource, file);
}
