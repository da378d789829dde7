using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NodaTime;
using NodaTime.Text;
using Smp.TestSupport;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>Generators of single values: serials, customer ids, emails, instants, dates, query strings, headers.</summary>
public static class FuzzValues
{
    private static readonly LocalDateTimePattern LocalPattern = LocalDateTimePattern.ExtendedIso;
    private static readonly OffsetPattern OffsetText = OffsetPattern.CreateWithInvariantCulture("+HH:mm");

    /// <summary>Serials the contract accepts: stored ones, new ones from the pool, random ones; in any case, maybe padded with spaces.</summary>
    public static Gen<string> ValidSerial { get; } =
        from serial in Gen.Frequency(
            (4, Gen.Elements(FuzzData.StoredSerials)),
            (3, Gen.Elements(FuzzData.NewSerials)),
            (1, from length in Gen.Choose(1, 32)
                from chars in Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-".ToCharArray()).ArrayOf(length)
                select new string(chars)))
        from lower in Gen.Elements(false, false, true)
        from pad in Gen.Elements("", "", "", " ", "\t", "\u00a0", "\u3000")
        select pad + (lower ? serial.ToLowerInvariant() : serial) + pad;

    /// <summary>Near misses for R1: look-alikes, one character too many, forbidden key characters.</summary>
    public static readonly string[] SerialNearMisses =
    [
        "FZ-1\u200b", "\u0424Z-1", "\uff26\uff3a-1", "FZ_1", "FZ 1", "FZ-1\0", "FZ\u20131", "FZ/1", "FZ\\1", "FZ#1", "FZ?1",
        "FZ'1", "FZ-1'", "FZ%2F1", "FZ-\u0130", new('A', SpecLimits.SerialMaxLength), new('A', SpecLimits.SerialMaxLength + 1), "", " ", "\u0085", "-", "--", new('-', SpecLimits.SerialMaxLength),
    ];

    /// <summary>Any serial-shaped input, judged by R1.</summary>
    public static Gen<Fuzzed<string>> Serial { get; } =
        Gen.Frequency(
                (5, ValidSerial),
                (2, Gen.Elements(SerialNearMisses)),
                (3, FuzzText.Hostile))
            .Select(s => new Fuzzed<string>(s, FuzzOracles.Serial(s), "serial"));

    /// <summary>Customer ids for routes: the stored customer, in spaces; unknown ones; hostile ones.</summary>
    public static Gen<Fuzzed<string>> CustomerId { get; } =
        Gen.Frequency(
                (4, Gen.Elements(FuzzData.CustomerId, " " + FuzzData.CustomerId + " ", FuzzData.OddText, "acme/1#?'\\", "NOBODY", new string('C', SpecLimits.CustomerIdMaxLength), new string('C', SpecLimits.CustomerIdMaxLength + 1))),
                (2, FuzzText.Benign(SpecLimits.CustomerIdMaxLength)),
                (4, FuzzText.Hostile))
            .Select(s => new Fuzzed<string>(s, FuzzOracles.CustomerId(s), "customerId"));

    /// <summary>Any other route value: hostile text the function must survive, with no claim on the answer.</summary>
    public static Gen<Fuzzed<string>> AnyRouteValue { get; } =
        Gen.Frequency((1, FuzzText.Word), (3, FuzzText.Hostile)).Select(s => Fuzzed.Unknown(s, "route value"));

    /// <summary>A plain mailbox the contract accepts; <paramref name="index"/> makes every address of one list distinct.</summary>
    public static Gen<string> Email(int index) =>
        from local in FuzzText.Word
        from separator in Gen.Elements("", ".", "+", "-", "_")
        from tag in FuzzText.Word
        from host in FuzzText.Word
        from sub in Gen.Elements("", "mail.", "eu-west.")
        from tld in Gen.Elements("com", "de", "co.uk", "example", "io")
        from upper in Gen.Elements(false, false, true)
        from pad in Gen.Elements("", "", " ")
        let address = $"{local}{index.ToString(CultureInfo.InvariantCulture)}{(separator.Length == 0 ? "" : separator + tag)}@{sub}{host}.{tld}"
        select pad + (upper ? address.ToUpperInvariant() : address) + pad;

    public static Gen<string[]> Emails(int min, int max) =>
        from count in Gen.Choose(min, max)
        from emails in Gen.CollectToArray(Enumerable.Range(0, count), Email)
        select emails;

    /// <summary>Email-shaped inputs with what the contract says about them.</summary>
    public static readonly Fuzzed<string>[] EmailSamples =
    [
        Fuzzed.Invalid("not-an-email", "no @"),
        Fuzzed.Invalid("a@localhost", "domain without dot"),
        Fuzzed.Invalid("Name <a@example.com>", "display name"),
        Fuzzed.Invalid("a@example.com, b@example.com", "a list"),
        Fuzzed.Invalid("a b@example.com", "space"),
        Fuzzed.Invalid("a@exa\u0000mple.com", "NUL"),
        Fuzzed.Invalid("a\r\nBcc: x@example.com@example.com", "header injection"),
        Fuzzed.Invalid("a\ud800@example.com", "lone surrogate"),
        Fuzzed.Invalid(new string('a', 250) + "@example.com", "too long"),
        Fuzzed.Unknown("\"quoted\"@example.com", "quoted local part"),
        Fuzzed.Unknown("a@[127.0.0.1]", "address literal"),
        Fuzzed.Unknown("a@-example.com", "hyphen label"),
        Fuzzed.Unknown("a@example.com.", "trailing dot"),
        Fuzzed.Unknown("j\u00f6rg@b\u00fccher.de", "internationalized"),
        Fuzzed.Unknown("a\u202e@example.com", "RTL override"),
        Fuzzed.Valid("a@example.com", "plain"),
        Fuzzed.Valid(" a@example.com ", "padded"),
    ];

    /// <summary>An instant the contract accepts for a past event: ten years back up to the 5-minute clock skew allowed ahead.</summary>
    public static Gen<string> PastInstant { get; } =
        from secondsBack in Gen.Frequency(
            (6, Gen.Choose(0, 315_360_000)),
            (1, Gen.Elements(-300, -299, 0, 1, 86_400)))
        from offsetMinutes in Gen.Elements(0, 0, -360, -420, 60, 330, 345, -720, 840, 18 * 60, -18 * 60)
        from fraction in Gen.Elements(0, 0, 0, 1, 123_456_789, 500_000_000)
        from form in Gen.Choose(0, 2)
        select FormatInstant(FuzzData.Now - Duration.FromSeconds(secondsBack) - Duration.FromNanoseconds(fraction), offsetMinutes, form);

    /// <summary>Instant-shaped inputs at the edges, with what the contract says about them.</summary>
    public static readonly Fuzzed<string>[] InstantSamples =
    [
        Fuzzed.Valid("2026-03-20T16:05:00Z", "exactly the allowed skew ahead"),
        Fuzzed.Invalid("2026-03-20T16:05:00.000000001Z", "a nanosecond past the allowed skew"),
        Fuzzed.Invalid("2026-03-21T00:05:01+08:00", "a second past the allowed skew, in another zone"),
        Fuzzed.Valid("2026-03-21T00:05:00+08:00", "exactly the allowed skew, in another zone"),
        Fuzzed.Unknown("-9998-01-01T00:00:00Z", "earliest instant in UTC"),
        Fuzzed.Invalid("9999-12-31T23:59:59.999999999-18:00", "latest instant"),
        Fuzzed.Unknown("-9998-01-01T00:00:00+18:00", "earliest instant"),
        Fuzzed.Unknown("0001-01-01T00:00:00Z", "year 1"),
        Fuzzed.Unknown("1900-02-28T23:59:59-00:01", "long ago"),
        Fuzzed.Invalid("2026-02-29T10:00:00Z", "no such day"),
        Fuzzed.Unknown("2026-03-14T24:00:00Z", "hour 24 (end of day in ISO 8601:2004)"),
        Fuzzed.Invalid("2026-03-14T10:00:60Z", "second 60"),
        Fuzzed.Invalid("2026-03-14T10:00:00+24:00", "offset out of range"),
        Fuzzed.Invalid("2026-03-14", "date only"),
        Fuzzed.Invalid("2026-03-14T10:00:00", "no offset"),
        Fuzzed.Invalid("1773504000", "epoch seconds"),
        Fuzzed.Invalid("\uff12\uff10\uff12\uff16-03-14T10:00:00Z", "full-width digits"),
        Fuzzed.Invalid("2026-03-14T10:00:00\u221206:00", "minus sign"),
        Fuzzed.Invalid("2026-03-14T10:00:00Z\0", "trailing NUL"),
        Fuzzed.Unknown("2026-03-14t10:00:00z", "lower-case designators"),
        Fuzzed.Unknown("2026-03-14T10:00:00,5Z", "decimal comma"),
        Fuzzed.Unknown(" 2026-03-14T10:00:00Z", "leading space"),
        Fuzzed.Unknown("2026-03-14T10:00:00-06", "hour-only offset"),
        Fuzzed.Unknown("+2026-03-14T10:00:00Z", "signed year"),
    ];

    /// <summary>Dates for the expiring report, around the stored expiries and at the calendar's edges.</summary>
    public static Gen<string> Date { get; } = Gen.Frequency(
        (6, Gen.Choose(-400, 800).Select(days => Iso(new LocalDate(2026, 5, 1).PlusDays(days)))),
        (1, Gen.Elements("0001-01-01", "9999-12-31", "2028-02-29", "1970-01-01")),
        (1, Gen.Elements("2026-02-29", "2026-13-01", "2026-00-10", "2026-1-1", "20260501", "2026-05-01T00:00", "2026-05-01Z",
            " 2026-05-01", "2026-05-01 ", "\uff12\uff10\uff12\uff16-05-01", "2026\u201305\u201301", "-0001-01-01", "0000-01-01", "+2026-05-01",
            "10000-01-01", "2026-05-01\0", "'", "")),
        (1, FuzzText.Hostile));

    /// <summary>Raw query text a careless client or an attacker sends: broken escapes, empty keys, repeats, long values.</summary>
    public static Gen<string> Garbage { get; } = Gen.Frequency(
        (3, Gen.Elements("", "&", "&&", "=", "==", "%", "%Z", "%ZZ", "%C0%AF", "%FF%FE", "%ED%A0%80", "%00", "%u0041", "+", "a=1&a=2&a=",
            "from", "to=", "from=%", "to=%2", "?", "#frag", "a[]=1&a[0]=2", "%26from%3D2026-01-01")),
        (2, FuzzText.Hostile.Select(Uri.EscapeDataString)),
        (1, FuzzText.Hostile.Select(s => s.Replace("&", "", StringComparison.Ordinal))),
        (1, Gen.Choose(1000, 5000).Select(n => "x=" + new string('%', n))));

    /// <summary>Page sizes for the expiring report: 1-100, and near misses.</summary>
    public static Gen<string> Limit { get; } = Gen.Frequency(
        (3, Gen.Choose(1, SpecLimits.ReportPageSizeMax).Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Elements("0", "101", "-1", "1000", "01", "1.5", "1e2", " 5", "5 ", "ten", "", "2147483648", "5\0")));

    /// <summary>Continuation tokens for the expiring report: <c>yyyy-MM-dd_SERIAL</c> of a stored license or not, and near misses.</summary>
    public static Gen<string> ContinuationToken { get; } = Gen.Frequency(
        (3, Gen.Elements("2026-05-01_" + FuzzData.StoredSerials[0], "2027-04-01_" + FuzzData.StoredSerials[1], "2026-05-01_NOPE-1", "0001-01-01_A", "9999-12-31_Z")),
        (1, Gen.Elements("2026-05-01", "_VT-1", "2026-05-01_", "2026-05-01_vt-1", "2026-05-01_VT/1", "2026-05-01_VT-1_X", "2026-13-01_VT-1",
            "2026-05-01_VT-1\0", "2026-05-01\0_VT-1", "", "2026-05-01_" + new string('A', 33))),
        (1, FuzzText.Hostile));

    /// <summary>Query strings for <c>GET /api/reports/expiring</c>, judged as the host decodes them. Any range is answered (paged).</summary>
    public static Gen<Fuzzed<string?>> ExpiringQuery { get; } =
        from start in Date
        from span in Gen.Frequency(
            (4, Gen.Choose(0, 800)),
            (1, Gen.Elements(-1, 400, 401, 100_000, 3_652_058)))
        from limit in Limit
        from token in ContinuationToken
        from shape in Gen.Choose(0, 11)
        from noise in Garbage
        from escape in Gen.Elements(false, false, true)
        let f = escape ? EscapeAll(start) : Uri.EscapeDataString(start)
        let t = escape ? EscapeAll(Later(start, span)) : Uri.EscapeDataString(Later(start, span))
        let query = shape switch
        {
            0 or 1 or 2 => $"from={f}&to={t}",
            3 => $"to={t}&from={f}&{noise}",
            4 => $"from={f}&from={f}&to={t}",
            5 => $"from=&to={t}",
            6 => $"FROM={f}&To={t}",
            7 => $"from={f}",
            8 => $"{noise}&from={f}&to={t}&{noise}",
            9 => $"from={f}&to={t}&limit={Uri.EscapeDataString(limit)}",
            10 => $"from={f}&to={t}&limit={Uri.EscapeDataString(limit)}&continuationToken={Uri.EscapeDataString(token)}",
            _ => noise,
        }
        select new Fuzzed<string?>(query, FuzzOracles.ExpiringQuery(query), "expiring query");

    /// <summary>A query string for routes that read none.</summary>
    public static Gen<Fuzzed<string?>> IgnoredQuery { get; } = Gen.Frequency(
        (6, Gen.Constant<string?>(null)),
        (3, Garbage.Select(s => (string?)s)),
        (1, Gen.Constant<string?>("from=2026-01-01&to=2026-12-31")))
        .Select(q => Fuzzed.Valid(q, "ignored query"));

    public static Gen<string?> CorrelationId { get; } = Gen.Frequency(
        (6, Gen.Constant<string?>(null)),
        (2, FuzzText.Word.Select(s => (string?)s)),
        (1, FuzzText.Hostile.Select(s => (string?)s)),
        (1, Gen.Elements<string?>(new string('c', SpecLimits.CorrelationIdMaxLength), new string('c', SpecLimits.CorrelationIdMaxLength + 1), "", "-", "a\r\nX-Injected: 1")));

    public static Gen<string?> ContentType { get; } = Gen.Frequency(
        (8, Gen.Constant<string?>("application/json")),
        (1, Gen.Elements<string?>(null, "", "text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", "application/problem+json", "*/*", "application/json\r\nX: y")));

    /// <summary>Content types of the customer pages' forms, as browsers and scripts send them.</summary>
    public static Gen<string> FormContentType { get; } = Gen.Elements(
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-URLEncoded");

    /// <summary>Whether the request will be read as a form (what <c>HttpRequest.HasFormContentType</c> says).</summary>
    public static bool IsFormContentType(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase));

    private static string FormatInstant(Instant instant, int offsetMinutes, int form)
    {
        var offset = Offset.FromSeconds(offsetMinutes * 60);
        var local = instant.WithOffset(offset).LocalDateTime;
        var offsetText = offsetMinutes == 0 && form == 0 ? "Z" : OffsetText.Format(offset);
        if (form == 2 && local.Second == 0 && local.NanosecondOfSecond == 0)
        {
            return local.ToString("uuuu'-'MM'-'dd'T'HH':'mm", CultureInfo.InvariantCulture) + offsetText;
        }

        return LocalPattern.Format(local) + offsetText;
    }

    /// <summary>The date <paramref name="days"/> after a well-formed date, or the same text when it is not one.</summary>
    private static string Later(string date, int days) =>
        DateOnly.TryParseExact(date, "yyyy'-'MM'-'dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
        && start.DayNumber + (long)days is >= 0 and <= 3_652_058
            ? start.AddDays(days).ToString("yyyy'-'MM'-'dd", CultureInfo.InvariantCulture)
            : date;

    private static string Iso(LocalDate date) => LocalDatePattern.Iso.Format(date);

    /// <summary>Percent-encodes every byte, letters and digits included (legal, and a classic filter bypass).</summary>
    private static string EscapeAll(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
        }

        return builder.ToString();
    }
}
