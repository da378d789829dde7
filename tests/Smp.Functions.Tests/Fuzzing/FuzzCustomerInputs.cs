using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>One field of a customer page's query or form: its values, how the route reads it, and what the contract says.</summary>
/// <param name="Single">Read as one value (missing or repeated is refused); otherwise repeated values are joined with commas.</param>
/// <param name="Optional">May be left out (read as empty).</param>
public sealed record FormField(string Name, Gen<string> Values, Func<string, Verdict> Judge, bool Single = true, bool Optional = false);

/// <summary>
/// Generators for the update, mail and customer routes: versions, mail ids, the queries of the pages and of
/// password links, and the one-button forms the pages post.
/// </summary>
public static class FuzzCustomerInputs
{
    /// <summary>Versions stored before the run (see <see cref="FuzzData.SeedAsync"/>) and a few new ones.</summary>
    public static readonly string[] KnownVersions = [FuzzData.ReleasedVersion, FuzzData.UnreleasedVersion, "3.1", "1.97"];

    /// <summary>The query that asks the password route's call to open a genuine link (made by the app) for the route's version.</summary>
    public const string GenuineLink = "genuine-link";

    /// <summary>The same, with one character of the signature changed.</summary>
    public const string TamperedLink = "tampered-link";

    public static readonly string[] VersionNearMisses =
    [
        "1_96", "1/96", "1-96", "1,96", "1 96", "v1.96 beta", "1.96\0", "\uff11.96", "1.9\u0336", "1.96%2F", "1.96#", "1.96?", "..\\",
        new('9', 20), new('9', 21), " " + new string('9', 20) + " ", "", " ", ".", "..", "\u00a0", "1.\u0130",
    ];

    public static Gen<string> ValidVersion { get; } =
        from version in Gen.Frequency(
            (5, Gen.Elements(KnownVersions)),
            (1, from length in Gen.Choose(1, 20)
                from chars in Gen.Elements("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.".ToCharArray()).ArrayOf(length)
                select new string(chars)))
        from lower in Gen.Elements(false, false, true)
        from pad in Gen.Elements("", "", "", " ", "\t", "\u3000")
        select pad + (lower ? version.ToLowerInvariant() : version) + pad;

    public static Gen<string> VersionText { get; } = Gen.Frequency(
        (5, ValidVersion), (2, Gen.Elements(VersionNearMisses)), (3, FuzzText.Hostile));

    /// <summary>A version in a route: judged by the version rule.</summary>
    public static Gen<Fuzzed<string>> Version { get; } =
        VersionText.Select(v => new Fuzzed<string>(v, FuzzOracles.Version(v), "version"));

    public static Gen<string> SerialText { get; } = Gen.Frequency(
        (5, FuzzValues.ValidSerial), (2, Gen.Elements(FuzzValues.SerialNearMisses)), (3, FuzzText.Hostile));

    public static Gen<string> ScopeText { get; } = Gen.Frequency(
        (5, Gen.Elements("license", "customer")),
        (2, Gen.Elements("", "License", "CUSTOMER", " license", "customer ", "both", "license,customer", "licence", "customer\0", "null")),
        (1, FuzzText.Hostile));

    private static Gen<Guid> AnyGuid { get; } = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(16).Select(b => new Guid(b));

    /// <summary>Mail ids in a route: the failed mail stored before the run, unknown GUIDs in every notation, and text that is no GUID.</summary>
    public static Gen<Fuzzed<string>> MailId { get; } =
        Gen.Frequency(
                (4, Gen.Elements(FuzzData.FailedMailIds)),
                (1, Gen.Elements(FuzzData.FailedMailIds).Select(id => id.ToUpperInvariant())),
                (3, AnyGuid.Select(g => g.ToString("D"))),
                (2, from guid in AnyGuid
                    from format in Gen.Elements("N", "B", "P", "X")
                    select guid.ToString(format)),
                (2, Gen.Elements(FuzzData.FailedMailIds).SelectMany(id => Gen.Elements(
                    " " + id, id + " ", id[..35], id + "0", id.Replace('-', '_'), id.Replace('a', 'g'), "\u0430" + id[1..], id + "\0", id[..8], ""))),
                (2, FuzzText.Hostile))
            .Select(s => new Fuzzed<string>(s, FuzzOracles.MailId(s), "mail id"));

    public static FormField SerialField { get; } = new("serial", SerialText, FuzzOracles.Serial);

    public static FormField VersionField { get; } = new("version", VersionText, FuzzOracles.Version);

    public static FormField ScopeField { get; } = new("scope", ScopeText, FuzzOracles.Scope, Single: false, Optional: true);

    /// <summary>
    /// Query strings of a page that reads <paramref name="fields"/> with <c>Query[name].ToString()</c>: several values are
    /// joined, a missing one is empty. Judged as the host decodes the query.
    /// </summary>
    public static Gen<Fuzzed<string?>> PageQuery(params FormField[] fields)
    {
        var rules = fields.ToDictionary(f => f.Name, f => f.Judge, StringComparer.OrdinalIgnoreCase);
        return Pairs(fields, forForm: false).Select(q => new Fuzzed<string?>(q.Text, FuzzOracles.PageQuery(q.Text, rules), "page query"));
    }

    /// <summary>Query strings of a password link: well-formed ones with any values, broken ones, and genuine links made by the app.</summary>
    public static Gen<Fuzzed<string?>> PasswordLinkQuery { get; } = Gen.Frequency(
        (6, Pairs(
                [
                    SerialField,
                    new FormField("expires", Gen.Frequency(
                        (4, Gen.Choose(1_700_000_000, 1_800_000_000).Select(n => n.ToString(CultureInfo.InvariantCulture))),
                        (2, Gen.Elements("0", "253402300799", "253402300800", "999999999999", "1000000000000", "-1", "1e9", "1774000000.5", " 1774000000", "\uff11\uff17", "0x10", "")),
                        (1, FuzzText.Hostile)), _ => Verdict.Unknown),
                    new FormField("sig", Gen.Frequency(
                        (4, Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".ToCharArray()).ArrayOf(43).Select(c => new string(c))),
                        (1, Gen.Elements("", "=", "AAAA", new string('A', 44), new string('A', 1000))),
                        (1, FuzzText.Hostile)), _ => Verdict.Unknown),
                ],
                forForm: false)
            .Select(q => new Fuzzed<string?>(q.Text, FuzzOracles.PasswordLinkQuery(q.Text), "link query"))),
        (3, Gen.Elements(FuzzData.StoredSerials).SelectMany(serial => Gen.Elements(GenuineLink, TamperedLink)
            .Select(kind => Fuzzed.Valid<string?>($"{kind}={serial}", kind + " for " + serial)))));

    /// <summary>Query strings of the failed-mail list: <c>status=failed</c> and everything near it.</summary>
    public static Gen<Fuzzed<string?>> MailQuery { get; } = Gen.Frequency<string?>(
            (1, Gen.Constant<string?>(null)),
            (4, Gen.Elements<string?>("status=failed", "STATUS=failed", "Status=failed", "status=%66ailed", "status=failed&x=1", "x=&status=failed")),
            (3, Gen.Elements<string?>("", "status=", "status", "status=FAILED", "status=failed&status=failed", "status=failed&status=", "status=sent",
                "status=pending", "status=failed%00", "status=+failed", "status=failed,sent", "status[]=failed")),
            (1, FuzzValues.Garbage.Select(g => (string?)g)),
            (1, FuzzText.Hostile.Select(h => (string?)("status=" + Encode(h)))))
        .Select(q => new Fuzzed<string?>(q, FuzzOracles.MailQuery(q), "mail query"));

    /// <summary>
    /// Bodies of a page's one-button form (<c>application/x-www-form-urlencoded</c>). A field not in
    /// <paramref name="fields"/> is refused, as are forms past the size, key or field-count limits.
    /// </summary>
    public static Gen<Fuzzed<byte[]?>> Form(params FormField[] fields) => Gen.Frequency(
        (8, Pairs(fields, forForm: true).Select(q => new Fuzzed<byte[]?>(Encoding.ASCII.GetBytes(q.Text), q.Noisy ? Verdict.Unknown : JudgeForm(q.Pairs, fields), q.Noisy ? "form with noise" : "form"))),
        (1, from valid in Pairs(fields, forForm: true).Where(q => !q.Noisy)
            from shape in Gen.Choose(0, 3)
            select shape switch
            {
                0 => Fuzzed.Invalid<byte[]?>(Encoding.ASCII.GetBytes(valid.Text + string.Concat(Enumerable.Range(0, 20).Select(i => $"&f{i}=1"))), "form with 20 more fields"),
                1 => Fuzzed.Invalid<byte[]?>(Encoding.ASCII.GetBytes(valid.Text + "&" + new string('k', 65) + "=1"), "form with a 65-character key"),
                2 => Fuzzed.Invalid<byte[]?>(Encoding.ASCII.GetBytes(valid.Text + "&pad=" + new string('p', 70_000)), "form with a 70,000-character value"),
                _ => Fuzzed.Invalid<byte[]?>(Encoding.ASCII.GetBytes(valid.Text + "&" + new string('&', 70_000)), "form past 64 KiB"),
            }),
        (1, Gen.Elements<byte[]?>(null, [], [0xFF, 0xFE], "%"u8.ToArray(), "serial"u8.ToArray(), "{\"serial\":\"FZ-1\"}"u8.ToArray())
            .Select(b => Fuzzed.Unknown(b, "odd form bytes"))));

    /// <summary>Percent-encodes the UTF-8 of <paramref name="value"/> (a lone surrogate becomes U+FFFD), leaving only unreserved characters.</summary>
    public static string Encode(string value, bool plusForSpace = false)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else if (b == (byte)' ' && plusForSpace)
            {
                builder.Append('+');
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return builder.ToString();
    }

    /// <summary>The text the server reads after decoding <see cref="Encode"/>'s output.</summary>
    public static string Decoded(string value) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value));

    private sealed record Pairs_(string Text, IReadOnlyList<(string Name, string Value)> Pairs, bool Noisy);

    /// <summary>Name-value lists in every shape: complete, a field missing or twice, an unknown field, noise around them, pure noise.</summary>
    private static Gen<Pairs_> Pairs(FormField[] fields, bool forForm) =>
        from values in Gen.CollectToArray(fields, f => f.Values)
        from shape in Gen.Choose(0, 9)
        from pick in Gen.Choose(0, fields.Length - 1)
        from omitOptional in Gen.Elements(false, false, true)
        from plus in Gen.Elements(false, true)
        from noise in FuzzValues.Garbage
        from reversed in Gen.Elements(false, true)
        let all = fields.Select((f, i) => (f.Name, Value: values[i])).Where((p, i) => !(fields[i].Optional && omitOptional)).ToList()
        let pairs = shape switch
        {
            4 => [.. all.Where(p => p.Name != fields[pick].Name)],
            5 => [.. all, (fields[pick].Name, values[pick])],
            6 => [.. all, (forForm ? "extra" : "utm_source", "mail")],
            _ => all,
        }
        let ordered = reversed ? Enumerable.Reverse(pairs).ToList() : pairs
        let text = string.Join("&", ordered.Select(p => Encode(p.Name) + "=" + Encode(p.Value, plus)))
        select shape switch
        {
            7 => new Pairs_(noise + "&" + text, ordered, Noisy: true),
            8 => new Pairs_(noise, [], Noisy: true),
            _ => new Pairs_(text, ordered, Noisy: false),
        };

    private static Verdict JudgeForm(IReadOnlyList<(string Name, string Value)> pairs, FormField[] fields)
    {
        if (pairs.Any(p => !fields.Any(f => f.Name == p.Name)))
        {
            return Verdict.Invalid;
        }

        return Fuzzed.Combine(fields.Select(f =>
        {
            var values = pairs.Where(p => p.Name == f.Name).Select(p => Decoded(p.Value)).ToList();
            return f.Single
                ? values.Count == 1 ? f.Judge(values[0]) : Verdict.Invalid
                : f.Judge(string.Join(",", values));
        }));
    }
}
