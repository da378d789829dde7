using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Mail.Templates;

/// <summary>A piece of running text in a mail. There is no raw-markup piece: every piece is text.</summary>
internal abstract record Inline(string Text);

internal sealed record PlainInline(string Text) : Inline(Text);

/// <summary>Text that matters most in its sentence (a date, a serial): bold in HTML, plain in text.</summary>
internal sealed record StrongInline(string Text) : Inline(Text);

/// <summary>A value to be written in bold; built by <see cref="MailFormat.Strong(string)"/> and its overloads.</summary>
internal readonly record struct Strong(string Text);

/// <summary>
/// Builds mail text from an interpolated string. The literal parts are the template's wording; the
/// holes are values, cleaned of control characters and formatted culture-independently. There is
/// deliberately no overload for <c>DateTime</c>, <c>double</c> or any other type whose default
/// formatting follows the machine's culture: such a hole does not compile.
/// </summary>
[InterpolatedStringHandler]
internal readonly struct MailText
{
    private readonly ImmutableArray<Inline>.Builder parts;

    public MailText(int literalLength, int formattedCount)
    {
        _ = literalLength;
        parts = ImmutableArray.CreateBuilder<Inline>((2 * formattedCount) + 1);
    }

    public void AppendLiteral(string value) => Add(new PlainInline(value));

    public void AppendFormatted(string? value) => Add(new PlainInline(MailFormat.Clean(value)));

    public void AppendFormatted(int value) => Add(new PlainInline(value.ToString(CultureInfo.InvariantCulture)));

    public void AppendFormatted(LocalDate value) => Add(new PlainInline(MailDates.Format(value)));

    public void AppendFormatted(Serial value) => Add(new PlainInline(MailFormat.Clean(value.Value)));

    public void AppendFormatted(EmailAddress value) => Add(new PlainInline(MailFormat.Clean(value.Value)));

    public void AppendFormatted(Strong value) => Add(new StrongInline(MailFormat.Clean(value.Text)));

    public ImmutableArray<Inline> ToInlines() => parts?.ToImmutable() ?? [];

    private void Add(Inline inline)
    {
        if (inline.Text.Length == 0)
        {
            return;
        }

        // Merge neighbouring pieces of the same kind so that the output does not depend on how a sentence was split.
        if (parts.Count > 0 && parts[^1].GetType() == inline.GetType())
        {
            parts[^1] = parts[^1] with { Text = parts[^1].Text + inline.Text };
            return;
        }

        parts.Add(inline);
    }
}

/// <summary>Formatting helpers the templates share.</summary>
internal static class MailFormat
{
    public static Strong Strong(string value) => new(value);

    public static Strong Strong(LocalDate value) => new(MailDates.Format(value));

    public static Strong Strong(Serial value) => new(value.Value ?? string.Empty);

    /// <summary>"1 license", "3 licenses".</summary>
    public static string Count(int count, string singular, string plural) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? singular : plural);

    /// <summary>The text of <paramref name="text"/> without any emphasis, as a subject or a link label needs it.</summary>
    public static string Plain(MailText text) => Flatten(text.ToInlines());

    /// <summary>The text of <paramref name="inlines"/> without any emphasis.</summary>
    public static string Flatten(ImmutableArray<Inline> inlines) => string.Concat(inlines.Select(i => i.Text));

    /// <summary>
    /// A value as it may appear in a subject or body: control characters (line breaks included) and
    /// bidirectional-override characters become spaces, runs of spaces collapse, and the ends are trimmed;
    /// broken surrogates and Unicode noncharacters become U+FFFD. So a value cannot start a new line in the
    /// text body, fold a header, reorder what a reader sees, or make the HTML invalid.
    /// </summary>
    public static string Clean(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var builder = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var rune in EnumerateRunesLeniently(value))
        {
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || IsBidiControl(rune.Value))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(IsNoncharacter(rune.Value) ? Rune.ReplacementChar.ToString() : rune.ToString());
        }

        return builder.ToString();
    }

    /// <summary>The scalar values of <paramref name="value"/>, with U+FFFD for each unpaired surrogate.</summary>
    private static IEnumerable<Rune> EnumerateRunesLeniently(string value)
    {
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;
                consumed = Math.Max(consumed, 1);
            }

            yield return rune;
            i += consumed;
        }
    }

    private static bool IsBidiControl(int c) => c is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069) or 0x200E or 0x200F or 0x061C;

    private static bool IsNoncharacter(int c) => c is (>= 0xFDD0 and <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}
