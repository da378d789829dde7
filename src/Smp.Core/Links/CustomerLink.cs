using NodaTime;
using NodaTime.Text;

namespace Smp.Core.Links;

/// <summary>
/// A signed customer link. The URL is a bearer credential for one update password: it goes into the
/// customer's mail and nowhere else, and <see cref="ToString"/> leaves its signature out.
/// </summary>
public sealed record CustomerLink(Uri Url, Instant ExpiresAt)
{
    public override string ToString()
    {
        var text = Url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return $"CustomerLink {{ Url = {text}?[signed query redacted], ExpiresAt = {InstantPattern.ExtendedIso.Format(ExpiresAt)} }}";
    }
}
