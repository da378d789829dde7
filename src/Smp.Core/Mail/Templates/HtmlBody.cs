using System.Collections.Immutable;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// Writes a <see cref="MailLayout"/> as a small, accessible HTML page: <c>lang="en"</c>, a title,
/// headings, lists and tables with header cells; no images, scripts, external resources or tracking.
/// Every piece of text and every attribute value is HTML-encoded here, so no value can add markup or
/// leave an attribute. The output is also well-formed XML (void elements are self-closed).
/// </summary>
internal static class HtmlBody
{
    // Encodes what HTML needs (& < > " ' and more) but leaves letters of every script readable in the source.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private const string CellStyle = "text-align: left; vertical-align: top; padding: 4px 16px 4px 0;";

    public static string Render(string title, ImmutableArray<MailBlock> blocks)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n")
            .Append("<html lang=\"en\">\n")
            .Append("<head>\n")
            .Append("<meta charset=\"utf-8\" />\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n")
            .Append("<title>").Append(Encode(title)).Append("</title>\n")
            .Append("</head>\n")
            .Append("<body style=\"font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; color: #1a1a1a;\">\n");

        foreach (var block in blocks)
        {
            switch (block)
            {
                case HeadingBlock heading:
                    html.Append("<h1 style=\"font-size: 20px;\">").Append(Encode(heading.Text)).Append("</h1>\n");
                    break;
                case ParagraphBlock paragraph:
                    html.Append("<p>");
                    Inlines(html, paragraph.Text);
                    Link(html, paragraph.Link);
                    html.Append("</p>\n");
                    break;
                case ListBlock list:
                    html.Append("<ul>\n");
                    foreach (var item in list.Items)
                    {
                        html.Append("<li>");
                        Inlines(html, item.Text);
                        Link(html, item.Link);
                        html.Append("</li>\n");
                    }

                    html.Append("</ul>\n");
                    break;
                case FactsBlock facts:
                    TableStart(html, facts.Caption);
                    html.Append("<tbody>\n");
                    foreach (var (name, value) in facts.Facts)
                    {
                        html.Append("<tr>");
                        Cell(html, "th", "row", name);
                        Cell(html, "td", null, value);
                        html.Append("</tr>\n");
                    }

                    html.Append("</tbody>\n</table>\n");
                    break;
                case TableBlock table:
                    TableStart(html, table.Caption);
                    html.Append("<thead>\n<tr>");
                    foreach (var header in table.Headers)
                    {
                        Cell(html, "th", "col", header);
                    }

                    html.Append("</tr>\n</thead>\n<tbody>\n");
                    foreach (var row in table.Rows)
                    {
                        html.Append("<tr>");
                        for (var c = 0; c < row.Length; c++)
                        {
                            Cell(html, c == 0 ? "th" : "td", c == 0 ? "row" : null, row[c]);
                        }

                        html.Append("</tr>\n");
                    }

                    html.Append("</tbody>\n</table>\n");
                    break;
                default:
                    throw new InvalidOperationException($"No HTML form for {block.GetType().Name}.");
            }
        }

        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void Inlines(StringBuilder html, ImmutableArray<Inline> inlines)
    {
        foreach (var inline in inlines)
        {
            var (open, close) = inline is StrongInline ? ("<strong>", "</strong>") : (string.Empty, string.Empty);
            var lines = inline.Text.Split('\n');
            html.Append(open);
            for (var i = 0; i < lines.Length; i++)
            {
                if (i > 0)
                {
                    html.Append("<br />\n");
                }

                html.Append(Encode(lines[i]));
            }

            html.Append(close);
        }
    }

    private static void Link(StringBuilder html, MailLink? link)
    {
        if (link is null)
        {
            return;
        }

        html.Append("<br />\n<a href=\"").Append(Encode(link.Href)).Append("\">").Append(Encode(link.Label)).Append("</a>");
    }

    private static void TableStart(StringBuilder html, string caption) =>
        html.Append("<table style=\"border-collapse: collapse; margin: 0 0 16px 0;\">\n")
            .Append("<caption style=\"text-align: left; font-weight: bold; padding: 0 0 4px 0;\">").Append(Encode(caption)).Append("</caption>\n");

    private static void Cell(StringBuilder html, string tag, string? scope, string text)
    {
        html.Append('<').Append(tag);
        if (scope is not null)
        {
            html.Append(" scope=\"").Append(scope).Append('"');
        }

        html.Append(" style=\"").Append(CellStyle).Append("\">").Append(Encode(text)).Append("</").Append(tag).Append('>');
    }

    private static string Encode(string value) => Encoder.Encode(value);
}
