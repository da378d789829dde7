using System.Globalization;
using NodaTime;
using Smp.Core.Mail.Templates;

namespace Smp.Core.Tests.Mail;

/// <summary>Mail does not follow the machine's culture: the same model renders the same bytes everywhere.</summary>
public class MailCultureTests
{
    [Theory]
    [InlineData("de-DE")]
    [InlineData("ar-SA")]
    public void Dates_are_written_in_english_whatever_the_current_culture(string cultureName)
    {
        var culture = CultureInfo.GetCultureInfo(cultureName);
        // The culture must really be foreign, or this test would prove nothing.
        Assert.NotEqual("1 March 2027", new DateTime(2027, 3, 1).ToString("d MMMM yyyy", culture));

        var expected = RenderAllUnder(CultureInfo.InvariantCulture);
        var actual = RenderAllUnder(culture);

        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, mail) in expected)
        {
            Assert.Equal(mail, actual[name]);
        }

        var reminder = actual["reminder-90-two-dates"];
        Assert.Contains("1 April 2027", reminder.PlainText, StringComparison.Ordinal);
        Assert.Contains("1 March 2027", reminder.PlainText, StringComparison.Ordinal);
        Assert.Contains("1 March 2027", reminder.Html, StringComparison.Ordinal);
        Assert.Equal("1 April 2027", WithCulture(culture, () => MailDates.Format(new LocalDate(2027, 4, 1))));
    }

    private static Dictionary<string, MailContent> RenderAllUnder(CultureInfo culture) =>
        WithCulture(culture, () => MailFixtures.Cases.ToDictionary(c => c.Key, c => c.Value()));

    private static T WithCulture<T>(CultureInfo culture, Func<T> action)
    {
        var (previous, previousUi) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = culture;
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
            CultureInfo.CurrentUICulture = previousUi;
        }
    }
}
