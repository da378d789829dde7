namespace Smp.Core.Links;

/// <summary>
/// Settings of customer links: <c>Smp:PublicBaseUrl</c>, the absolute http(s) address customers reach
/// the API at (without <c>/api</c>), and <c>Smp:LinkValidityDays</c>, how many days a link stays valid.
/// </summary>
public sealed record LinkOptions
{
    public const int DefaultValidityDays = 14;
    public const int MaxValidityDays = 365;

    public LinkOptions(Uri publicBaseUrl, int validityDays = DefaultValidityDays)
    {
        ArgumentNullException.ThrowIfNull(publicBaseUrl);
        if (!publicBaseUrl.IsAbsoluteUri || (publicBaseUrl.Scheme != Uri.UriSchemeHttps && publicBaseUrl.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(publicBaseUrl.Query) || !string.IsNullOrEmpty(publicBaseUrl.Fragment))
        {
            throw new ArgumentException("Smp:PublicBaseUrl must be an absolute http or https address without query or fragment.", nameof(publicBaseUrl));
        }

        if (validityDays is < 1 or > MaxValidityDays)
        {
            throw new ArgumentOutOfRangeException(nameof(validityDays), validityDays, $"Smp:LinkValidityDays must be a whole number of days from 1 to {MaxValidityDays}.");
        }

        PublicBaseUrl = publicBaseUrl;
        ValidityDays = validityDays;
    }

    public Uri PublicBaseUrl { get; }

    public int ValidityDays { get; }
}
