using System.Text;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Plans;

namespace Smp.Core.Imports;

/// <summary>
/// The export of SPEC section 9 as pure text: the import's columns plus <c>status</c> and <c>replacedBy</c> (the serial
/// that replaced a replaced license, SPEC section 10; empty otherwise), one RFC 4180 record per license
/// (CRLF, cells quoted when they hold a comma, a quote, a line break or edge spaces). Text a spreadsheet would run as a
/// formula (starting with = + - @, a tab or a CR, after any apostrophes) is written behind one more "'", which the
/// import takes off again, so an export imports back as it was.
/// </summary>
public static class LicenseCsv
{
    public const string Status = "status";

    /// <summary>The <c>status</c> of a license whose dongle was replaced (SPEC section 10).</summary>
    public const string Replaced = "replaced";

    public static string Header() => string.Join(',', ImportColumns.All.Concat(ImportColumns.Trailing)) + "\r\n";

    /// <summary>
    /// The record of <paramref name="license"/>: <c>status</c> on <paramref name="today"/> (<c>current</c>, <c>lapsed</c>
    /// or <c>replaced</c>) and <paramref name="note"/>, the note its import kept on its <c>imported</c> event.
    /// </summary>
    public static string Record(License license, LocalDate today, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(license);
        var term = license.Terms[^1];
        LocalDate? sentOn = license.Imported is { } imported ? imported.ActivationEmailSentOn : license.Activation.EmailSentOn;
        var cells = new[]
        {
            license.Serial.Value,
            license.Customer.Id,
            license.Customer.Name,
            string.Join(';', license.Contacts.Select(c => c.Value)),
            license.Product,
            sentOn is { } sent ? LocalDatePattern.Iso.Format(sent) : string.Empty,
            LocalDatePattern.Iso.Format(term.Start),
            LocalDatePattern.Iso.Format(license.ExpiresOn),
            license.OnSiteTraining ? "yes" : "no",
            note ?? string.Empty,
            license.StatusOn(today) switch
            {
                PlanStatus.Current => "current",
                PlanStatus.Replaced => Replaced,
                _ => "lapsed",
            },
            license.IsReplaced ? license.Replacement!.NewSerial.Value : string.Empty,
        };
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            line.Append(Cell(cells[i]));
        }

        return line.Append("\r\n").ToString();
    }

    /// <summary>True when a spreadsheet would read <paramref name="text"/> as a formula once its leading apostrophes are gone.</summary>
    public static bool NeedsFormulaGuard(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ImportRowReader.StartsLikeFormula(text.TrimStart('\''));
    }

    private static string Cell(string value)
    {
        var text = NeedsFormulaGuard(value) ? "'" + value : value;
        var quote = text.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (text.Length > 0 && (char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])));
        return quote ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
