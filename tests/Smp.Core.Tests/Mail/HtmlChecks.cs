using System.Xml;
using System.Xml.Linq;

namespace Smp.Core.Tests.Mail;

/// <summary>
/// Reads a mail's HTML as XML (the renderer writes well-formed markup) and checks that it holds only the
/// elements and attributes the renderer itself writes: anything else got in through a value.
/// </summary>
internal static class HtmlChecks
{
    private static readonly HashSet<string> AllowedElements =
        ["html", "head", "meta", "title", "body", "h1", "p", "br", "strong", "ul", "li", "a", "table", "caption", "thead", "tbody", "tr", "th", "td"];

    private static readonly HashSet<string> AllowedAttributes = ["lang", "charset", "name", "content", "style", "href", "scope"];

    public static XDocument Parse(string html)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, CheckCharacters = true };
        using var reader = XmlReader.Create(new StringReader(html), settings);
        return XDocument.Load(reader);
    }

    /// <summary>Parses <paramref name="html"/>, asserts its structure is the renderer's own, and returns it.</summary>
    public static XDocument AssertOnlyRendererMarkup(string html, string subject)
    {
        Assert.StartsWith("<!DOCTYPE html>\n", html, StringComparison.Ordinal);
        var doc = Parse(html);
        var root = doc.Root!;
        Assert.Equal("html", root.Name.LocalName);
        Assert.Equal("en", (string?)root.Attribute("lang"));
        Assert.Equal(subject, doc.Descendants("title").Single().Value);

        foreach (var element in doc.Descendants())
        {
            Assert.Contains(element.Name.LocalName, AllowedElements);
            foreach (var attribute in element.Attributes())
            {
                Assert.Contains(attribute.Name.LocalName, AllowedAttributes);
            }
        }

        foreach (var link in doc.Descendants("a"))
        {
            var href = (string?)link.Attribute("href");
            Assert.NotNull(href);
            Assert.True(
                href.StartsWith("https://", StringComparison.Ordinal) || (href.StartsWith("http://", StringComparison.Ordinal) && new Uri(href).IsLoopback),
                $"Unexpected link target {href}");
            Assert.False(string.IsNullOrWhiteSpace(link.Value), "A link needs a descriptive label.");
        }

        foreach (var table in doc.Descendants("table"))
        {
            Assert.Single(table.Elements("caption"));
            Assert.NotEmpty(table.Descendants("th"));
        }

        return doc;
    }

    /// <summary>The text a reader of the HTML sees in its body, whitespace collapsed.</summary>
    public static string VisibleText(XDocument doc) =>
        string.Join(' ', doc.Descendants("body").Single().Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
