using System.Text;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>A GitHub-flavoured Markdown table, built row by row.</summary>
internal sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> rows = [];

    /// <summary>Indexes of the columns to right-align (numbers).</summary>
    public ISet<int> RightAligned { get; } = new HashSet<int>();

    public MarkdownTable Add(params object[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"The table has {headers.Length} columns; the row has {cells.Length}.", nameof(cells));
        }

        rows.Add([.. cells.Select(c => Escape(Convert.ToString(c, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty))]);
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers.Select(Escape)).AppendLine(" |");
        text.Append('|').AppendJoin('|', headers.Select((_, i) => RightAligned.Contains(i) ? "---:" : "---")).AppendLine("|");
        foreach (var row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }

        return text.ToString();
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
