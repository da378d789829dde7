using Microsoft.Extensions.Configuration;

namespace Smp.Azure.Mail;

/// <summary>
/// Where ACS Email is and how to authenticate, bound from the <c>Smp:Email</c> section. Set exactly
/// one of <see cref="Endpoint"/> (Microsoft Entra token: the managed identity in Azure, the developer's
/// login locally) or <see cref="ConnectionString"/> (access key, HMAC-SHA256).
/// </summary>
public sealed class AcsEmailOptions
{
    /// <summary><c>Smp:Email:AcsEndpoint</c>, for example <c>https://my-acs.europe.communication.azure.com</c>.</summary>
    [ConfigurationKeyName("AcsEndpoint")]
    public string? Endpoint { get; set; }

    /// <summary><c>Smp:Email:AcsConnectionString</c>: <c>endpoint=https://...;accesskey=&lt;base64&gt;</c>. Never printed.</summary>
    [ConfigurationKeyName("AcsConnectionString")]
    public string? ConnectionString { get; set; }

    /// <summary>
    /// <c>Smp:Email:ClientId</c>: the client id of a user-assigned managed identity to use with
    /// <see cref="Endpoint"/>; when empty, <c>DefaultAzureCredential</c> decides (it honours <c>AZURE_CLIENT_ID</c>).
    /// </summary>
    public string? ClientId { get; set; }

    public override string ToString() =>
        $"AcsEmailOptions {{ Endpoint = {Endpoint}, ConnectionString = {(string.IsNullOrEmpty(ConnectionString) ? "(not set)" : "(set, not shown)")}, ClientId = {ClientId} }}";
}

/// <summary>The two parts of an ACS connection string, checked. Errors name the setting, never its value.</summary>
internal sealed class AcsConnectionString
{
    private AcsConnectionString(Uri endpoint, AcsHmacSigner signer)
    {
        Endpoint = endpoint;
        Signer = signer;
    }

    public Uri Endpoint { get; }

    public AcsHmacSigner Signer { get; }

    public static AcsConnectionString Parse(string connectionString, string settingName)
    {
        string? endpoint = null;
        string? accessKey = null;
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Invalid(settingName, "every part is name=value");
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (name.Equals("endpoint", StringComparison.OrdinalIgnoreCase))
            {
                endpoint = value;
            }
            else if (name.Equals("accesskey", StringComparison.OrdinalIgnoreCase))
            {
                accessKey = value;
            }
        }

        if (string.IsNullOrEmpty(endpoint))
        {
            throw Invalid(settingName, "it has no 'endpoint' part");
        }

        if (string.IsNullOrEmpty(accessKey))
        {
            throw Invalid(settingName, "it has no 'accesskey' part");
        }

        var uri = AcsEndpoint.Parse(endpoint, settingName);
        AcsHmacSigner signer;
        try
        {
            signer = AcsHmacSigner.FromBase64Key(accessKey);
        }
        catch (FormatException)
        {
            throw Invalid(settingName, "its 'accesskey' is not base64");
        }

        return new AcsConnectionString(uri, signer);
    }

    public override string ToString() => $"endpoint={Endpoint};accesskey=(not shown)";

    private static InvalidOperationException Invalid(string settingName, string reason) =>
        new($"Setting '{settingName}' is not a valid ACS connection string (endpoint=https://...;accesskey=...): {reason}.");
}

internal static class AcsEndpoint
{
    /// <summary>An ACS resource endpoint: an absolute HTTPS URI without path, query or user info.</summary>
    public static Uri Parse(string value, string settingName)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme != Uri.UriSchemeHttps
            || uri.AbsolutePath != "/"
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0
            || uri.UserInfo.Length > 0)
        {
            throw new InvalidOperationException(
                $"Setting '{settingName}' must hold the ACS resource endpoint as an https URI without a path, like https://my-acs.communication.azure.com.");
        }

        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }
}
