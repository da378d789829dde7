using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace Smp.Core.Mail.Templates;

/// <summary>
/// Dates as every mail writes them: "1 April 2027", English and unambiguous whatever the machine's
/// culture is (SPEC section 4). Never 04/01/2027.
/// </summary>
public static class MailDates
{
    private static readonly LocalDatePattern Pattern = LocalDatePattern.Create("d MMMM uuuu", CultureInfo.InvariantCulture);

    public static string Format(LocalDate date) => Pattern.Format(date.WithCalendar(CalendarSystem.Iso));
}
