using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Smp.Core.Imports;
using Smp.Core.Plans;
using static Smp.Core.Tests.Given;

namespace Smp.Core.Tests.Imports;

/// <summary>SPEC section 9: the import file's format (RFC 4180, UTF-8, header by name), its limits and per-row validation.</summary>
public class ImportFileTests
{
    private const string Header = "serial,customerId,customerName,contacts,expiresOn";

    private static ImportFile Open(string text, bool bom = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var file = ImportFile.Open(bom ? [0xEF, 0xBB, 0xBF, .. bytes] : bytes, out var errors);
        Assert.True(file is not null, string.Join("; ", errors.Select(e => e.Message)));
        return file!;
    }

    private static IReadOnlyList<ImportError> HeaderErrors(byte[] bytes)
    {
        Assert.Null(ImportFile.Open(bytes, out var errors));
        Assert.NotEmpty(errors);
        return errors;
    }

    private static IReadOnlyList<ImportError> HeaderErrors(string text) => HeaderErrors(Encoding.UTF8.GetBytes(text));

    private static ImportFileRow Single(string row) => Assert.Single(Open(Header + "\n" + row + "\n").Rows());

    private static ImportError SingleError(string row) => Assert.Single(Single(row).Errors);

    [Theory]
    [InlineData("\r\n", false)]
    [InlineData("\n", false)]
    [InlineData("\r\n", true)]
    [InlineData("\r", true)]
    public void Section9_reads_CRLF_LF_and_a_byte_order_mark(string newline, bool bom)
    {
        var text = "SERIAL,CustomerID,customername,Contacts,EXPIRESON,note" + newline
            + "vt-1,C-1,\"Acme, Inc.\",a@acme.example; b@acme.example,2027-04-01,\"said \"\"hi\"\"" + newline + "twice\"" + newline;

        var row = Assert.Single(Open(text, bom).Rows());

        Assert.Empty(row.Errors);
        Assert.Equal(Serial.Parse("VT-1"), row.Row!.Serial);
        Assert.Equal("Acme, Inc.", row.Row.Customer.Name);
        Assert.Equal(["a@acme.example", "b@acme.example"], row.Row.Contacts.Select(c => c.Value));
        Assert.Equal("said \"hi\"" + newline + "twice", row.Row.Note);
        Assert.Equal(Date("2027-04-01"), row.Row.Plan.ExpiresOn);
        Assert.Equal(2, row.RowNumber);
    }

    [Fact]
    public void Section9_header_with_unknown_duplicated_and_missing_columns_names_each()
    {
        var errors = HeaderErrors("serial,customerId,CUSTOMERID,contacts,colour\r\nVT-1,C,C,a@b.example,red\r\n");

        Assert.Contains(errors, e => e.Column == "colour");
        Assert.Contains(errors, e => e.Column == ImportColumns.CustomerId && e.Message.Contains("more than once"));
        Assert.Contains(errors, e => e.Column == ImportColumns.CustomerName);
        Assert.Contains(errors, e => e.Column == ImportColumns.ExpiresOn);
        Assert.All(errors, e => Assert.Equal(1, e.Row));
    }

    [Fact]
    public void Section9_empty_file_and_wrong_encoding_are_refused_before_any_row()
    {
        Assert.Contains("empty", HeaderErrors(string.Empty).Single().Message);
        var latin1 = Encoding.Latin1.GetBytes(Header + "\nVT-1,C-1,Müller,a@b.example,2027-04-01\n");
        Assert.Contains("UTF-8", HeaderErrors(latin1).Single().Message);
    }

    [Fact]
    public void Section9_a_quote_left_open_makes_that_row_invalid_and_ends_the_file()
    {
        var rows = Open(Header + "\nVT-1,C-1,\"Acme,a@b.example,2027-04-01\nVT-2,C-2,Beta,b@b.example,2027-04-01\n").Rows().ToList();

        var row = Assert.Single(rows);
        Assert.Null(row.Row);
        Assert.Contains("not closed", Assert.Single(row.Errors).Message);
    }

    [Fact]
    public void Section9_a_million_column_line_is_one_invalid_row_and_the_next_rows_still_count()
    {
        var text = Header + "\n" + new string(',', 1_000_000) + "\nVT-2,C-2,Beta,b@b.example,2027-04-01\n";

        var rows = Open(text).Rows().ToList();

        Assert.Equal(2, rows.Count);
        Assert.Contains($"more than {CsvRecords.MaxCells} cells", Assert.Single(rows[0].Errors).Message);
        Assert.NotNull(rows[1].Row);
        Assert.Equal(3, rows[1].RowNumber);
    }

    [Fact]
    public void Section9_ten_MiB_in_one_row_is_a_clear_row_error_and_over_ten_MiB_is_refused()
    {
        var big = Header + "\nVT-1,C-1,\"" + new string('x', ImportFile.MaxBytes - 100) + "\",a@b.example,2027-04-01\n";
        Assert.Contains($"longer than {CsvRecords.MaxCellLength}", SingleError(big[(Header.Length + 1)..^1]).Message);

        Assert.Contains("larger than 10 MiB", HeaderErrors(new byte[ImportFile.MaxBytes + 1]).Single().Message);
    }

    [Theory]
    [InlineData("VT 1,C-1,Acme,a@b.example,2027-04-01", ImportColumns.Serial)]
    [InlineData("VT-1,C-1,Acme,not-an-address,2027-04-01", ImportColumns.Contacts)]
    [InlineData("VT-1,C-1,Acme,,2027-04-01", ImportColumns.Contacts)]
    [InlineData("VT-1,,Acme,a@b.example,2027-04-01", ImportColumns.CustomerId)]
    [InlineData("VT-1,C-1,\"=HYPERLINK(\"\"x\"\")\",a@b.example,2027-04-01", ImportColumns.CustomerName)]
    [InlineData("VT-1,C-1,Acme,a@b.example,", ImportColumns.ExpiresOn)]
    public void Section9_a_bad_cell_is_an_error_naming_its_row_and_column(string row, string column)
    {
        var result = Single(row);

        Assert.Null(result.Row);
        Assert.Equal((2, column), (Assert.Single(result.Errors).Row, result.Errors[0].Column));
    }

    [Theory]
    [InlineData("3/14/2026")]
    [InlineData("14.03.2026")]
    [InlineData("2026-3-14")]
    [InlineData("46095")]
    public void Section9_spreadsheet_dates_are_refused_naming_yyyy_MM_dd(string date)
    {
        var error = SingleError($"VT-1,C-1,Acme,a@b.example,{date}");

        Assert.Equal(ImportColumns.ExpiresOn, error.Column);
        Assert.Contains("yyyy-MM-dd", error.Message);
    }

    [Fact]
    public void Section9_planStart_not_the_first_and_expiresOn_not_after_start_are_refused()
    {
        const string header = "serial,customerId,customerName,contacts,planStart,expiresOn,note,onSiteTraining";
        var rows = Open(header + "\n"
            + "VT-1,C,Acme,a@b.example,2026-04-02,2027-04-01,,\n"
            + "VT-2,C,Acme,a@b.example,2026-04-01,2026-04-01,,\n"
            + "VT-3,C,Acme,a@b.example,2026-04-01,2027-04-01," + new string('n', 501) + ",\n"
            + "VT-4,C,Acme,a@b.example,2026-04-01,2027-04-01,,maybe\n"
            + "VT-5,C,Acme,a@b.example,2026-04-01,2027-04-01," + new string('n', 500) + ",YES\n").Rows().ToList();

        Assert.Equal(ImportColumns.PlanStart, Assert.Single(rows[0].Errors).Column);
        Assert.Equal(ImportColumns.ExpiresOn, Assert.Single(rows[1].Errors).Column);
        Assert.Equal(ImportColumns.Note, Assert.Single(rows[2].Errors).Column);
        Assert.Equal(ImportColumns.OnSiteTraining, Assert.Single(rows[3].Errors).Column);
        Assert.True(rows[4].Row!.OnSiteTraining);
    }

    [Fact]
    public void Section9_a_serial_twice_in_one_file_makes_the_second_a_duplicate()
    {
        var rows = Open(Header + "\nVT-1,C,Acme,a@b.example,2027-04-01\nVT-2,C,Acme,a@b.example,2027-04-01\nvt-1 ,C,Other,a@b.example,2027-05-01\n").Rows().ToList();

        Assert.Equal([null, null, 2], rows.Select(r => r.DuplicateOf));
    }

    [Fact]
    public void Section9_text_the_export_guarded_with_an_apostrophe_reads_back_as_written()
    {
        var row = Single("VT-1,C-1,'=Acme,a@b.example,2027-04-01");

        Assert.Equal("=Acme", row.Row!.Customer.Name);
    }

    [Property(Replay = Smp.Core.Tests.Properties.PropertySeeds.Replay, MaxTest = 500)]
    public void Section9_any_text_reads_without_throwing_and_within_the_limits(NonNull<string> body)
    {
        var file = ImportFile.Open(Encoding.UTF8.GetBytes(Header + "\n" + body.Get), out _);
        foreach (var row in file?.Rows() ?? [])
        {
            Assert.True(row.Row is not null || row.Errors.Count > 0);
        }

        foreach (var record in CsvRecords.Read(body.Get))
        {
            Assert.InRange(record.Cells.Count, 1, CsvRecords.MaxCells);
            Assert.All(record.Cells, c => Assert.InRange(c.Length, 0, CsvRecords.MaxCellLength));
        }
    }
}
