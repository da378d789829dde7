using System.Globalization;
using Smp.Core.Mail;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Outbox;

public static class TestMails
{
    private static readonly EmailAddress From = EmailAddress.Parse("smp@vendor.example.com");

    /// <summary>A mail whose id is a readable GUID built from <paramref name="number"/> (…-000000000007 for 7).</summary>
    public static OutgoingMail Numbered(int number) =>
        new(
            string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{number:D12}"),
            From,
            [EmailAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"customer{number}@example.org"))],
            null,
            string.Create(CultureInfo.InvariantCulture, $"Message {number}"),
            "text",
            "<p>html</p>");
}
