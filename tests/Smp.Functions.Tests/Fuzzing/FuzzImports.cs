using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// What the import routes read (SPEC section 9): CSV files with the content type they are sent as, and import ids,
/// among them the id of an import stored before the run (<see cref="FuzzData.StoredImportId"/>).
/// </summary>
public static class FuzzImports
{
    /// <summary>A file section 9 accepts: the header, two good rows and rows the job reports as invalid (still a 202).</summary>
    public static readonly string ValidFile = ImportApiTests.Sample;

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>Files with what the contract says about starting an import of them (rows are judged later, by the job).</summary>
    public static Gen<Fuzzed<byte[]?>> Files { get; } = Gen.Frequency(
        (4, Gen.Constant(Fuzzed.Valid<byte[]?>(Encoding.UTF8.GetBytes(ValidFile), "a valid file"))),
        (2, Gen.Constant(Fuzzed.Valid<byte[]?>([.. Bom, .. Encoding.UTF8.GetBytes(ValidFile)], "a valid file with a byte-order mark"))),
        (1, Gen.Constant(Fuzzed.Valid<byte[]?>(Encoding.UTF8.GetBytes(ValidFile.Replace("\r\n", "\n", StringComparison.Ordinal)), "a valid file with LF line ends"))),
        (1, Gen.Constant(Fuzzed.Invalid<byte[]?>(
            Encoding.UTF8.GetBytes("serial,customerName,contacts,expiresOn\r\nVT-1,Acme,a@acme.example,2027-04-01\r\n"), "a header without customerId"))),
        (1, Gen.Constant(Fuzzed.Invalid<byte[]?>(
            [.. Encoding.UTF8.GetBytes(ValidFile[..ValidFile.IndexOf("Acme", StringComparison.Ordinal)]), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\r\n")],
            "a file that is not UTF-8"))),
        (1, Gen.Constant(Fuzzed.Invalid<byte[]?>(Encoding.UTF8.GetBytes("""{"serial":"VT-1"}"""), "JSON, not CSV"))),
        (1, Gen.Elements<byte[]?>(null, []).Select(b => Fuzzed.Unknown(b, "no file"))),
        (1, FuzzText.Hostile.Select(s => Fuzzed.Unknown<byte[]?>(Encoding.UTF8.GetBytes(s), "hostile text"))));

    /// <summary>Content types: mostly text/csv (any case, with parameters); anything else is refused.</summary>
    public static Gen<(Fuzzed<string?> Value, string? Raw)> ContentTypes { get; } = Gen.Frequency(
        (6, Gen.Elements<string?>("text/csv", "text/csv; charset=utf-8", "Text/CSV").Select(c => (Fuzzed.Valid(c, "text/csv"), c))),
        (1, FuzzValues.ContentType.Select(c => (Fuzzed.Invalid(c, "not text/csv"), c))));

    /// <summary>A CSV body and the content type it is sent as; the verdict is the stronger of the two.</summary>
    public static Gen<(Fuzzed<byte[]?> Body, string? ContentType)> Payloads { get; } =
        from file in Files
        from type in ContentTypes
        select (new Fuzzed<byte[]?>(file.Value, Fuzzed.Combine([file.Verdict, type.Value.Verdict]), $"{file.Label} as {type.Value.Label}"), type.Raw);

    /// <summary>The dryRun query: true or false, else refused.</summary>
    public static Gen<Fuzzed<string?>> Query { get; } = Gen.Frequency(
        (4, Gen.Elements<string?>("dryRun=true", "dryRun=false").Select(q => Fuzzed.Valid(q, "dryRun"))),
        (1, Gen.Elements<string?>("dryRun=maybe", "dryRun=TRUE", "dryRun=", null).Select(q => Fuzzed.Invalid(q, "dryRun missing or not true/false"))),

        // Query names are matched without regard to case by the host, on every route.
        (1, Gen.Constant(Fuzzed.Unknown<string?>("dryrun=true", "dryRun spelt in another case"))));
}
