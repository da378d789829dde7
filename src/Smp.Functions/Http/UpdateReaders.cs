using System.Text.Json;
using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Functions.Http;

/// <summary>A validated <c>PUT /api/updates/{version}</c> body.</summary>
public sealed record PublishUpdateRequest(LocalDate ReleasedOn, string? Password);

/// <summary>A validated <c>POST /api/password-requests</c> body.</summary>
public sealed record PasswordLinkRequest(Serial Serial, UpdateVersion Version);

/// <summary>Reads the update routes' route values, query fields and bodies, recording every bad field (never its value).</summary>
public static class UpdateReaders
{
    public static UpdateVersion? Version(string? raw, ValidationErrors errors, string field = "version")
    {
        if (UpdateVersion.TryParse(raw, out var version))
        {
            return version;
        }

        errors.Add(field, raw is null ? "The field is required." : $"A version is 1-{UpdateVersion.MaxLength} characters of 0-9, A-Z, a-z and '.'.");
        return null;
    }

    public static PublishUpdateRequest? Publish(JsonDocument body, ValidationErrors errors)
    {
        var fields = new JsonFields(body.RootElement, errors);
        var releasedOn = fields.Date("releasedOn", required: true);

        string? password = null;
        if (fields.Get("password", required: false, JsonValueKind.String, "a string") is { } given)
        {
            // Read as given, never trimmed: a secret is stored exactly or refused, and the message never quotes it.
            password = given.GetString();
            if (UpdatePassword.Problem(password) is { } problem)
            {
                fields.Error("password", problem);
                password = null;
            }
        }

        fields.RefuseUnknown();
        return errors.Any ? null : new PublishUpdateRequest(releasedOn!.Value, password);
    }

    public static PasswordLinkRequest? PasswordRequest(JsonDocument body, ValidationErrors errors)
    {
        var fields = new JsonFields(body.RootElement, errors);
        var serial = fields.Get("serial", required: true, JsonValueKind.String, "a string") is { } s ? RequestReaders.Serial(s.GetString(), errors) : null;
        var version = fields.Get("version", required: true, JsonValueKind.String, "a string") is { } v ? Version(v.GetString(), errors) : null;
        fields.RefuseUnknown();
        return errors.Any ? null : new PasswordLinkRequest(serial!.Value, version!.Value);
    }

    /// <summary>A query field that must be present exactly once and not empty; null, with the error recorded, otherwise.</summary>
    public static string? SingleQueryValue(Microsoft.AspNetCore.Http.HttpRequest request, string name, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = request.Query[name];
        if (values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            errors.Add(name, "The field is required.");
            return null;
        }

        if (values.Count > 1)
        {
            errors.Add(name, "Give the field once.");
            return null;
        }

        return values[0];
    }
}
