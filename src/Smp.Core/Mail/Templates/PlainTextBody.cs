using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// Writes a <see cref="MailLayout"/> as plain text for text-only mail clients: blocks separated by
/// a blank line, links as bare URLs on their own line (clients make them clickable), tables as
/// aligned columns. Lines are not hard-wrapped, so that narrow screens can reflow them.
/// </summary>
internal static class PlainTextBody
{
    private const string ColumnGap = "  ";

    public static string Render(ImmutableArray<MailBlock> blocks)
    {
        var text = new StringBuilder();
        foreach (var block in blocks)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            switch (block)
            {
                case HeadingBlock heading:
                    Line(text, heading.Text);
                    Line(text, new string('=', new StringInfo(heading.Text).LengthInTextElements));
                    break;
                case ParagraphBlock paragraph:
                    Lines(text, string.Empty, paragraph.Text, paragraph.Link);
                    break;
                case ListBlock list:
                    foreach (var item in list.Items)
                    {
                        Lines(text, "- ", item.Text, item.Link);
                    }

                    break;
                case FactsBlock facts:
                    WriteFacts(text, facts);
                    break;
                case TableBlock table:
                    WriteTable(text, table);
                    break;
                default:
                    throw new InvalidOperationException($"No plain-text form for {block.GetType().Name}.");
            }
        }

        return text.ToString();
    }

    /// <summary>Text whose first line starts with <paramref name="marker"/>; later lines and the link are indented under it.</summary>
    private static void Lines(StringBuilder text, string marker, ImmutableArray<Inline> inlines, MailLink? link)
    {
        var indent = new string(' ', marker.Length);
        var lines = MailFormat.Flatten(inlines).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            Line(text, (i == 0 ? marker : indent) + lines[i]);
        }

        if (link is not null)
        {
            Line(text, indent + link.Href);
        }
    }

    private static void WriteFacts(StringBuilder text, FactsBlock facts)
    {
        Line(text, facts.Caption);
        var width = facts.Facts.Max(f => Width(f.Key)) + 1;
        foreach (var (name, value) in facts.Facts)
        {
            Line(text, Pad(name + ":", width + 1) + value);
        }
    }

    private static void WriteTable(StringBuilder text, TableBlock table)
    {
        Line(text, table.Caption);
        var widths = Enumerable.Range(0, table.Headers.Length)
            .Select(c => table.Rows.Select(r => Width(r[c])).Append(Width(table.Headers[c])).Max())
            .ToArray();
        Line(text, Row(table.Headers, widths));
        Line(text, string.Join(ColumnGap, widths.Select(w => new string('-', w))));
        foreach (var row in table.Rows)
        {
            Line(text, Row(row, widths));
        }
    }

    private static string Row(ImmutableArray<string> cells, int[] widths) =>
        string.Join(ColumnGap, cells.Select((cell, c) => Pad(cell, widths[c])));

    private static string Pad(string value, int width) => value + new string(' ', Math.Max(0, width - Width(value)));

    private static int Width(string value) => new StringInfo(value).LengthInTextElements;

    private static void Line(StringBuilder text, string line) => text.Append(line.TrimEnd()).Append('\n');
}
