using System.Collections.Immutable;

namespace Smp.Core.Imports;

/// <summary>The columns of an import file (SPEC section 9), matched case-insensitively; the header decides their order.</summary>
public sealed class ImportColumns
{
    public const string Serial = "serial";
    public const string CustomerId = "customerId";
    public const string CustomerName = "customerName";
    public const string Contacts = "contacts";
    public const string Product = "product";
    public const string ActivationEmailSentOn = "activationEmailSentOn";
    public const string PlanStart = "planStart";
    public const string ExpiresOn = "expiresOn";
    public const string OnSiteTraining = "onSiteTraining";
    public const string Note = "note";

    /// <summary>
    /// The serial of the license that replaced this row's (SPEC section 10), empty otherwise: a trailing column the export
    /// adds after <c>status</c>, so that the import attaches a replaced row to exactly that license. Optional: a file
    /// without it imports as before.
    /// </summary>
    public const string ReplacedBy = "replacedBy";

    /// <summary>Every column, in the order the export writes them.</summary>
    public static readonly ImmutableArray<string> All =
        [Serial, CustomerId, CustomerName, Contacts, Product, ActivationEmailSentOn, PlanStart, ExpiresOn, OnSiteTraining, Note];

    public static readonly ImmutableArray<string> Required = [Serial, CustomerId, CustomerName, Contacts, ExpiresOn];

    /// <summary>Columns the export adds that an import accepts and ignores (<c>status</c> is computed, never imported).</summary>
    public static readonly ImmutableArray<string> Ignored = [LicenseCsv.Status];

    /// <summary>The columns the export writes after <see cref="All"/>: <c>status</c>, then <see cref="ReplacedBy"/>.</summary>
    public static readonly ImmutableArray<string> Trailing = [LicenseCsv.Status, ReplacedBy];

    private readonly Dictionary<string, int> indexes;

    private ImportColumns(Dictionary<string, int> indexes, int count)
    {
        this.indexes = indexes;
        Count = count;
    }

    /// <summary>How many cells the header has; every row must have as many.</summary>
    public int Count { get; }

    /// <summary>
    /// Reads the header record. Null, with <paramref name="errors"/> naming each column at fault, when the file has no
    /// header or the header has an unknown, duplicated or empty column or lacks a required one.
    /// </summary>
    public static ImportColumns? FromHeader(CsvRecord? header, out IReadOnlyList<ImportError> errors)
    {
        var found = new List<ImportError>();
        errors = found;
        if (header is null)
        {
            found.Add(new ImportError(1, null, $"The file is empty: the first row must name the columns ({string.Join(", ", All)})."));
            return null;
        }

        if (header.Error is not null)
        {
            found.Add(new ImportError(1, null, header.Error));
            return null;
        }

        var indexes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Cells.Count; i++)
        {
            var name = header.Cells[i].Trim();
            var column = All.Concat(Trailing).FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            if (column is null)
            {
                found.Add(new ImportError(1, Shown(name), $"Unknown column '{Shown(name)}'; the columns are {string.Join(", ", All)}."));
            }
            else if (!indexes.TryAdd(column, i))
            {
                found.Add(new ImportError(1, column, $"The column {column} appears more than once."));
            }
        }

        foreach (var missing in Required.Where(c => !indexes.ContainsKey(c)))
        {
            found.Add(new ImportError(1, missing, $"The required column {missing} is missing."));
        }

        return found.Count == 0 ? new ImportColumns(indexes, header.Cells.Count) : null;
    }

    /// <summary>True when the header has <paramref name="column"/>.</summary>
    public bool Has(string column) => indexes.ContainsKey(column);

    /// <summary>The cell of <paramref name="column"/> in <paramref name="record"/>, or null when the header has no such column.</summary>
    public string? Cell(CsvRecord record, string column) =>
        indexes.TryGetValue(column, out var index) && index < record.Cells.Count ? record.Cells[index] : null;

    private static string Shown(string name) => name.Length <= 40 ? name : name[..40] + "...";
}

/// <summary>What is wrong with a row (or with the header, row 1): the column when one is at fault, and why.</summary>
public sealed record ImportError(int Row, string? Column, string Message);
