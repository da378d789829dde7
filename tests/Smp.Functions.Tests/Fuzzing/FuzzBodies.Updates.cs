using FsCheck;
using FsCheck.Fluent;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>The JSON bodies of the update, password-link and customer request routes.</summary>
public static partial class FuzzBodies
{
    private static FieldRule SerialRule { get; } = new(
        "serial", FieldKind.String, true, FuzzOracles.Serial,
        Samples: [.. FuzzValues.SerialNearMisses.Select(s => new Fuzzed<string>(s, FuzzOracles.Serial(s), "near-miss serial"))]);

    /// <summary><c>{serial}</c>: a request for the plan term.</summary>
    public static BodySchema TermRequest { get; } = new(
        "term request",
        [SerialRule],
        FuzzValues.ValidSerial.Select(serial => JsonText.Object(("serial", JsonText.Of(serial)))),
        Gen.Constant(Fuzzed.Valid(JsonText.Object(("serial", JsonText.Of(new string('Z', 32)))), "the longest serial")));

    /// <summary><c>{serial, scope?}</c>: a request for a renewal quotation.</summary>
    public static BodySchema QuoteRequest { get; } = new(
        "quote request",
        [
            SerialRule,
            new FieldRule("scope", FieldKind.String, false, FuzzOracles.Scope, Samples: [.. new[] { "", "License", "CUSTOMER", " license", "both", "license,customer" }.Select(s => new Fuzzed<string>(s, FuzzOracles.Scope(s), "near-miss scope"))]),
        ],
        from serial in FuzzValues.ValidSerial
        from scope in Optional(Gen.Elements("license", "customer").Select(s => (JsonText)JsonText.Of(s)))
        select WithOptional(JsonText.Object(("serial", JsonText.Of(serial))), "scope", scope),
        Gen.Constant(Fuzzed.Valid(JsonText.Object(("serial", JsonText.Of(new string('Z', 32))), ("scope", JsonText.Of("customer"))), "the longest serial")));

    /// <summary><c>{serial, version}</c>: a request for a new password link.</summary>
    public static BodySchema PasswordRequest { get; } = new(
        "password link request",
        [
            SerialRule,
            new FieldRule("version", FieldKind.String, true, FuzzOracles.Version, Samples: [.. FuzzCustomerInputs.VersionNearMisses.Select(v => new Fuzzed<string>(v, FuzzOracles.Version(v), "near-miss version"))]),
        ],
        from serial in FuzzValues.ValidSerial
        from version in FuzzCustomerInputs.ValidVersion
        select JsonText.Object(("serial", JsonText.Of(serial)), ("version", JsonText.Of(version))),
        Gen.Constant(Fuzzed.Valid(JsonText.Object(("serial", JsonText.Of(new string('Z', 32))), ("version", JsonText.Of(new string('9', 20)))), "the longest serial and version")));

    /// <summary>Passwords at the edges of the password rule.</summary>
    private static readonly Fuzzed<string>[] PasswordSamples =
    [
        Fuzzed.Valid("p", "one character"),
        Fuzzed.Valid(new string('p', 200), "200 characters"),
        Fuzzed.Invalid(new string('p', 201), "201 characters"),
        Fuzzed.Invalid(" secret", "leading space"),
        Fuzzed.Invalid("secret\u00a0", "trailing no-break space"),
        Fuzzed.Invalid("sec\nret", "line feed"),
        Fuzzed.Invalid("", "empty"),
        Fuzzed.Valid("a b", "inner space"),
        Fuzzed.Valid(FuzzData.OddText, "odd but valid text"),
        Fuzzed.Valid("<script>alert(1)</script>&amp;'\"", "markup"),
    ];

    /// <summary><c>{releasedOn, password?}</c>: publishing an update.</summary>
    public static BodySchema Publish { get; } = new(
        "publish",
        [
            new FieldRule("releasedOn", FieldKind.String, true, s => FuzzOracles.Date(s, out _), Samples: [.. new[] { "2026-02-29", "2026-03-16T00:00", "2026-3-16", " 2026-03-16", "20260316", "2026-03-16Z", "2026-03-16\0", "2026-03-16\u0001" }.Select(d => Fuzzed.Invalid(d, "near-miss date"))]),
            new FieldRule("password", FieldKind.String, false, FuzzOracles.Password, Samples: PasswordSamples),
        ],
        from releasedOn in Gen.Frequency((4, Gen.Elements(FuzzData.ReleasedOn, FuzzData.UnreleasedOn)), (1, FuzzValues.Date.Where(d => FuzzOracles.Date(d, out _) == Verdict.Valid)))
        from password in Optional(Gen.Frequency((3, Gen.Constant(UpdateApi.Password)), (1, FuzzText.Benign(200).Select(p => p.Trim()).Where(p => FuzzOracles.Password(p) == Verdict.Valid))).Select(p => (JsonText)JsonText.Of(p)))
        select WithOptional(JsonText.Object(("releasedOn", JsonText.Of(releasedOn))), "password", password),
        Gen.Elements(Letters).Select(letter => new Fuzzed<JsonText.Obj>(
            JsonText.Object(("releasedOn", JsonText.Of(FuzzData.ReleasedOn)), ("password", JsonText.Of(FuzzText.Repeat(letter, 200)))),
            FuzzOracles.Password(FuzzText.Repeat(letter, 200)),
            $"the longest password, in {FuzzText.Show(letter)}")));
}
