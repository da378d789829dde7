using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Smp.Azure.Tables;

/// <summary>
/// Turns any string into a valid, case-sensitive Table Storage key part: never one of the forbidden
/// characters (<c>/ \ # ?</c>, control characters U+0000-U+001F and U+007F-U+009F) and never longer than
/// <see cref="MaxLength"/> characters, whatever the input.
/// </summary>
/// <remarks>
/// ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c> stand for themselves, so serials and ordinary ids stay
/// readable in a storage browser. Every other UTF-16 code unit, <c>~</c> included, becomes <c>~</c> and four
/// upper-case hex digits; the escape is reversible and injective (lone surrogates too). An escaped form longer
/// than <see cref="MaxLength"/> is cut and followed by <c>~~</c> and the SHA-256 of the input: <c>~~</c> never
/// occurs in an escaped form, so the two shapes cannot collide. Keys are compared for equality only;
/// the entities always carry the original value.
/// </remarks>
internal static class TableKey
{
    /// <summary>Well under the service's 1 KiB (512 UTF-16 characters) so that composite keys still fit.</summary>
    public const int MaxLength = 255;

    private const char Escape = '~';

    /// <summary>The encoded form of the empty string (the escape character alone never occurs otherwise).</summary>
    private const string Empty = "~";

    public static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return Empty;
        }

        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (IsPlain(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(Escape).Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        if (builder.Length <= MaxLength)
        {
            return builder.ToString();
        }

        var hash = Base64Url.EncodeToString(SHA256.HashData(Encoding.Unicode.GetBytes(value)));
        var keep = MaxLength - 2 - hash.Length;
        var cut = builder.ToString(0, keep);

        // Do not end the readable prefix in the middle of an escape: drop a partial "~XXXX".
        var lastEscape = cut.LastIndexOf(Escape);
        if (lastEscape >= 0 && lastEscape > keep - 5)
        {
            cut = cut[..lastEscape];
        }

        return cut + "~~" + hash;
    }

    /// <summary>The original value of a key that <see cref="Encode"/> produced without hashing; null for a hashed key.</summary>
    public static string? TryDecode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key == Empty)
        {
            return string.Empty;
        }

        if (key.Contains("~~", StringComparison.Ordinal))
        {
            return null;
        }

        var builder = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] != Escape)
            {
                builder.Append(key[i]);
                continue;
            }

            if (i + 4 >= key.Length
                || !int.TryParse(key.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                return null;
            }

            builder.Append((char)code);
            i += 4;
        }

        return builder.ToString();
    }

    private static bool IsPlain(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
