using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Smp.Functions.Http;

/// <summary>Reads a request body as one JSON object, bounded in size, with duplicate properties refused.</summary>
public static class JsonBody
{
    public const int MaxBytes = 64 * 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 16,
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>The parsed body, or null with the reason recorded under the field <c>body</c>.</summary>
    public static async Task<JsonDocument?> ReadObjectAsync(HttpRequest request, ValidationErrors errors, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            errors.Add("body", $"The request body is larger than {MaxBytes} bytes.");
            return null;
        }

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                errors.Add("body", $"The request body is larger than {MaxBytes} bytes.");
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            errors.Add("body", "A JSON object is required.");
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors.Add("body", $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            errors.Add("body", "A JSON object is required.");
            return null;
        }

        return document;
    }
}
