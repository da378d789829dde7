using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Smp.Core.Plans;

namespace Smp.Functions.Staff;

/// <summary>The app roles of SPEC section 7, each including the ones below it.</summary>
public static class StaffRoles
{
    public const string Reader = "Smp.Reader";
    public const string Staff = "Smp.Staff";
    public const string Admin = "Smp.Admin";

    /// <summary>Every role, lowest first: a person holding one holds every role before it.</summary>
    public static readonly IReadOnlyList<string> Ordered = [Reader, Staff, Admin];

    /// <summary>Whether a person granted <paramref name="granted"/> may act as <paramref name="needed"/>.</summary>
    public static bool Covers(IEnumerable<string> granted, string needed)
    {
        var neededRank = Rank(needed);
        return neededRank >= 0 && granted.Any(g => Rank(g) >= neededRank);
    }

    private static int Rank(string role)
    {
        for (var i = 0; i < Ordered.Count; i++)
        {
            if (string.Equals(Ordered[i], role, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// A signed-in person: the sign-in name shown and recorded as actor, the directory object id, their roles, and the
/// sign-in session when the platform names one (Entra ID's <c>sid</c> claim; form tokens are bound to it).
/// </summary>
public sealed record StaffPerson(string Name, string Id, IReadOnlyList<string> Roles, string? Session = null)
{
    public bool Has(string role) => StaffRoles.Covers(Roles, role);

    /// <summary>The audit identity of a change this person makes (R15).</summary>
    public CommandContext Audit(string correlationId) => new(Name, correlationId, Id);
}

/// <summary>What the console does with a request for a role: let it through, ask for sign-in (401), or refuse (403).</summary>
public enum StaffAccess
{
    Allowed,
    SignInNeeded,
    Forbidden,
}

/// <summary>
/// Reads App Service authentication's <c>X-MS-CLIENT-PRINCIPAL</c> (SPEC section 7): base64 of
/// <c>{auth_typ, name_typ, role_typ, claims:[{typ, val}]}</c>. Anything malformed, or without a name or an object id,
/// is nobody.
/// </summary>
public static class ClientPrincipal
{
    public const string Header = "X-MS-CLIENT-PRINCIPAL";
    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>Entra ID's sign-in session id, the same for every token of one sign-in.</summary>
    public const string SessionClaim = "sid";
    private const int MaxHeaderLength = 16 * 1024;

    public static StaffPerson? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > MaxHeaderLength)
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(header.Trim());
        }
        catch (FormatException)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("claims", out var claimsElement) || claimsElement.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var nameType = Text(root, "name_typ");
            var roleType = Text(root, "role_typ") ?? "roles";
            var claims = new List<(string Type, string Value)>();
            foreach (var claim in claimsElement.EnumerateArray())
            {
                if (claim.ValueKind == JsonValueKind.Object && Text(claim, "typ") is { } type && Text(claim, "val") is { } value)
                {
                    claims.Add((type, value));
                }
            }

            string? First(string? type) => type is null ? null : claims.FirstOrDefault(c => string.Equals(c.Type, type, StringComparison.Ordinal) && c.Value.Trim().Length > 0).Value;

            var name = First(nameType) ?? First("preferred_username") ?? First("email")
                ?? First("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress");
            var id = First(ObjectIdClaim) ?? First("oid");
            if (name is null || id is null)
            {
                return null;
            }

            var roles = claims.Where(c => string.Equals(c.Type, roleType, StringComparison.Ordinal)).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToArray();
            return new StaffPerson(name.Trim(), id.Trim(), roles, First(SessionClaim)?.Trim());
        }
        catch (JsonException)
        {
            return null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The header value App Service would send for a person (tests and local tools).</summary>
    public static string Encode(string name, string objectId, params string[] roles)
    {
        var claims = new List<object>
        {
            new { typ = "name", val = name },
            new { typ = ObjectIdClaim, val = objectId },
        };
        claims.AddRange(roles.Select(r => new { typ = "roles", val = r }));
        var json = JsonSerializer.Serialize(new { auth_typ = "aad", name_typ = "name", role_typ = "roles", claims });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>The <c>Smp:Staff</c> settings.</summary>
public sealed class StaffOptions
{
    public const string Section = "Smp:Staff";

    /// <summary><c>Smp:Staff:DevelopmentUser</c>: local runs only; signs every console request in as this address with every role.</summary>
    public string? DevelopmentUser { get; set; }
}

/// <summary>Start-up refusal of a development user outside Development (SPEC section 7).</summary>
public sealed class StaffOptionsValidator(IConfiguration configuration) : IValidateOptions<StaffOptions>
{
    public const string EnvironmentSetting = "AZURE_FUNCTIONS_ENVIRONMENT";

    public ValidateOptionsResult Validate(string? name, StaffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.DevelopmentUser))
        {
            return ValidateOptionsResult.Success;
        }

        if (!string.Equals(configuration[EnvironmentSetting], "Development", StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail(
                $"Setting 'Smp:Staff:DevelopmentUser' is allowed only when '{EnvironmentSetting}' is 'Development' (found '{configuration[EnvironmentSetting]}'); remove it.");
        }

        return EmailAddress.TryParse(options.DevelopmentUser, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Setting 'Smp:Staff:DevelopmentUser' must be an email address.");
    }
}

/// <summary>
/// Who is signed in (SPEC section 7): the development user when set (validated to local runs), else the platform's
/// <c>X-MS-CLIENT-PRINCIPAL</c> when <c>WEBSITE_AUTH_ENABLED</c> is <c>True</c> (any case), else nobody: without the
/// platform's authentication in front, the header is the caller's own and is ignored.
/// </summary>
public sealed class StaffIdentity(IOptions<StaffOptions> options, IConfiguration configuration)
{
    public const string AuthEnabledSetting = "WEBSITE_AUTH_ENABLED";

    /// <summary>The development user's object id stands for the address, so events show who it was.</summary>
    public const string DevelopmentIdPrefix = "development:";

    public StaffPerson? Who(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options.Value.DevelopmentUser is { Length: > 0 } developer)
        {
            return new StaffPerson(developer, DevelopmentIdPrefix + developer, StaffRoles.Ordered);
        }

        return string.Equals(configuration[AuthEnabledSetting], "True", StringComparison.OrdinalIgnoreCase)
            ? ClientPrincipal.Parse(request.Headers[ClientPrincipal.Header].ToString())
            : null;
    }

    public static StaffAccess Decide(StaffPerson? person, string role) =>
        person is null ? StaffAccess.SignInNeeded : person.Has(role) ? StaffAccess.Allowed : StaffAccess.Forbidden;
}
