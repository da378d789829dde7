using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Smp.Core.Digest;
using Smp.Core.Licenses;
using Smp.Core.Mail.Templates;
using Smp.TestSupport;
using static Smp.Functions.Tests.Console.ConsoleTestKit;

namespace Smp.Functions.Tests.Console;

/// <summary>SPEC section 11: the console's renewals page shows the weekly digest's lists.</summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ConsoleRenewalsDigestTests : IDisposable
{
    private readonly ApiHarness _api;
    private readonly ConsoleApp _console;

    public ConsoleRenewalsDigestTests(AzuriteFixture azurite)
    {
        _api = App(azurite.ConnectionString);
        _console = new ConsoleApp(_api);
    }

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Section11_the_renewals_page_shows_the_digests_lists_grouped_by_customer_with_license_links_and_dates_written_out()
    {
        // Expires 2026-05-01: in the next 90 days. The other lapsed in the last 30 days.
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody())).Status);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(_api, ActivationApiTests.ActivationBody(serial: "VT-2002", customerId: "C-43", sentAt: "2026-01-20T10:00:00-07:00"))).Status);
        var expiring = await MailTestKit.StoredAsync(_api, "VT-1001");
        var lapsed = await MailTestKit.StoredAsync(_api, "VT-2002");

        var page = await _console.SendAsync("GET", "/console/renewals", headers: As(ReaderPrincipal));

        Assert.Equal(200, page.Status);
        var digest = Digest().Match(page.Body);
        Assert.True(digest.Success, "The renewals page shows no digest.");
        var expiringList = List().Match(digest.Value, digest.Value.IndexOf("<h3 id=\"digest-expiring\"", StringComparison.Ordinal)).Value;
        var lapsedList = List().Match(digest.Value, digest.Value.IndexOf("<h3 id=\"digest-lapsed\"", StringComparison.Ordinal)).Value;
        var quotesList = List().Match(digest.Value, digest.Value.IndexOf("<h3 id=\"digest-quotes\"", StringComparison.Ordinal)).Value;

        Assert.Contains("<h4><a href=\"/console/customers/C-42\">Acme Tube Works</a> (customer id C-42)</h4>", expiringList, StringComparison.Ordinal);
        Assert.Contains($"<li><a href=\"/console/licenses/VT-1001\">VT-1001</a>, VTube-LASER, expires on {MailDates.Format(expiring.ExpiresOn)}. No reminder sent. No quote requested.</li>", expiringList, StringComparison.Ordinal);
        Assert.Equal("1 May 2026", MailDates.Format(expiring.ExpiresOn));
        Assert.DoesNotContain("VT-2002", expiringList, StringComparison.Ordinal);
        Assert.Contains("<h4><a href=\"/console/customers/C-43\">Acme Tube Works</a> (customer id C-43)</h4>", lapsedList, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/console/licenses/VT-2002\">VT-2002</a>, VTube-LASER, lapsed on {MailDates.Format(lapsed.ExpiresOn)}.", lapsedList, StringComparison.Ordinal);
        Assert.Contains("<p>None.</p>", quotesList, StringComparison.Ordinal);
        Assert.Contains("<p id=\"digest-failed-mail\">No mail failed.</p>", digest.Value, StringComparison.Ordinal);

        // The same lists as the digest's own use case computes for today.
        var computed = await _api.Services.GetRequiredService<RenewalsDigestService>().ComputeAsync(new NodaTime.LocalDate(2026, 3, 20), CancellationToken.None);
        Assert.Equal(["VT-1001"], computed.Expiring.SelectMany(c => c.Licenses).Select(l => l.Serial.Value));
        Assert.Equal(["VT-2002"], computed.Lapsed.SelectMany(c => c.Licenses).Select(l => l.Serial.Value));
        Assert.Empty(computed.Quotes);
    }

    [GeneratedRegex("<section id=\"digest\".*?</section>", RegexOptions.Singleline)]
    private static partial Regex Digest();

    /// <summary>One list: from its heading to the next list's heading or the failed mail.</summary>
    [GeneratedRegex("<h3 id=\"digest-[a-z]+\">.*?(?=<h3)", RegexOptions.Singleline)]
    private static partial Regex List();
}
