using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Secrets;

public class UpdateVersionTests
{
    [Theory]
    [InlineData("1.96", "1.96")]
    [InlineData("  1.96\t", "1.96")]
    [InlineData("1.96b", "1.96B")]
    [InlineData("2026.1RC2", "2026.1RC2")]
    [InlineData("12345678901234567890", "12345678901234567890")]
    public void Valid_versions_are_trimmed_and_upper_cased(string raw, string expected) =>
        Assert.Equal(expected, UpdateVersion.Parse(raw).Value);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1-96")]
    [InlineData("1_96")]
    [InlineData("1 96")]
    [InlineData("1/96")]
    [InlineData("1.96é")]
    [InlineData("123456789012345678901")]
    [InlineData(null)]
    public void Invalid_versions_are_refused(string? raw) => Assert.False(UpdateVersion.TryParse(raw, out _));

    [Fact]
    public void Versions_differing_only_by_case_are_one_version() =>
        Assert.Equal(UpdateVersion.Parse("1.96a"), UpdateVersion.Parse("1.96A"));
}
