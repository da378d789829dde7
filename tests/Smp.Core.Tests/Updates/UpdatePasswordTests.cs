using NodaTime;
using Smp.Core.Plans;
using Smp.Core.Updates;

namespace Smp.Core.Tests.Updates;

public class UpdatePasswordTests
{
    [Theory]
    [InlineData("x")]
    [InlineData("Tube-Bend 1.96 / päss <&> \"ok\"")]
    [InlineData("inner  spaces are fine")]
    public void A_password_of_1_to_200_printable_characters_is_accepted(string password) =>
        Assert.Null(UpdatePassword.Problem(password));

    [Fact]
    public void Two_hundred_characters_is_the_limit() =>
        Assert.Equal([true, false], new[] { 200, 201 }.Select(n => UpdatePassword.Problem(new string('x', n)) is null));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" leading")]
    [InlineData("trailing ")]
    [InlineData("tab\tinside")]
    [InlineData("line\nbreak")]
    [InlineData("nul\0")]
    public void Empty_padded_or_control_characters_are_refused_without_quoting_the_value(string? password)
    {
        var problem = UpdatePassword.Problem(password);

        Assert.NotNull(problem);
        if (!string.IsNullOrEmpty(password))
        {
            Assert.DoesNotContain(password.Trim(), problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_link_expiring_at_midnight_works_until_the_day_before()
    {
        var calendar = new BusinessCalendar(new NodaTime.Testing.FakeClock(Instant.FromUtc(2026, 3, 20, 16, 0)), Given.BusinessZone);
        var midnight = new LocalDateTime(2026, 3, 27, 0, 0).InZoneStrictly(Given.BusinessZone).ToInstant();

        Assert.Equal(new LocalDate(2026, 3, 26), PasswordLinks.LastDayOf(midnight, calendar));
        Assert.Equal(new LocalDate(2026, 3, 27), PasswordLinks.LastDayOf(midnight + Duration.FromSeconds(1), calendar));
    }
}
