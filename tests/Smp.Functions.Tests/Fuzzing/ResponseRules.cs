using System.Text.Json;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>What every answer of the API must look like (SPEC section 3), whatever was asked.</summary>
public static class ResponseRules
{
    /// <summary>
    /// The ways <paramref name="response"/> breaks the rules; empty when it keeps them. <paramref name="success"/> says
    /// what a 2xx may carry on this route (customer pages are HTML); every 4xx is a problem document whatever the route.
    /// </summary>
    public static IReadOnlyList<string> Violations(ApiResponse response, SuccessBodies success = SuccessBodies.Json)
    {
        var violations = new List<string>();
        if (response.Status is < 200 or >= 500 or (>= 300 and < 400))
        {
            violations.Add($"status {response.Status}: only 2xx and 4xx are expected for any input while storage is up");
        }

        if (response.Status is >= 400 and < 600)
        {
            CheckProblem(response, violations);
        }
        else if (response.Status is >= 200 and < 300)
        {
            CheckSuccess(response, success, violations);
        }

        return violations;
    }

    private static void CheckProblem(ApiResponse response, List<string> violations)
    {
        if (response.MediaType != "application/problem+json")
        {
            violations.Add($"a {response.Status} must be application/problem+json, not '{response.ContentType}'");
        }

        if (Parse(response.Body, violations) is not { ValueKind: JsonValueKind.Object } problem)
        {
            violations.Add("a problem document must be a JSON object");
            return;
        }

        foreach (var member in new[] { "type", "title" })
        {
            if (!problem.TryGetProperty(member, out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            {
                violations.Add($"a problem document needs a non-empty string '{member}'");
            }
        }

        if (!problem.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Number
            || !status.TryGetInt32(out var number) || number != response.Status)
        {
            violations.Add($"a problem document's integer 'status' must be the HTTP status {response.Status}");
        }

        if (problem.TryGetProperty("detail", out var detail) && detail.ValueKind != JsonValueKind.String)
        {
            violations.Add("a problem document's 'detail' must be a string");
        }

        if (response.Status != 400)
        {
            return;
        }

        if (!problem.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Object || !errors.EnumerateObject().Any())
        {
            violations.Add("a 400 problem needs an 'errors' object naming at least one field");
            return;
        }

        foreach (var field in errors.EnumerateObject())
        {
            if (field.Value.ValueKind != JsonValueKind.Array || field.Value.GetArrayLength() == 0
                || field.Value.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString())))
            {
                violations.Add($"errors['{FuzzText.Show(field.Name)}'] must be a non-empty array of messages");
            }
        }
    }

    private static void CheckSuccess(ApiResponse response, SuccessBodies success, List<string> violations)
    {
        if (success.HasFlag(SuccessBodies.Empty) && response.Status == 202 && response.Body.Length == 0)
        {
            return;
        }

        if (success.HasFlag(SuccessBodies.Csv) && response.MediaType == "text/csv")
        {
            if (!response.Body.TrimStart('\uFEFF').StartsWith("serial,", StringComparison.Ordinal))
            {
                violations.Add("a CSV answer must start with its header row");
            }

            return;
        }

        if (success.HasFlag(SuccessBodies.Html) && response.MediaType == "text/html")
        {
            CheckPage(response, violations);
            return;
        }

        if (response.MediaType != "application/json")
        {
            violations.Add($"a {response.Status} must be application/json, not '{response.ContentType}'");
        }

        if (Parse(response.Body, violations) is not { ValueKind: JsonValueKind.Object or JsonValueKind.Array })
        {
            violations.Add("a success body must be a JSON object or array");
        }

        if (response.Status == 201 && !response.Headers.Location.ToString().StartsWith("/api/", StringComparison.Ordinal))
        {
            violations.Add($"a 201 must say where the resource is (Location '{response.Headers.Location}')");
        }
    }

    /// <summary>A customer page: a whole UTF-8 HTML document the browser is told not to store or sniff.</summary>
    private static void CheckPage(ApiResponse response, List<string> violations)
    {
        if (!response.Body.StartsWith("<!DOCTYPE html>", StringComparison.OrdinalIgnoreCase) || !response.Body.TrimEnd().EndsWith("</html>", StringComparison.OrdinalIgnoreCase))
        {
            violations.Add("an HTML answer must be a whole document");
        }

        if (!(response.ContentType ?? "").Contains("charset=utf-8", StringComparison.OrdinalIgnoreCase))
        {
            violations.Add($"an HTML answer must say its charset is UTF-8, not '{response.ContentType}'");
        }

        if (response.Headers.CacheControl.ToString() != "no-store" || response.Headers.XContentTypeOptions.ToString() != "nosniff")
        {
            violations.Add("a customer page must be sent with Cache-Control: no-store and X-Content-Type-Options: nosniff");
        }
    }

    private static JsonElement? Parse(string body, List<string> violations)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            violations.Add($"the body is not JSON: {ex.Message}");
            return null;
        }
    }
}
