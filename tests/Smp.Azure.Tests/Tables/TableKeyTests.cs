using FsCheck.Xunit;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

public sealed class TableKeyTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>The fixed FsCheck seed ("seed,gamma") of the properties below, so a run replays exactly; FsCheck prints it with any failure.</summary>
    private const string FixedSeed = "20260314,20270303";

    private static CancellationToken Ct => CancellationToken.None;

    [Theory]
    [InlineData("ABC-123", "ABC-123")]
    [InlineData("acme.eu_1", "acme.eu_1")]
    [InlineData("", "~")]
    [InlineData("a/b", "a~002Fb")]
    [InlineData("~", "~007E")]
    [InlineData("O'Brien #1?", "O~0027Brien~0020~00231~003F")]
    [InlineData("\u0000\u009F", "~0000~009F")]
    [InlineData("😀", "~D83D~DE00")]
    public void Plain_characters_stay_and_every_other_one_is_escaped(string value, string key)
    {
        Assert.Equal(key, TableKey.Encode(value));
        Assert.Equal(value, TableKey.TryDecode(key));
    }

    [Fact]
    public void A_long_value_is_cut_and_hashed_within_the_limit()
    {
        var a = new string('x', 2000);
        var b = new string('x', 1999) + "y";

        Assert.Equal(TableKey.MaxLength, TableKey.Encode(a).Length);
        Assert.StartsWith("xxxx", TableKey.Encode(a), StringComparison.Ordinal);
        Assert.NotEqual(TableKey.Encode(a), TableKey.Encode(b));
        Assert.Null(TableKey.TryDecode(TableKey.Encode(a)));
    }

    [Property(Replay = FixedSeed, Arbitrary = [typeof(KeyInputs)], MaxTest = 300)]
    public void Every_encoded_key_is_a_valid_table_key(HostileText text)
    {
        var key = TableKey.Encode(text.Value);

        Assert.InRange(key.Length, 1, TableKey.MaxLength);
        Assert.DoesNotContain(key, c => c is '/' or '\\' or '#' or '?' || c <= '\u001F' || c is >= '\u007F' and <= '\u009F' || c > '\u007E');
        if (!key.Contains("~~", StringComparison.Ordinal))
        {
            Assert.Equal(text.Value, TableKey.TryDecode(key));
        }
    }

    [Property(Replay = FixedSeed, Arbitrary = [typeof(KeyInputs)], MaxTest = 300)]
    public void Different_values_never_share_a_key(HostileText first, HostileText second)
    {
        Assert.Equal(first.Value == second.Value, TableKey.Encode(first.Value) == TableKey.Encode(second.Value));
    }

    [Property(Replay = FixedSeed, Arbitrary = [typeof(KeyInputs)], MaxTest = 40)]
    public async Task Any_customer_id_and_name_round_trip_through_the_store_and_its_customer_index(HostileText customerId, HostileText customerName)
    {
        var t = StoreUnderTest.Create(azurite);
        var serial = TestLicenses.NewSerial();
        var change = TestLicenses.Activate(TestLicenses.Activation(serial, customerId.Value, customerName.Value));

        Assert.True(await t.Store.TryAddAsync(change.License, change.Event, Ct));

        var stored = await t.Store.GetAsync(serial, Ct);
        Assert.Equal(new Customer(customerId.Value, customerName.Value), stored!.License.Customer);
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListByCustomerAsync(customerId.Value, Ct))
        {
            listed.Add(license);
        }

        Assert.Equal([serial], listed.Select(l => l.License.Serial));
        Assert.Equal(change.Event.Data["customerId"], (await t.Store.GetEventsAsync(serial, Ct)).Single().Data["customerId"]);
    }

    [Fact]
    public async Task Quotes_in_a_customer_id_cannot_widen_the_query()
    {
        var t = StoreUnderTest.Create(azurite);
        var victim = TestLicenses.Activate(TestLicenses.NewSerial(), customerId: "VICTIM");
        Assert.True(await t.Store.TryAddAsync(victim.License, victim.Event, Ct));

        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListByCustomerAsync("x' or PartitionKey ne '", Ct))
        {
            listed.Add(license);
        }

        Assert.Empty(listed);
    }
}
