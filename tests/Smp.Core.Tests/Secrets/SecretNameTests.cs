using Smp.Core.Plans;
using Smp.Core.Secrets;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Secrets;

public class SecretNameTests
{
    [Theory]
    [InlineData("1.96", "smp-update-1-96")]
    [InlineData(" 2.0 ", "smp-update-2-0")]
    [InlineData("1.96b", "smp-update-1-96b")]
    [InlineData("1.96B", "smp-update-1-96b")]
    [InlineData("12345678901234567890", "smp-update-12345678901234567890")]
    public void An_update_password_is_named_after_the_version_with_dots_as_hyphens(string version, string expected)
    {
        var name = SecretName.ForUpdate(UpdateVersion.Parse(version));

        Assert.Equal(expected, name.Value);
        Assert.Equal(SecretName.UpdatePasswordPurpose, name.Purpose);
    }

    [Theory]
    [InlineData("1.9.6", "1.96")]
    [InlineData("1.96", "19.6")]
    [InlineData("1..96", "1.96")]
    public void Distinct_versions_never_share_a_secret(string a, string b) =>
        Assert.NotEqual(SecretName.ForUpdate(UpdateVersion.Parse(a)), SecretName.ForUpdate(UpdateVersion.Parse(b)));

    [Fact]
    public void The_link_signing_key_has_its_fixed_name() =>
        Assert.Equal("smp-link-signing-key", SecretName.LinkSigningKey.Value);

    [Fact]
    public void Names_are_case_insensitive_like_Key_Vault_names()
    {
        Assert.Equal(SecretName.Parse("smp-link-signing-key"), SecretName.Parse("SMP-Link-Signing-Key"));
        Assert.Equal(SecretName.LinkSigningPurpose, SecretName.Parse("SMP-LINK-SIGNING-KEY").Purpose);
    }

    [Theory]
    [InlineData("")]
    [InlineData("smp_update")]
    [InlineData("smp.update")]
    [InlineData("smp update")]
    [InlineData(" smp")]
    [InlineData("../etc/passwd")]
    [InlineData("smp/x")]
    [InlineData("smp-é")]
    [InlineData(null)]
    public void Invalid_names_are_refused(string? raw) => Assert.False(SecretName.TryParse(raw, out _));

    [Fact]
    public void Names_are_at_most_127_characters()
    {
        Assert.True(SecretName.TryParse(new string('a', 127), out _));
        Assert.False(SecretName.TryParse(new string('a', 128), out _));
    }

    [Fact]
    public void A_default_name_is_refused_by_the_argument_check() =>
        Assert.Throws<ArgumentException>(() => SecretArguments.ThrowIfInvalid(default));
}
