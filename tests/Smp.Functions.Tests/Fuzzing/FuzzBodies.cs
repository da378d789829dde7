using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Smp.TestSupport;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>A value put in place of a field's value, and what is known about it.</summary>
public sealed record Replacement(JsonText Value, FieldKind? Kind, string Label, string? Text = null, Verdict? Fixed = null);

/// <summary>
/// Request bodies: valid ones per schema, the same with one field mutated, structurally broken JSON,
/// corrupted bytes, size and depth edges, and garbage. Each comes with the verdict the contract gives it.
/// </summary>
public static partial class FuzzBodies
{
    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xFE], [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3], [0xC3, 0x28],
    ];

    private static readonly string[] EdgeNumbers =
    [
        "0", "-0", "1", "12", "60", "61", "-1", "1.5", "12.0", "1.2e1", "1E1", "6e1", "1e309", "-1e309", "1e-400", "0.1", "-0.0",
        "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "1" + new string('0', 400),
    ];

    /// <summary>Tokens that are not JSON at all: a body holding one is malformed wherever it is.</summary>
    private static readonly string[] MalformedTokens =
    [
        "NaN", "Infinity", "-Infinity", "+1", "01", ".5", "1.", "0x10", "1_000", "\u0661\u0662", "--1", "1e", "tru", "nul", "undefined",
        "'x'", "TRUE", "None",
    ];

    /// <summary>One letter repeated fills a field: ASCII, Latin-1, CJK (one UTF-16 unit each) or an emoji (two).</summary>
    private static readonly string[] Letters = ["a", "\u00e9", "\u6f22", "\U0001F600"];

    private static readonly string[] StrangeKeys =
    [
        "x", "", " ", "__proto__", "constructor", "$type", "$id", "\0", "\ud800", "\u202e", "a\u200db", "\U0001F600", "PartitionKey", "odata.etag",
    ];

    /// <summary>
    /// The most addresses allowed, each over 240 characters long: in ASCII (valid by RFC 5321), or with a long
    /// non-ASCII local part (not decided by the contract, but it must not break anything).
    /// </summary>
    private static Gen<Fuzzed<string[]>> LongestEmails { get; } =
        from letter in Gen.Elements("a", "a", "\u00f6", "\u6f22")
        let emails = Enumerable.Range(0, SpecLimits.ContactsMax)
            .Select(i => letter == "a"
                ? $"{i:D2}{new string('a', 62)}@{new string('d', 60)}.{new string('e', 60)}.{new string('f', 60)}.com"
                : $"{i:D2}{FuzzText.Repeat(letter, 228)}@example.com")
            .ToArray()
        select new Fuzzed<string[]>(emails, letter == "a" ? Verdict.Valid : Verdict.Unknown, letter == "a" ? "of 251 ASCII characters" : $"of 242 characters with {FuzzText.Show(letter)}");

    public static BodySchema Activation { get; } = new(
        "activation",
        [
            new FieldRule("serial", FieldKind.String, true, FuzzOracles.Serial, Samples: [.. FuzzValues.SerialNearMisses.Select(s => new Fuzzed<string>(s, FuzzOracles.Serial(s), "near-miss serial"))]),
            new FieldRule("product", FieldKind.String, false, s => FuzzOracles.FreeText(s, SpecLimits.ProductMaxLength)),
            new FieldRule("customer", FieldKind.Object, true),
            new FieldRule("customer.id", FieldKind.String, true, s => FuzzOracles.FreeText(s, SpecLimits.CustomerIdMaxLength)),
            new FieldRule("customer.name", FieldKind.String, true, s => FuzzOracles.FreeText(s, SpecLimits.CustomerNameMaxLength)),
            new FieldRule("contacts", FieldKind.Array, true),
            new FieldRule("contacts[]", FieldKind.String, true, FuzzOracles.Email, Samples: FuzzValues.EmailSamples),
            new FieldRule("onSiteTraining", FieldKind.Boolean, true),
            new FieldRule("activationEmailSentAt", FieldKind.String, true, _ => Verdict.Invalid, Samples: FuzzValues.InstantSamples),
        ],
        from serial in FuzzValues.ValidSerial
        from product in Optional(FuzzText.Benign(SpecLimits.ProductMaxLength).Select(p => (JsonText)JsonText.Of(p)))
        from customerId in Gen.Frequency((3, Gen.Constant(FuzzData.CustomerId)), (1, FuzzText.Benign(SpecLimits.CustomerIdMaxLength)))
        from name in FuzzText.Benign(SpecLimits.CustomerNameMaxLength)
        from contacts in Gen.Frequency((5, FuzzValues.Emails(1, 3)), (1, FuzzValues.Emails(1, SpecLimits.ContactsMax)))
        from training in Gen.Elements(JsonText.True, JsonText.False)
        from sentAt in FuzzValues.PastInstant
        select WithOptional(
            JsonText.Object(
                ("serial", JsonText.Of(serial)),
                ("customer", JsonText.Object(("id", JsonText.Of(customerId)), ("name", JsonText.Of(name)))),
                ("contacts", JsonText.Array(contacts.Select(JsonText.Of))),
                ("onSiteTraining", training),
                ("activationEmailSentAt", JsonText.Of(sentAt))),
            "product",
            product),
        from serial in Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".ToCharArray()).ArrayOf(32).Select(c => new string(c))
        from letter in Gen.Elements(Letters)
        from contacts in LongestEmails
        from sentAt in FuzzValues.PastInstant
        let product = FuzzText.Repeat(letter, SpecLimits.ProductMaxLength)
        let id = FuzzText.Repeat(letter, SpecLimits.CustomerIdMaxLength)
        let name = FuzzText.Repeat(letter, SpecLimits.CustomerNameMaxLength)
        select new Fuzzed<JsonText.Obj>(
            JsonText.Object(
                ("serial", JsonText.Of(serial)),
                ("product", JsonText.Of(product)),
                ("customer", JsonText.Object(("id", JsonText.Of(id)), ("name", JsonText.Of(name)))),
                ("contacts", JsonText.Array(contacts.Value.Select(JsonText.Of))),
                ("onSiteTraining", JsonText.True),
                ("activationEmailSentAt", JsonText.Of(sentAt))),
            Fuzzed.Combine([
                FuzzOracles.FreeText(product, SpecLimits.ProductMaxLength),
                FuzzOracles.FreeText(id, SpecLimits.CustomerIdMaxLength),
                FuzzOracles.FreeText(name, SpecLimits.CustomerNameMaxLength),
                contacts.Verdict]),
            $"every field at its longest, in {FuzzText.Show(letter)}, contacts {contacts.Label}"));

    public static BodySchema Renewal { get; } = new(
        "renewal",
        [
            new FieldRule("orderReference", FieldKind.String, true, s => FuzzOracles.FreeText(s, SpecLimits.OrderReferenceMaxLength)),
            new FieldRule("months", FieldKind.Number, false, Number: Months),
            new FieldRule("paidAt", FieldKind.String, false, _ => Verdict.Invalid, Samples: FuzzValues.InstantSamples),
        ],
        from orderReference in Gen.Frequency((4, Gen.Elements(FuzzData.OrderReferences)), (1, FuzzText.Benign(SpecLimits.OrderReferenceMaxLength)))
        from months in Optional(Gen.Frequency((3, Gen.Elements(12, 24, 36)), (1, Gen.Choose(SpecLimits.RenewalMonthsMin, SpecLimits.RenewalMonthsMax))).Select(m => (JsonText)JsonText.Number(m.ToString(CultureInfo.InvariantCulture))))
        from paidAt in Optional(FuzzValues.PastInstant.Select(p => (JsonText)JsonText.Of(p)))
        select WithOptional(WithOptional(JsonText.Object(("orderReference", JsonText.Of(orderReference))), "months", months), "paidAt", paidAt),
        from letter in Gen.Elements(Letters)
        from paidAt in FuzzValues.PastInstant
        let orderReference = FuzzText.Repeat(letter, SpecLimits.OrderReferenceMaxLength)
        select new Fuzzed<JsonText.Obj>(
            JsonText.Object(("orderReference", JsonText.Of(orderReference)), ("months", JsonText.Number("60")), ("paidAt", JsonText.Of(paidAt))),
            FuzzOracles.FreeText(orderReference, SpecLimits.OrderReferenceMaxLength),
            $"every field at its longest, in {FuzzText.Show(letter)}"));

    /// <summary>
    /// SPEC section 10: <c>{newSerial, reason?}</c>. Valid new serials are drawn apart from every route serial (prefix
    /// <c>RPL-</c>), so a valid body never names the dongle it replaces.
    /// </summary>
    public static BodySchema Replacement { get; } = new(
        "replacement",
        [
            new FieldRule("newSerial", FieldKind.String, true, FuzzOracles.Serial, Samples: [.. FuzzValues.SerialNearMisses.Select(s => new Fuzzed<string>(s, FuzzOracles.Serial(s), "near-miss serial"))]),
            new FieldRule("reason", FieldKind.String, false, s => FuzzOracles.FreeText(s, 500)),
        ],
        from number in Gen.Choose(1, 999999)
        from reason in Optional(Gen.Elements("broken", "lost in transit", "Dongle \u00e9chang\u00e9").Select(r => (JsonText)JsonText.Of(r)))
        select WithOptional(JsonText.Object(("newSerial", JsonText.Of("RPL-" + number.ToString(CultureInfo.InvariantCulture)))), "reason", reason),
        from letter in Gen.Elements(Letters)
        let reason = FuzzText.Repeat(letter, 500)
        select new Fuzzed<JsonText.Obj>(
            JsonText.Object(("newSerial", JsonText.Of("RPL-" + new string('9', SpecLimits.SerialMaxLength - 4))), ("reason", JsonText.Of(reason))),
            FuzzOracles.FreeText(reason, 500),
            $"every field at its longest, in {FuzzText.Show(letter)}"));

    public static BodySchema Contacts { get; } = new(
        "contacts",
        [
            new FieldRule("contacts", FieldKind.Array, true),
            new FieldRule("contacts[]", FieldKind.String, true, FuzzOracles.Email, Samples: FuzzValues.EmailSamples),
        ],
        from contacts in Gen.Frequency((5, FuzzValues.Emails(1, 3)), (1, FuzzValues.Emails(1, SpecLimits.ContactsMax)))
        select JsonText.Object(("contacts", JsonText.Array(contacts.Select(JsonText.Of)))),
        LongestEmails.Select(contacts => new Fuzzed<JsonText.Obj>(
            JsonText.Object(("contacts", JsonText.Array(contacts.Value.Select(JsonText.Of)))), contacts.Verdict, "contacts " + contacts.Label)));

    /// <summary>Random JSON of bounded depth: scalars at the edges, arrays, objects with odd and repeated keys.</summary>
    public static Gen<JsonText> AnyJson { get; } = Gen.Sized(size => Json(Math.Min(4, (size / 20) + 1)));

    /// <summary>A body for a route that reads none: usually absent, sometimes junk, never a reason to refuse.</summary>
    public static Gen<Fuzzed<byte[]?>> Ignored { get; } = Gen.Frequency(
            (6, Gen.Constant<byte[]?>(null)),
            (2, AnyJson.Select(j => (byte[]?)j.ToBytes())),
            (1, Gen.Elements(InvalidUtf8).Select(b => (byte[]?)b)),
            (1, Gen.Constant<byte[]?>([])))
        .Select(b => Fuzzed.Valid(b, "ignored body"));

    /// <summary>Every kind of body for a route that reads a <paramref name="schema"/> body.</summary>
    public static Gen<Fuzzed<byte[]?>> For(BodySchema schema) => Gen.Frequency(
        (5, schema.Valid.SelectMany(EscapedOrNot).Select(b => Fuzzed.Valid<byte[]?>(b.ToBytes(), "valid " + schema.Name))),
        (10, Mutated(schema)),
        (2, Structural(schema)),
        (3, Corrupted(schema)),
        (1, SizeEdges(schema)),
        (1, schema.Largest.SelectMany(b => EscapedOrNot(b.Value).Select(e => new Fuzzed<byte[]?>(e.ToBytes(), b.Verdict, b.Label)))),
        (2, Garbage));

    private static Gen<Fuzzed<byte[]?>> Mutated(BodySchema schema) =>
        from body in schema.Valid
        from field in Gen.Elements(schema.Fields.ToArray())
        from index in Gen.Choose(0, SpecLimits.ContactsMax)
        from mutated in Mutate(body, field, index)
        from escaped in EscapedOrNot(mutated.Value)
        select new Fuzzed<byte[]?>(escaped.ToBytes(), mutated.Verdict, mutated.Label);

    private static Gen<Fuzzed<JsonText>> Mutate(JsonText.Obj body, FieldRule field, int index)
    {
        var current = field.IsItem ? null : field.Parent is { } parent ? (body[parent] as JsonText.Obj)?[field.Name] : body[field.Name];
        var choices = new List<(int, Gen<Fuzzed<JsonText>>)>
        {
            (8, ReplacementsFor(field).Select(r => new Fuzzed<JsonText>(
                BodySchema.Update(body, field, index, _ => r.Value), Judge(field, r), $"{field} := {r.Label}"))),
            (1, Gen.Constant(new Fuzzed<JsonText>(
                BodySchema.Update(body, field, index, _ => null), Removed(body, field), $"{field} removed"))),
            (1, Gen.Constant(Fuzzed.Invalid<JsonText>(DuplicateOf(body, field, current), $"{field} twice"))),
        };
        if (field.Kind == FieldKind.String)
        {
            choices.Add((2, Gen.Elements(InvalidUtf8).Select(bytes => Fuzzed.Invalid<JsonText>(
                BodySchema.Update(body, field, index, v => v is JsonText.Str s ? s with { Raw = bytes } : new JsonText.Str("x", Raw: bytes)),
                $"{field} holds invalid UTF-8 {Hex(bytes)}"))));
        }

        return Gen.Frequency(choices.ToArray());
    }

    private static JsonText.Obj DuplicateOf(JsonText.Obj body, FieldRule field, JsonText? current)
    {
        if (field.IsItem)
        {
            // The same address again in another case: one mailbox listed twice.
            var array = (JsonText.Arr)body[field.Name]!;
            var first = (JsonText.Str)array.Items[0];
            return body.Set(field.Name, new JsonText.Arr([.. array.Items, new JsonText.Str(first.Text.Trim().ToUpperInvariant())]));
        }

        return BodySchema.Duplicate(body, field, current ?? JsonText.Null);
    }

    private static Verdict Removed(JsonText.Obj body, FieldRule field) =>
        field.IsItem ? (BodySchema.Count(body, field) > 1 ? Verdict.Valid : Verdict.Invalid)
        : field.Required ? Verdict.Invalid : Verdict.Valid;

    private static Verdict Judge(FieldRule field, Replacement replacement)
    {
        if (replacement.Fixed is { } verdict)
        {
            return verdict;
        }

        if (replacement.Kind is not { } kind)
        {
            return field.Required || field.IsItem ? Verdict.Invalid : Verdict.Valid;
        }

        if (kind != field.Kind)
        {
            return Verdict.Invalid;
        }

        return kind switch
        {
            FieldKind.String => field.Text?.Invoke(replacement.Text!) ?? Verdict.Unknown,
            FieldKind.Number => field.Number?.Invoke(replacement.Text!) ?? Verdict.Unknown,
            FieldKind.Boolean => Verdict.Valid,
            _ => Verdict.Unknown,
        };
    }

    private static Gen<Replacement> ReplacementsFor(FieldRule field)
    {
        var choices = new List<(int, Gen<Replacement>)> { (3, OtherValues) };
        if (field.Kind == FieldKind.String)
        {
            choices.Add((4, FuzzText.Hostile.Select(s => new Replacement(JsonText.Of(s), FieldKind.String, "hostile " + FuzzText.Show(s), s))));
            choices.Add((1, Gen.Elements("NaN", "Infinity", "-0", "12", "true", "null", "", " ").Select(s => new Replacement(JsonText.Of(s), FieldKind.String, $"string \"{s}\"", s))));
        }

        if (field.Kind == FieldKind.Number)
        {
            choices.Add((4, Gen.Elements(EdgeNumbers).Select(n => new Replacement(JsonText.Number(n), FieldKind.Number, "number " + Shorten(n), n))));
        }

        if (field.Samples is { Count: > 0 } samples)
        {
            choices.Add((3, Gen.Elements(samples.ToArray()).Select(s => new Replacement(JsonText.Of(s.Value), FieldKind.String, s.Label + " " + FuzzText.Show(s.Value), s.Value, s.Verdict))));
        }

        return Gen.Frequency(choices.ToArray());
    }

    /// <summary>Values of every JSON kind, at the edges, plus nesting past the depth limit and tokens that are not JSON.</summary>
    private static Gen<Replacement> OtherValues { get; } = Gen.Frequency(
        (3, Gen.Elements(EdgeNumbers).Select(n => new Replacement(JsonText.Number(n), FieldKind.Number, "number " + Shorten(n), n))),
        (1, Gen.Elements(MalformedTokens).Select(t => new Replacement(new JsonText.Token(t), null, "not JSON: " + FuzzText.Show(t), Fixed: Verdict.Invalid))),
        (2, Gen.Elements(
            new Replacement(JsonText.True, FieldKind.Boolean, "true"),
            new Replacement(JsonText.False, FieldKind.Boolean, "false"),
            new Replacement(JsonText.Null, null, "null"))),
        (2, FuzzText.Hostile.Select(s => new Replacement(JsonText.Of(s), FieldKind.String, "hostile " + FuzzText.Show(s), s))),
        (1, Gen.Elements(
            new Replacement(JsonText.Array([]), FieldKind.Array, "[]"),
            new Replacement(JsonText.Array([JsonText.Number("1"), JsonText.Of("a")]), FieldKind.Array, "[1,\"a\"]"),
            new Replacement(JsonText.Object(), FieldKind.Object, "{}"),
            new Replacement(JsonText.Object(("id", JsonText.Of("C-1")), ("name", JsonText.Of("Acme"))), FieldKind.Object, "a customer-shaped object"))),
        (1, Gen.Choose(1, 14).Select(depth => new Replacement(new JsonText.Token(Nest(depth)), FieldKind.Array, $"arrays nested {depth} deep"))),
        (1, Gen.Elements(16, 17, 64, 1000, 100_000).Select(depth => new Replacement(new JsonText.Token(Nest(depth)), FieldKind.Array, $"arrays nested {depth} deep (past the limit)", Fixed: Verdict.Invalid))),
        (1, AnyJson.Select(Classify)));

    /// <summary>Whole-body changes: unknown members, non-object roots, keys in the wrong case.</summary>
    private static Gen<Fuzzed<byte[]?>> Structural(BodySchema schema) =>
        from body in schema.Valid
        from key in Gen.Elements(StrangeKeys)
        from value in AnyJson
        from shape in Gen.Choose(0, 5)
        let first = body.Members[0].Name.Text
        let result = shape switch
        {
            0 => Fuzzed.Invalid<JsonText>(body.Append(key, value), $"unknown member {FuzzText.Show(key)}"),
            1 => Fuzzed.Invalid<JsonText>(body.Append(new JsonText.Str("x", Raw: [0xFF]), value), "member name with invalid UTF-8"),
            2 => Fuzzed.Invalid<JsonText>(JsonText.Array([body]), "body inside an array"),
            3 => Fuzzed.Invalid<JsonText>(new JsonText.Obj([.. body.Members.Select(m => m.Name.Text == first ? m with { Name = new JsonText.Str(first.ToUpperInvariant()) } : m)]), $"member '{first}' in upper case"),
            4 => Fuzzed.Valid<JsonText>(new JsonText.Obj([.. body.Members.Select(m => m with { Name = m.Name with { EscapeAll = true } })]) , "member names as \\u escapes"),
            _ => Fuzzed.Invalid<JsonText>(body.Append(first, body.Members[0].Value), $"member '{first}' twice, same value"),
        }
        select new Fuzzed<byte[]?>(result.Value.ToBytes(), result.Verdict, result.Label);

    /// <summary>The bytes of a valid body, damaged.</summary>
    private static Gen<Fuzzed<byte[]?>> Corrupted(BodySchema schema) =>
        from body in schema.Valid
        let bytes = body.ToBytes()
        from cut in Gen.Choose(0, bytes.Length - 1)
        from bad in Gen.Elements(InvalidUtf8)
        from at in Gen.Choose(0, bytes.Length)
        from shape in Gen.Choose(0, 9)
        select shape switch
        {
            0 or 1 => Fuzzed.Invalid<byte[]?>(bytes[..cut], $"truncated to {cut} of {bytes.Length} bytes"),
            2 => Fuzzed.Invalid<byte[]?>([.. bytes[..at], .. bad, .. bytes[at..]], $"invalid UTF-8 {Hex(bad)} at byte {at}"),
            3 => Fuzzed.Invalid<byte[]?>([.. bytes, .. Encoding.UTF8.GetBytes(TrailingJunk[cut % TrailingJunk.Length])], $"trailing {FuzzText.Show(TrailingJunk[cut % TrailingJunk.Length])}"),
            4 => Fuzzed.Valid<byte[]?>([.. " \r\n\t"u8, .. bytes, .. " \r\n\t"u8], "surrounded by JSON whitespace"),
            5 => Fuzzed.Unknown<byte[]?>([0xEF, 0xBB, 0xBF, .. bytes], "UTF-8 byte order mark"),
            6 => Fuzzed.Invalid<byte[]?>([.. "{/*c*/"u8, .. bytes[1..]], "a comment"),
            7 => Fuzzed.Invalid<byte[]?>([.. bytes[..^1], .. ",}"u8], "a trailing comma"),
            8 => Fuzzed.Invalid<byte[]?>([.. bytes.Select(b => b == (byte)'"' ? (byte)'\'' : b)], "single quotes"),
            _ => Fuzzed.Invalid<byte[]?>(Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(bytes)), "UTF-16 instead of UTF-8"),
        };

    private static readonly string[] TrailingJunk = ["x", "{}", ",", "]", "}", "\0", "//c", "/*c*/", "\u00a0", "null", "\u2028"];

    /// <summary>Bodies at the 64 KiB limit: padded to exactly the limit (accepted) or one byte past it, with and without a length.</summary>
    private static Gen<Fuzzed<byte[]?>> SizeEdges(BodySchema schema) =>
        from body in schema.Valid
        let bytes = body.ToBytes()
        from size in Gen.Elements(SpecLimits.BodyMaxBytes - 1, SpecLimits.BodyMaxBytes, SpecLimits.BodyMaxBytes + 1, SpecLimits.BodyMaxBytes + 8192, 1 << 20)
        let padded = Pad(bytes, size)
        select new Fuzzed<byte[]?>(padded, padded.Length <= SpecLimits.BodyMaxBytes ? Verdict.Valid : Verdict.Invalid, $"padded to {padded.Length} bytes");

    /// <summary>Bodies that are no request at all.</summary>
    private static Gen<Fuzzed<byte[]?>> Garbage { get; } = Gen.Frequency(
        (3, AnyJson.Select(j => Fuzzed.Invalid<byte[]?>(j.ToBytes(), "random JSON"))),
        (1, Gen.Constant(Fuzzed.Invalid<byte[]?>(null, "no body"))),
        (1, Gen.Elements<byte[]>([], " "u8.ToArray(), "null"u8.ToArray(), "{"u8.ToArray(), "\"{}\""u8.ToArray(), [0])
            .Select(b => Fuzzed.Invalid<byte[]?>(b, "nearly nothing"))),
        (1, Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf().Select(b => Fuzzed.Invalid<byte[]?>(b, "random bytes"))),
        (1, Gen.Elements(17, 1000, 100_000).Select(depth => Fuzzed.Invalid<byte[]?>(Encoding.ASCII.GetBytes(Nest(depth)), $"arrays nested {depth} deep"))),
        (1, Gen.Elements(17, 1000).Select(depth => Fuzzed.Invalid<byte[]?>(
            Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)), $"objects nested {depth} deep"))),
        (1, Gen.Elements(SpecLimits.BodyMaxBytes - 2, SpecLimits.BodyMaxBytes, 70_000).Select(n => Fuzzed.Invalid<byte[]?>(
            Encoding.ASCII.GetBytes("\"" + new string('A', n - 2) + "\""), $"a JSON string of {n} bytes"))));

    private static Gen<JsonText> Json(int depth)
    {
        var scalar = Gen.Frequency(
            (2, Gen.Elements(EdgeNumbers).Select(n => (JsonText)JsonText.Number(n))),
            (2, FuzzText.Hostile.Select(s => (JsonText)JsonText.Of(s))),
            (2, FuzzText.Word.Select(s => (JsonText)JsonText.Of(s))),
            (1, Gen.Elements<JsonText>(JsonText.True, JsonText.False, JsonText.Null, JsonText.Of("NaN"), JsonText.Of("-Infinity"))));
        if (depth <= 0)
        {
            return scalar;
        }

        var inner = Json(depth - 1);
        var array = Gen.Choose(0, 4).SelectMany(n => inner.ArrayOf(n)).Select(items => (JsonText)JsonText.Array(items));
        var member = from key in Gen.Frequency((2, Gen.Elements("a", "b", "a")), (1, Gen.Elements(StrangeKeys)))
                     from value in inner
                     select new JsonText.Member(JsonText.Of(key), value);
        var obj = Gen.Choose(0, 4).SelectMany(n => member.ArrayOf(n)).Select(members => (JsonText)new JsonText.Obj(members));
        return Gen.Frequency((3, scalar), (1, array), (1, obj));
    }

    /// <summary>The same body with every string written as <c>\u</c> escapes, or not: both are the same JSON.</summary>
    private static Gen<JsonText> EscapedOrNot(JsonText body) =>
        Gen.Elements(false, false, false, true).Select(escape => escape ? EscapeAll(body) : body);

    private static JsonText EscapeAll(JsonText json) => json switch
    {
        JsonText.Str s => s with { EscapeAll = true },
        JsonText.Arr a => new JsonText.Arr([.. a.Items.Select(EscapeAll)]),
        JsonText.Obj o => new JsonText.Obj([.. o.Members.Select(m => new JsonText.Member(m.Name with { EscapeAll = true }, EscapeAll(m.Value)))]),
        _ => json,
    };

    private static Gen<JsonText?> Optional(Gen<JsonText> value) =>
        Gen.Frequency((2, Gen.Constant<JsonText?>(null)), (1, Gen.Constant<JsonText?>(JsonText.Null)), (3, value.Select(v => (JsonText?)v)));

    private static JsonText.Obj WithOptional(JsonText.Obj body, string name, JsonText? value) =>
        value is null ? body : body.Append(name, value);

    /// <summary>R6: a renewal is 1-60 whole months. Integers decide; whole numbers written as decimals or exponents are undecided.</summary>
    private static Verdict Months(string literal)
    {
        if (IntegerLiteral().IsMatch(literal))
        {
            var value = BigInteger.Parse(literal, CultureInfo.InvariantCulture);
            return value >= SpecLimits.RenewalMonthsMin && value <= SpecLimits.RenewalMonthsMax ? Verdict.Valid : Verdict.Invalid;
        }

        return double.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
               && double.IsFinite(number) && number == Math.Floor(number) && number >= SpecLimits.RenewalMonthsMin && number <= SpecLimits.RenewalMonthsMax
            ? Verdict.Unknown
            : Verdict.Invalid;
    }

    /// <summary>Spaces after the opening brace until the body is <paramref name="size"/> bytes long.</summary>
    private static byte[] Pad(byte[] body, int size)
    {
        var padded = new byte[Math.Max(size, body.Length)];
        padded[0] = (byte)'{';
        padded.AsSpan(1, padded.Length - body.Length).Fill((byte)' ');
        body.AsSpan(1).CopyTo(padded.AsSpan(1 + padded.Length - body.Length));
        return padded;
    }

    /// <summary>What a random JSON value is, for judging it as a field's value.</summary>
    private static Replacement Classify(JsonText json) => json switch
    {
        JsonText.Str s => new Replacement(s, FieldKind.String, "random string " + FuzzText.Show(s.Text), s.Text),
        JsonText.Obj => new Replacement(json, FieldKind.Object, "random object"),
        JsonText.Arr => new Replacement(json, FieldKind.Array, "random array"),
        JsonText.Token { Text: "true" or "false" } t => new Replacement(json, FieldKind.Boolean, t.Text),
        JsonText.Token { Text: "null" } => new Replacement(json, null, "null"),
        JsonText.Token t => new Replacement(json, FieldKind.Number, "number " + Shorten(t.Text), t.Text),
        _ => throw new ArgumentOutOfRangeException(nameof(json)),
    };

    private static string Nest(int depth) => new string('[', depth) + new string(']', depth);

    private static string Hex(byte[] bytes) => string.Concat(bytes.Select(b => $"\\x{b:x2}"));

    private static string Shorten(string text) => text.Length > 30 ? $"{text[..20]}...({text.Length} chars)" : text;

    [GeneratedRegex("^-?(0|[1-9][0-9]*)\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerLiteral();
}
