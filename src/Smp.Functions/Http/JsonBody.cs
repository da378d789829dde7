using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;

namespace Smp.Functions.Http;

/// <summary>
/// Reads a request body as one JSON object, bounded in size, with duplicate properties refused, and with every
/// string and member name decodable: the parser checks neither UTF-8 inside strings nor escapes that leave a
/// lone surrogate, and reading such a string later throws, so both are refused here as malformed.
/// </summary>
public static class JsonBody
{
    public const int MaxBytes = 64 * 1024;

    private const string UndecodableMessage = "The text is not valid Unicode: it holds an escaped lone surrogate such as \\ud800.";

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

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (!Utf8.IsValid(bytes.Span))
        {
            errors.Add("body", "The body is not valid UTF-8.");
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors.Add("body", $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
            return null;
        }
        catch (InvalidOperationException)
        {
            // Checking for duplicate members decodes their names, and a name holding a lone surrogate cannot be decoded.
            errors.Add("body", UndecodableMessage);
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            errors.Add("body", "A JSON object is required.");
            return null;
        }

        if (UndecodableText(document.RootElement, string.Empty) is { } path)
        {
            document.Dispose();
            errors.Add(path, UndecodableMessage);
            return null;
        }

        return document;
    }

    /// <summary>The path (as <see cref="JsonFields"/> names fields) of the first string or member name that cannot be decoded, or null.</summary>
    private static string? UndecodableText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Decodes(() => element.GetString()) ? null : Named(path);
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (UndecodableText(item, $"{path}[{index++}]") is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string? name = null;
                    if (!Decodes(() => name = property.Name))
                    {
                        return Named(path);
                    }

                    if (UndecodableText(property.Value, path.Length == 0 ? name! : $"{path}.{name}") is { } bad)
                    {
                        return bad;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static string Named(string path) => path.Length == 0 ? "body" : path;

    private static bool Decodes(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
