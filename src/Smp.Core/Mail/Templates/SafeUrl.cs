namespace Smp.Core.Mail.Templates;

/// <summary>
/// The only way a URL gets into a mail. Customers click these links, so anything but an absolute
/// https URL (http only for a loopback host, for local runs) is refused instead of being written.
/// </summary>
internal static class SafeUrl
{
    public const int MaxLength = 2048;

    /// <summary>The URL's escaped absolute form, ready to be attribute-encoded into an <c>href</c>.</summary>
    /// <exception cref="ArgumentException">The URL is missing, relative, not https, or carries credentials.</exception>
    public static string Validate(Uri? url, string paramName)
    {
        if (url is null)
        {
            throw new ArgumentNullException(paramName, "A mail link is required.");
        }

        if (!url.IsAbsoluteUri)
        {
            throw new ArgumentException("A mail link must be an absolute URL.", paramName);
        }

        var https = string.Equals(url.Scheme, Uri.UriSchemeHttps, StringComparison.Ordinal);
        var localHttp = string.Equals(url.Scheme, Uri.UriSchemeHttp, StringComparison.Ordinal) && url.IsLoopback;
        if (!https && !localHttp)
        {
            throw new ArgumentException("A mail link must use https (http only for localhost).", paramName);
        }

        if (url.Host.Length == 0)
        {
            throw new ArgumentException("A mail link must name a host.", paramName);
        }

        if (url.UserInfo.Length > 0)
        {
            throw new ArgumentException("A mail link must not carry a user name or password.", paramName);
        }

        var absolute = url.AbsoluteUri;
        if (absolute.Length > MaxLength)
        {
            throw new ArgumentException($"A mail link is at most {MaxLength} characters.", paramName);
        }

        // AbsoluteUri escapes these already; refusing them here keeps that a checked fact, not an assumption.
        // (An apostrophe is a legal URL character; the href is double-quoted and encoded, so it stays inside.)
        foreach (var c in absolute)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || c is '"' or '<' or '>' or '\\' or '`')
            {
                throw new ArgumentException("A mail link contains a character that is not allowed.", paramName);
            }
        }

        return absolute;
    }
}
