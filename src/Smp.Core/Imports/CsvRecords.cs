using System.Text;

namespace Smp.Core.Imports;

/// <summary>One record of a CSV file: its row number (the header is row 1), its cells, and what is wrong with it, if anything.</summary>
public sealed record CsvRecord(int Row, IReadOnlyList<string> Cells, string? Error);

/// <summary>
/// A strict RFC 4180 reader: comma-separated, cells optionally quoted with '"' (a '"' inside doubled), records ended by
/// CRLF, LF or CR, a leading byte-order mark ignored. Its memory is bounded whatever the input: a record keeps at most
/// <see cref="MaxCells"/> cells of at most <see cref="MaxCellLength"/> characters; a record beyond those limits, or
/// malformed (a '"' in an unquoted cell, text after a closing '"', a quote left open), is still read to its end and
/// returned with an <see cref="CsvRecord.Error"/>, so the records after it keep their place.
/// </summary>
public static class CsvRecords
{
    public const int MaxCells = 32;
    public const int MaxCellLength = 8192;

    public static IEnumerable<CsvRecord> Read(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pos = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        var row = 0;
        var cell = new StringBuilder();
        while (pos < text.Length)
        {
            row++;
            var cells = new List<string>();
            string? error = null;
            var quoted = false;
            var afterQuote = false;
            var cellStart = true;
            var cellCount = 0;
            var hasContent = false;
            cell.Clear();

            void EndCell()
            {
                cellCount++;
                if (cellCount <= MaxCells)
                {
                    cells.Add(cell.ToString());
                }
                else
                {
                    error ??= $"The row has more than {MaxCells} cells.";
                }

                cell.Clear();
                cellStart = true;
                afterQuote = false;
            }

            void Append(char c)
            {
                hasContent = true;
                if (cell.Length < MaxCellLength)
                {
                    cell.Append(c);
                }
                else
                {
                    error ??= $"A cell is longer than {MaxCellLength} characters.";
                }
            }

            while (true)
            {
                if (pos >= text.Length)
                {
                    if (quoted)
                    {
                        error ??= "A quoted cell is not closed: a '\"' is missing, so the rest of the file was read as this cell.";
                    }

                    break;
                }

                var c = text[pos];
                if (quoted)
                {
                    if (c == '"')
                    {
                        if (pos + 1 < text.Length && text[pos + 1] == '"')
                        {
                            Append('"');
                            pos += 2;
                            continue;
                        }

                        quoted = false;
                        afterQuote = true;
                        pos++;
                        continue;
                    }

                    Append(c);
                    pos++;
                    continue;
                }

                if (c == ',')
                {
                    hasContent = true;
                    EndCell();
                    pos++;
                    continue;
                }

                if (c is '\r' or '\n')
                {
                    pos += c == '\r' && pos + 1 < text.Length && text[pos + 1] == '\n' ? 2 : 1;
                    break;
                }

                if (c == '"' && cellStart)
                {
                    hasContent = true;
                    quoted = true;
                    cellStart = false;
                    pos++;
                    continue;
                }

                if (c == '"')
                {
                    error ??= "A '\"' inside a cell that is not quoted: quote the whole cell and write the '\"' twice.";
                }
                else if (afterQuote)
                {
                    error ??= "Text after the closing '\"' of a quoted cell.";
                }
                else
                {
                    Append(c);
                }

                cellStart = false;
                pos++;
            }

            if (!hasContent)
            {
                continue; // A blank line: no record.
            }

            EndCell();
            yield return new CsvRecord(row, cells, error);
        }
    }
}
