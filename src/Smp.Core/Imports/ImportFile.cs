using System.Security.Cryptography;
using System.Text;
using Smp.Core.Plans;

namespace Smp.Core.Imports;

/// <summary>What an import does with one row (SPEC section 9).</summary>
public enum ImportOutcome
{
    Created,
    Unchanged,
    Conflict,
    Invalid,
}

/// <summary>
/// One record of an import file after validation: the row to import, or why it cannot be: its errors (invalid), or
/// the earlier row of the same file that has its serial (<see cref="DuplicateOf"/>: the second is a conflict). For a
/// replaced row (<see cref="ImportRow.ReplacedBy"/>), <see cref="NamedReplacement"/> tells that the file named the
/// license that replaced it (the <c>replacedBy</c> column) rather than leaving the import to find it by its plan, and
/// <see cref="ReplacementInFile"/> that a valid row of the file holds that serial.
/// </summary>
public sealed record ImportFileRow(int Index, int RowNumber, ImportRow? Row, IReadOnlyList<ImportError> Errors, int? DuplicateOf, bool NamedReplacement = false, bool ReplacementInFile = false);

/// <summary>
/// An import file (SPEC section 9): UTF-8 (a byte-order mark allowed) CSV whose header names the columns. Opening it
/// checks the encoding and the header before any row is read; <see cref="Rows"/> then validates the rows one by one,
/// always in the same order with the same results, so that an import resumed half-way goes on exactly where it was.
/// </summary>
public sealed class ImportFile
{
    /// <summary>The largest file an import takes: 10 MiB.</summary>
    public const int MaxBytes = 10 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly string text;

    private ImportFile(string text, ImportColumns columns, string sha256)
    {
        this.text = text;
        Columns = columns;
        Sha256 = sha256;
    }

    public ImportColumns Columns { get; }

    /// <summary>The SHA-256 of the file's bytes, lower-case hex.</summary>
    public string Sha256 { get; }

    /// <summary>
    /// Reads the file's encoding and header. Null, with <paramref name="errors"/> saying what is wrong (the columns at
    /// fault, or an encoding that is not UTF-8), when no row can be read.
    /// </summary>
    public static ImportFile? Open(ReadOnlySpan<byte> bytes, out IReadOnlyList<ImportError> errors)
    {
        if (bytes.Length > MaxBytes)
        {
            errors = [new ImportError(1, null, $"The file is larger than {MaxBytes / (1024 * 1024)} MiB.")];
            return null;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            errors = [new ImportError(1, null, "The file is not UTF-8 text: save it from the spreadsheet as \"CSV UTF-8\".")];
            return null;
        }

        var header = CsvRecords.Read(text).FirstOrDefault();
        var columns = ImportColumns.FromHeader(header, out errors);
        return columns is null ? null : new ImportFile(text, columns, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>
    /// The rows after the header, validated, each with its index (0 for the first row after the header). A replaced row
    /// (SPEC section 10) is imported as replaced by the serial its <c>replacedBy</c> cell names. A file without that
    /// column (older exports) says only <c>status</c> <c>replaced</c>: such a row is imported as replaced by the first row
    /// of the file that holds the same plan (serial aside: customer, contacts, product, training and the three dates) and
    /// is not replaced itself; without such a row it is invalid on <c>status</c>, so that an import never makes a
    /// replaced dongle's plan current a second time. Replaced rows come after every other row, a row after the row of the
    /// license that replaced it (a chain of replacements from its newest end), otherwise in file order, so that the
    /// license that replaced one is imported before it (the import checks it was). Rows whose <c>replacedBy</c> cells
    /// form a cycle are invalid on <c>replacedBy</c>.
    /// </summary>
    public IEnumerable<ImportFileRow> Rows()
    {
        var holders = Columns.Has(LicenseCsv.Status) ? PlanHolders() : [];
        var inFile = Columns.Has(ImportColumns.ReplacedBy) ? ValidSerials() : [];
        var firstRowOf = new Dictionary<Serial, int>();
        var index = 0;
        var replaced = new List<CsvRecord>();
        foreach (var record in CsvRecords.Read(text).Skip(1))
        {
            if (ImportRowReader.IsReplaced(record, Columns))
            {
                replaced.Add(record);
                continue;
            }

            yield return Validated(record);
        }

        foreach (var record in InReplacementOrder(replaced, out var cyclic))
        {
            yield return cyclic.Contains(record.Row)
                ? new ImportFileRow(index++, record.Row, null, [new ImportError(record.Row, ImportColumns.ReplacedBy, "The replacedBy cells of this row and others form a cycle: each license must be replaced by a newer one.")], null)
                : Validated(record);
        }

        ImportFileRow Validated(CsvRecord record)
        {
            var row = ImportRowReader.Read(record, Columns, out var errors);
            var named = false;
            var replacementInFile = false;
            if (row is { ReplacedBy: { } newSerial })
            {
                named = true;
                replacementInFile = inFile.Contains(newSerial);
            }
            else if (row is not null && ImportRowReader.IsReplaced(record, Columns))
            {
                if (holders.TryGetValue(PlanKey.Of(row), out var holder) && holder != row.Serial)
                {
                    row = row with { ReplacedBy = holder };
                    replacementInFile = true;
                }
                else
                {
                    row = null;
                    errors = [new ImportError(record.Row, LicenseCsv.Status, "A replaced license is imported only with the license that replaced it: name its serial in the replacedBy column, or the file must also hold a row with the same customer, contacts, product, training and dates that is not replaced.")];
                }
            }

            int? duplicateOf = null;
            if (row is not null && !firstRowOf.TryAdd(row.Serial, record.Row))
            {
                duplicateOf = firstRowOf[row.Serial];
            }

            return new ImportFileRow(index++, record.Row, row, errors, duplicateOf, named, replacementInFile);
        }
    }

    /// <summary>
    /// The replaced records ordered so that a record comes after the replaced record of the serial its <c>replacedBy</c>
    /// names (by how many replacements separate it from a license that is not replaced), otherwise in file order;
    /// <paramref name="cyclic"/> gets the row numbers whose <c>replacedBy</c> chain never ends.
    /// </summary>
    private List<CsvRecord> InReplacementOrder(List<CsvRecord> records, out HashSet<int> cyclic)
    {
        cyclic = [];
        if (!Columns.Has(ImportColumns.ReplacedBy))
        {
            return records;
        }

        var next = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var links = new List<(CsvRecord Record, string? Serial, string? ReplacedBy)>(records.Count);
        foreach (var record in records)
        {
            var serial = Columns.Cell(record, ImportColumns.Serial)?.Trim();
            var replacedBy = Columns.Cell(record, ImportColumns.ReplacedBy)?.Trim();
            links.Add((record, serial, string.IsNullOrEmpty(replacedBy) ? null : replacedBy));
            if (!string.IsNullOrEmpty(serial) && !string.IsNullOrEmpty(replacedBy) && !string.Equals(serial, replacedBy, StringComparison.OrdinalIgnoreCase))
            {
                next.TryAdd(serial, replacedBy);
            }
        }

        var depths = new List<int>(links.Count);
        foreach (var (record, serial, _) in links)
        {
            var depth = 0;
            var at = serial;
            while (at is not null && next.TryGetValue(at, out var newer))
            {
                depth++;
                at = newer;
                if (depth > next.Count)
                {
                    cyclic.Add(record.Row);
                    break;
                }
            }

            depths.Add(depth);
        }

        return [.. links.Select((link, i) => (link.Record, Depth: depths[i], i)).OrderBy(l => l.Depth).ThenBy(l => l.i).Select(l => l.Record)];
    }

    /// <summary>The serials of the file's valid rows.</summary>
    private HashSet<Serial> ValidSerials()
    {
        var serials = new HashSet<Serial>();
        foreach (var record in CsvRecords.Read(text).Skip(1))
        {
            if (ImportRowReader.Read(record, Columns, out _) is { } row)
            {
                serials.Add(row.Serial);
            }
        }

        return serials;
    }

    /// <summary>For each plan of a valid row that is not replaced, the serial of its first such row.</summary>
    private Dictionary<PlanKey, Serial> PlanHolders()
    {
        var holders = new Dictionary<PlanKey, Serial>();
        foreach (var record in CsvRecords.Read(text).Skip(1))
        {
            if (ImportRowReader.Read(record, Columns, out _) is { } row && !ImportRowReader.IsReplaced(record, Columns))
            {
                holders.TryAdd(PlanKey.Of(row), row.Serial);
            }
        }

        return holders;
    }

    /// <summary>A row's plan, serial aside: what a replacement carries over from the license it replaced.</summary>
    private sealed record PlanKey(string? Product, Customer Customer, string Contacts, bool OnSiteTraining, ImportedPlan Plan)
    {
        public static PlanKey Of(ImportRow row) => new(
            row.Product?.Trim(),
            row.Customer,
            string.Join(';', row.Contacts.Select(c => c.Value.ToUpperInvariant()).Order(StringComparer.Ordinal)),
            row.OnSiteTraining,
            row.Plan);
    }
}
