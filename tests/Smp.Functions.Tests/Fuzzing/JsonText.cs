using System.Buffers;
using System.Globalization;
using System.Text;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// A JSON text built by hand, so that it can say what no serializer writes: duplicate keys, lone
/// surrogates as <c>\ud800</c> escapes, raw invalid UTF-8 inside a string, numbers such as <c>1e309</c>.
/// </summary>
public abstract record JsonText
{
    public byte[] ToBytes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    internal abstract void Write(ArrayBufferWriter<byte> output);

    public static Str Of(string text) => new(text);

    public static Token Number(string literal) => new(literal);

    public static readonly Token True = new("true");
    public static readonly Token False = new("false");
    public static readonly Token Null = new("null");

    public static Obj Object(params (string Name, JsonText Value)[] members) =>
        new([.. members.Select(m => new Member(new Str(m.Name), m.Value))]);

    public static Arr Array(IEnumerable<JsonText> items) => new([.. items]);

    private static void Ascii(ArrayBufferWriter<byte> output, string text) => output.Write(Encoding.ASCII.GetBytes(text));

    /// <summary>
    /// A string. Quotes, backslashes, control characters and lone surrogates are always escaped (a lone
    /// surrogate cannot be written as UTF-8); other characters are escaped only when <paramref name="EscapeAll"/>
    /// is set. <paramref name="Raw"/> bytes, if any, go in unescaped just before the closing quote.
    /// </summary>
    public sealed record Str(string Text, bool EscapeAll = false, byte[]? Raw = null) : JsonText
    {
        internal override void Write(ArrayBufferWriter<byte> output)
        {
            output.Write("\""u8);
            var text = Text;
            Span<byte> utf8 = stackalloc byte[4];
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '"')
                {
                    output.Write("\\\""u8);
                }
                else if (c == '\\')
                {
                    output.Write("\\\\"u8);
                }
                else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    if (EscapeAll)
                    {
                        Escape(output, c);
                        Escape(output, text[i + 1]);
                    }
                    else
                    {
                        var written = Encoding.UTF8.GetBytes(text.AsSpan(i, 2), utf8);
                        output.Write(utf8[..written]);
                    }

                    i++;
                }
                else if (c < 0x20 || char.IsSurrogate(c) || (EscapeAll && c > 0x7E))
                {
                    Escape(output, c);
                }
                else
                {
                    var written = Encoding.UTF8.GetBytes(text.AsSpan(i, 1), utf8);
                    output.Write(utf8[..written]);
                }
            }

            if (Raw is not null)
            {
                output.Write(Raw);
            }

            output.Write("\""u8);
        }

        private static void Escape(ArrayBufferWriter<byte> output, char c) =>
            Ascii(output, "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
    }

    /// <summary>Anything written as it is: a number, a literal, or deliberate garbage.</summary>
    public sealed record Token(string Text) : JsonText
    {
        internal override void Write(ArrayBufferWriter<byte> output) => output.Write(Encoding.UTF8.GetBytes(Text));
    }

    public sealed record Member(Str Name, JsonText Value);

    public sealed record Obj(IReadOnlyList<Member> Members) : JsonText
    {
        public JsonText? this[string name] => Members.FirstOrDefault(m => m.Name.Text == name)?.Value;

        /// <summary>Sets the first member of that name (or appends one); a null value removes every member of that name.</summary>
        public Obj Set(string name, JsonText? value)
        {
            if (value is null)
            {
                return new Obj([.. Members.Where(m => m.Name.Text != name)]);
            }

            var index = Members.ToList().FindIndex(m => m.Name.Text == name);
            if (index < 0)
            {
                return Append(name, value);
            }

            var members = Members.ToList();
            members[index] = members[index] with { Value = value };
            return new Obj(members);
        }

        /// <summary>Appends a member even when one of that name exists (a duplicate key).</summary>
        public Obj Append(string name, JsonText value) => Append(new Str(name), value);

        public Obj Append(Str name, JsonText value) => new([.. Members, new Member(name, value)]);

        internal override void Write(ArrayBufferWriter<byte> output)
        {
            output.Write("{"u8);
            for (var i = 0; i < Members.Count; i++)
            {
                if (i > 0)
                {
                    output.Write(","u8);
                }

                Members[i].Name.Write(output);
                output.Write(":"u8);
                Members[i].Value.Write(output);
            }

            output.Write("}"u8);
        }
    }

    public sealed record Arr(IReadOnlyList<JsonText> Items) : JsonText
    {
        public Arr SetAt(int index, JsonText? value)
        {
            var items = Items.ToList();
            if (value is null)
            {
                items.RemoveAt(index);
            }
            else
            {
                items[index] = value;
            }

            return new Arr(items);
        }

        internal override void Write(ArrayBufferWriter<byte> output)
        {
            output.Write("["u8);
            for (var i = 0; i < Items.Count; i++)
            {
                if (i > 0)
                {
                    output.Write(","u8);
                }

                Items[i].Write(output);
            }

            output.Write("]"u8);
        }
    }
}
