using Smp.Core.Plans;

namespace Smp.Core.Mail;

/// <summary>Unsigned customer links that only lead to a request form (requests answer by mail to registered contacts).</summary>
public static class CustomerLinks
{
    /// <summary>The page where a customer asks for a renewal quotation for a license, or for all its customer's licenses.</summary>
    public static Uri QuoteRequestPage(Uri publicBaseUrl, Serial serial, bool allOfCustomer)
    {
        ArgumentNullException.ThrowIfNull(publicBaseUrl);
        var scope = allOfCustomer ? "&scope=customer" : string.Empty;
        return new Uri(publicBaseUrl, $"api/quote-requests?serial={Uri.EscapeDataString(serial.Value)}{scope}");
    }

    /// <summary>The page where a customer asks for the plan term of a license to be mailed to its contacts.</summary>
    public static Uri TermRequestPage(Uri publicBaseUrl, Serial serial)
    {
        ArgumentNullException.ThrowIfNull(publicBaseUrl);
        return new Uri(publicBaseUrl, $"api/term-requests?serial={Uri.EscapeDataString(serial.Value)}");
    }
}
