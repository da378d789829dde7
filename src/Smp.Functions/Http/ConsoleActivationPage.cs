using System.Text;
using NodaTime;
using NodaTime.Text;
using static Smp.Functions.Http.ConsolePages;

namespace Smp.Functions.Http;

/// <summary>
/// The console's activation form (SPEC section 8, the staff action of <c>POST /api/activations</c>): its fields carry
/// the API body's names (<c>customer.id</c>, <c>contacts</c>), so every error names the field it is about.
/// </summary>
public static class ConsoleActivationPage
{
    private static readonly LocalDateTimePattern LocalPattern = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm");

    public static string Body(string token, ConsoleFormState? refused, Instant now, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var errors = refused?.Errors;
        string Value(string name, string fallback = "") => refused?.Value(name, fallback) ?? fallback;
        var contactsError = ErrorFor(errors, "contacts");
        var training = Value("onSiteTraining") == "true";
        var inner = new StringBuilder()
            .Append(Field("serial", "serial", "Serial", Value("serial"), errors, extra: " required maxlength=\"32\""))
            .Append(Field("product", "product", "Product (optional)", Value("product"), errors, extra: " maxlength=\"100\""))
            .Append(Field("customer-id", "customer.id", "Customer id", Value("customer.id"), errors, extra: " required maxlength=\"64\""))
            .Append(Field("customer-name", "customer.name", "Customer name", Value("customer.name"), errors, extra: " required maxlength=\"200\""))
            .Append("<p class=\"field\"><label for=\"contacts\">Contact email addresses, one per line</label><textarea id=\"contacts\" name=\"contacts\" rows=\"3\" required")
            .Append(contactsError is null ? string.Empty : " aria-invalid=\"true\" aria-describedby=\"contacts-error\"").Append('>').Append(H(Value("contacts"))).Append("</textarea>")
            .Append(contactsError is null ? string.Empty : "<span class=\"error\" id=\"contacts-error\">Contacts: " + H(contactsError) + "</span>").Append("</p>")
            .Append("<p class=\"field\"><input type=\"checkbox\" id=\"onSiteTraining\" name=\"onSiteTraining\" value=\"true\"").Append(training ? " checked" : string.Empty)
            .Append("><label for=\"onSiteTraining\">On-site training was ordered</label></p>")
            .Append(Field(
                "activationEmailSentAt",
                "activationEmailSentAt",
                "Activation email sent at (" + zone.Id + ")",
                Value("activationEmailSentAt", LocalPattern.Format(now.InZone(zone).LocalDateTime)),
                errors,
                "datetime-local",
                " required"));
        return ErrorSummary(errors) + Form("/console/activations", token, inner.ToString(), "Record the activation");
    }

    /// <summary>
    /// The form's local date and time in the business time zone as the API's instant with offset; anything else is
    /// passed on as typed, so the API's reader refuses it naming <c>activationEmailSentAt</c>.
    /// </summary>
    public static string InstantText(string local, DateTimeZone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var parsed = LocalPattern.Parse(local);
        if (!parsed.Success)
        {
            parsed = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss").Parse(local);
        }

        return parsed.Success
            ? OffsetDateTimePattern.ExtendedIso.Format(parsed.Value.InZoneLeniently(zone).ToOffsetDateTime())
            : local;
    }
}
