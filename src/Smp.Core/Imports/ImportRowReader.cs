using System.Collections.Immutable;
using NodaTime;
using NodaTime.Text;
using Smp.Core.Mail;
using Smp.Core.Plans;

namespace Smp.Core.Imports;

/// <summary>
/// Validates one record of an import file against SPEC section 9, with the same bounds as the API's fields. Every bad
/// cell is reported with its column; a row with any error is skipped by the import.
/// </summary>
public static class ImportRowReader
{
    public const int MaxContacts = 20;
    public const int MaxCustomerIdLength = 64;
    public const int MaxNameLength = 200;
    public const int MaxProductLength = 100;
    public const int MaxNoteLength = 500;

    /// <summary>The characters that make a spreadsheet read a cell as a formula; the export writes such cells behind a "'".</summary>
    public static bool StartsLikeFormula(string cell) => cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    private static readonly LocalDatePattern IsoDate = LocalDatePattern.Iso;

    /// <summary>
    /// True when the record is the export of a license whose dongle was replaced (SPEC section 10): its <c>replacedBy</c>
    /// cell names a serial, or its <c>status</c> (a column the export writes and the import otherwise ignores) is
    /// <c>replaced</c>.
    /// </summary>
    public static bool IsReplaced(CsvRecord record, ImportColumns columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        return !string.IsNullOrWhiteSpace(columns.Cell(record, ImportColumns.ReplacedBy))
            || string.Equals(columns.Cell(record, LicenseCsv.Status)?.Trim(), LicenseCsv.Replaced, StringComparison.OrdinalIgnoreCase);
    }

    public static ImportRow? Read(CsvRecord record, ImportColumns columns, out IReadOnlyList<ImportError> errors)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(columns);
        var found = new List<ImportError>();
        errors = found;
        if (record.Error is not null)
        {
            found.Add(new ImportError(record.Row, null, record.Error));
            return null;
        }

        if (record.Cells.Count != columns.Count)
        {
            found.Add(new ImportError(record.Row, null, $"The row has {record.Cells.Count} cells; the header has {columns.Count}."));
            return null;
        }

        string? Cell(string column)
        {
            var raw = columns.Cell(record, column);
            if (raw is null)
            {
                return null;
            }

            // The export writes text that starts like a formula behind a "'" (Excel's text marker); read it back as written.
            if (raw.Length > 1 && raw[0] == '\'' && LicenseCsv.NeedsFormulaGuard(raw[1..]))
            {
                return raw[1..];
            }

            if (raw.StartsWith('='))
            {
                Error(column, "The cell is a spreadsheet formula; export the values, not the formulas.");
                return null;
            }

            return raw.Trim().Length == 0 ? null : raw;
        }

        void Error(string column, string message)
        {
            if (!found.Any(e => e.Column == column))
            {
                found.Add(new ImportError(record.Row, column, message)); // One error per cell: its first.
            }
        }

        var serialText = Cell(ImportColumns.Serial);
        Serial serial = default;
        if (serialText is null || !Serial.TryParse(serialText, out serial))
        {
            Error(ImportColumns.Serial, "A serial is 1-32 characters of A-Z, a-z, 0-9 and '-'.");
        }

        Serial? replacedBy = null;
        if (Cell(ImportColumns.ReplacedBy)?.Trim() is { } replacedByText)
        {
            if (!Serial.TryParse(replacedByText, out var newSerial))
            {
                Error(ImportColumns.ReplacedBy, "replacedBy is the serial of the license that replaced this one (1-32 characters of A-Z, a-z, 0-9 and '-'), or empty.");
            }
            else if (serialText is not null && newSerial == serial)
            {
                Error(ImportColumns.ReplacedBy, "A license cannot be replaced by its own serial.");
            }
            else
            {
                replacedBy = newSerial;
            }
        }

        var customerId = Text(Cell(ImportColumns.CustomerId), ImportColumns.CustomerId, MaxCustomerIdLength, required: true, Error)?.Trim();
        var customerName = Text(Cell(ImportColumns.CustomerName), ImportColumns.CustomerName, MaxNameLength, required: true, Error);
        var product = Text(Cell(ImportColumns.Product), ImportColumns.Product, MaxProductLength, required: false, Error)?.Trim();
        var note = Text(Cell(ImportColumns.Note), ImportColumns.Note, MaxNoteLength, required: false, Error, lineBreaks: true);
        var contacts = Contacts(Cell(ImportColumns.Contacts), Error);
        var sentOn = Date(Cell(ImportColumns.ActivationEmailSentOn), ImportColumns.ActivationEmailSentOn, required: false, Error);
        var planStart = Date(Cell(ImportColumns.PlanStart), ImportColumns.PlanStart, required: false, Error);
        var expiresOn = Date(Cell(ImportColumns.ExpiresOn), ImportColumns.ExpiresOn, required: true, Error);
        var training = Training(Cell(ImportColumns.OnSiteTraining), Error);

        if (planStart is { Day: not 1 })
        {
            Error(ImportColumns.PlanStart, "A plan starts on the 1st of a month (yyyy-MM-01).");
            planStart = null;
        }

        ImportedPlan? plan = null;
        if (expiresOn is { } expires && found.All(e => e.Column is not (ImportColumns.PlanStart or ImportColumns.ActivationEmailSentOn)))
        {
            var start = ImportedPlan.StartFor(planStart, sentOn, expires);
            if (expires <= start)
            {
                Error(ImportColumns.ExpiresOn, $"expiresOn must be after the plan's start ({IsoDate.Format(start)}).");
            }
            else if (sentOn is { } sent && sent >= expires)
            {
                Error(ImportColumns.ActivationEmailSentOn, "activationEmailSentOn must be before expiresOn.");
            }
            else
            {
                plan = new ImportedPlan(sentOn, start, expires);
            }
        }

        return found.Count > 0 || plan is null
            ? null
            : new ImportRow(record.Row, serial, product, new Customer(customerId!, customerName!), contacts!.Value, training, plan, note, replacedBy);
    }

    private static string? Text(string? value, string column, int maxLength, bool required, Action<string, string> error, bool lineBreaks = false)
    {
        if (value is null)
        {
            if (required)
            {
                error(column, "The cell is required.");
            }

            return null;
        }

        if (value.Length > maxLength)
        {
            error(column, $"At most {maxLength} characters.");
            return null;
        }

        if (value.Any(c => char.IsControl(c) && !(lineBreaks && c is '\r' or '\n' or '\t')))
        {
            error(column, "Control characters are not allowed.");
            return null;
        }

        if (!MailableText.HasVisibleText(value))
        {
            error(column, "The cell must contain visible text.");
            return null;
        }

        return value;
    }

    private static ImmutableArray<EmailAddress>? Contacts(string? value, Action<string, string> error)
    {
        var parts = (value ?? string.Empty).Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > MaxContacts)
        {
            error(ImportColumns.Contacts, $"Between 1 and {MaxContacts} email addresses, separated by ';'.");
            return null;
        }

        var contacts = ImmutableArray.CreateBuilder<EmailAddress>(parts.Length);
        foreach (var part in parts)
        {
            if (!EmailAddress.TryParse(part, out var address))
            {
                error(ImportColumns.Contacts, "Expected email addresses such as name@example.com, separated by ';'.");
                return null;
            }

            if (contacts.Contains(address))
            {
                error(ImportColumns.Contacts, "An address is listed twice.");
                return null;
            }

            contacts.Add(address);
        }

        return contacts.MoveToImmutable();
    }

    private static LocalDate? Date(string? value, string column, bool required, Action<string, string> error)
    {
        if (value is null)
        {
            if (required)
            {
                error(column, "The cell is required: a date written yyyy-MM-dd, such as 2026-03-14.");
            }

            return null;
        }

        var result = IsoDate.Parse(value.Trim());
        if (!result.Success || result.Value.Year is < 1900 or > 9998)
        {
            error(column, "Expected a date written yyyy-MM-dd, such as 2026-03-14 (not a spreadsheet's local format like 3/14/2026).");
            return null;
        }

        return result.Value;
    }

    private static bool Training(string? value, Action<string, string> error)
    {
        switch (value?.Trim().ToUpperInvariant())
        {
            case null or "NO" or "FALSE":
                return false;
            case "YES" or "TRUE":
                return true;
            default:
                error(ImportColumns.OnSiteTraining, "Expected yes, no, true or false (or an empty cell for no).");
                return false;
        }
    }
}
