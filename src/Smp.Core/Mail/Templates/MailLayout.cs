using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Smp.Core.Mail.Templates;

/// <summary>A link with a descriptive label; its URL was validated by <see cref="SafeUrl"/>.</summary>
internal sealed record MailLink(string Label, string Href)
{
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an absolute https URL.</exception>
    public static MailLink To(Uri? url, MailText label, [CallerArgumentExpression(nameof(url))] string paramName = "") =>
        new(MailFormat.Flatten(label.ToInlines()), SafeUrl.Validate(url, paramName));
}

internal abstract record MailBlock;

internal sealed record HeadingBlock(string Text) : MailBlock;

/// <summary>A paragraph; a <c>\n</c> in the template's wording is a line break. An optional link follows the text.</summary>
internal sealed record ParagraphBlock(ImmutableArray<Inline> Text, MailLink? Link) : MailBlock;

internal sealed record ListItem(ImmutableArray<Inline> Text, MailLink? Link);

internal sealed record ListBlock(ImmutableArray<ListItem> Items) : MailBlock;

/// <summary>Name/value pairs, such as the facts of one plan.</summary>
internal sealed record FactsBlock(string Caption, ImmutableArray<KeyValuePair<string, string>> Facts) : MailBlock;

/// <summary>A table with column headers; the first cell of each row is that row's header.</summary>
internal sealed record TableBlock(string Caption, ImmutableArray<string> Headers, ImmutableArray<ImmutableArray<string>> Rows) : MailBlock;

/// <summary>
/// One mail written once: each kind describes its content here, block by block, and
/// <see cref="Render"/> turns that single description into the plain-text and the HTML body. The
/// blocks hold text only; markup exists solely in <see cref="HtmlBody"/>, which encodes every piece
/// of text it writes.
/// </summary>
internal sealed class MailLayout
{
    private readonly ImmutableArray<MailBlock>.Builder blocks = ImmutableArray.CreateBuilder<MailBlock>();

    public ImmutableArray<MailBlock> Blocks => blocks.ToImmutable();

    public MailLayout Heading(MailText text) => Add(new HeadingBlock(MailFormat.Flatten(text.ToInlines())));

    public MailLayout Paragraph(MailText text) => Add(new ParagraphBlock(text.ToInlines(), null));

    public MailLayout Paragraph(MailText text, MailLink link) => Add(new ParagraphBlock(text.ToInlines(), link));

    public MailLayout List(IEnumerable<ListItem> items)
    {
        var list = items.ToImmutableArray();
        return list.IsEmpty ? this : Add(new ListBlock(list));
    }

    public MailLayout Facts(string caption, IEnumerable<KeyValuePair<string, string>> facts) =>
        Add(new FactsBlock(
            MailFormat.Clean(caption),
            [.. facts.Select(f => KeyValuePair.Create(MailFormat.Clean(f.Key), MailFormat.Clean(f.Value)))]));

    public MailLayout Table(string caption, IEnumerable<string> headers, IEnumerable<IEnumerable<string>> rows)
    {
        var header = headers.Select(MailFormat.Clean).ToImmutableArray();
        var body = rows.Select(r => r.Select(MailFormat.Clean).ToImmutableArray()).ToImmutableArray();
        if (body.Any(r => r.Length != header.Length))
        {
            throw new InvalidOperationException("Every table row needs one cell per column.");
        }

        return Add(new TableBlock(MailFormat.Clean(caption), header, body));
    }

    public MailContent Render(string subject)
    {
        var cleanSubject = MailFormat.Clean(subject);
        var content = Blocks;
        return new MailContent(cleanSubject, PlainTextBody.Render(content), HtmlBody.Render(cleanSubject, content));
    }

    public static ListItem Item(MailText text, MailLink? link = null) => new(text.ToInlines(), link);

    private MailLayout Add(MailBlock block)
    {
        blocks.Add(block);
        return this;
    }
}
