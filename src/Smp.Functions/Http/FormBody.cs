using Microsoft.AspNetCore.Http;

namespace Smp.Functions.Http;

/// <summary>Reads the one-button forms of the customer pages with the same rules as JSON bodies: bounded, no unknown fields.</summary>
public static class FormBody
{
    /// <summary>
    /// The forms carry a serial, a version and a scope, each a few characters; with at most 16 fields of 64-character
    /// keys this also keeps a form without a Content-Length far below the 64 KiB body limit.
    /// </summary>
    public const int MaxValueLength = 1024;

    /// <summary>
    /// The form's fields, or null with the reasons recorded; a field (or file) not in <paramref name="known"/> is
    /// refused. <paramref name="maxBytes"/> bounds the body (a console upload's file allows more than the 64 KiB of a form).
    /// </summary>
    public static async Task<IFormCollection?> ReadAsync(HttpRequest request, IReadOnlySet<string> known, ValidationErrors errors, CancellationToken cancellationToken, long maxBytes = JsonBody.MaxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            errors.Add("body", $"The request body is larger than {maxBytes} bytes.");
            return null;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { ValueLengthLimit = MaxValueLength, KeyLengthLimit = 64, ValueCountLimit = 16, MultipartBodyLengthLimit = maxBytes }, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            // The reader refuses forms past its limits, with characters it does not accept (such as an encoded NUL)
            // and malformed multipart bodies; each is the client's error, not ours.
            errors.Add("body", FormProblem(ex));
            return null;
        }
        catch (IOException)
        {
            // A multipart body that ends before its boundary says it does: the client's error too.
            errors.Add("body", "The form could not be read.");
            return null;
        }

        foreach (var key in form.Keys.Concat(form.Files.Select(f => f.Name)).Where(k => !known.Contains(k)))
        {
            errors.Add(key, "Unknown field.");
        }

        return form;
    }

    private static string FormProblem(InvalidDataException ex) =>
        ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
            ? "The form has too many fields, or a field name or value that is too long."
            : "The form could not be read.";

    /// <summary>The single value of <paramref name="name"/>, or null when it is missing or given more than once.</summary>
    public static string? Single(IFormCollection form, string name) => form[name].Count == 1 ? form[name][0] : null;
}
