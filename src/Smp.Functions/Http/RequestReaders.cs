using System.Collections.Immutable;
using System.Text.Json;
using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Functions.Http;

/// <summary>Turns request JSON and route values into validated commands, recording every bad field.</summary>
public static class RequestReaders
{
    public const int MaxContacts = 20;
    public const int MaxCustomerIdLength = 64;
    public const int MaxNameLength = 200;
    public const int MaxProductLength = 100;
    public const int MaxOrderReferenceLength = 64;

    /// <summary>How far in the future an activation email's instant may lie (clock skew between systems).</summary>
    public static readonly Duration AllowedClockSkew = Duration.FromMinutes(5);

    public static Serial? Serial(string? raw, ValidationErrors errors, string field = "serial")
    {
        if (Smp.Core.Plans.Serial.TryParse(raw, out var serial))
        {
            return serial;
        }

        errors.Add(field, raw is null ? "The field is required." : "A serial is 1-32 characters of A-Z, a-z, 0-9 and '-'.");
        return null;
    }

    public static ActivationRequest? Activation(JsonDocument body, ValidationErrors errors, Instant now)
    {
        var fields = new JsonFields(body.RootElement, errors);
        var serialField = fields.Get("serial", required: true, JsonValueKind.String, "a string");
        Serial? serial = serialField is { } s ? Serial(s.GetString(), errors) : null;
        var product = fields.String("product", required: false, MaxProductLength);
        var customer = Customer(fields, errors);
        var contacts = Contacts(fields, errors);
        var training = fields.Boolean("onSiteTraining", required: true);
        var sentAt = fields.Instant("activationEmailSentAt", required: true);
        if (sentAt > now + AllowedClockSkew)
        {
            fields.Error("activationEmailSentAt", "The activation email cannot have been sent in the future.");
        }

        fields.RefuseUnknown();
        return errors.Any
            ? null
            : new ActivationRequest(serial!.Value, product, customer!, contacts!.Value, training!.Value, sentAt!.Value);
    }

    public static RenewalRequest? Renewal(JsonDocument body, ValidationErrors errors, Instant now)
    {
        var fields = new JsonFields(body.RootElement, errors);
        var orderReference = fields.String("orderReference", required: true, MaxOrderReferenceLength);
        var months = fields.Integer("months", required: false, PlanRules.MinRenewalMonths, PlanRules.MaxRenewalMonths);
        var paidAt = fields.Instant("paidAt", required: false);
        if (paidAt > now + AllowedClockSkew)
        {
            fields.Error("paidAt", "A payment cannot lie in the future.");
        }

        fields.RefuseUnknown();
        return errors.Any ? null : new RenewalRequest(orderReference!, months ?? PlanRules.DefaultRenewalMonths, paidAt);
    }

    /// <summary>At most this many characters of a replacement's reason.</summary>
    public const int MaxReasonLength = 500;

    /// <summary>
    /// SPEC section 10: <c>{newSerial, reason?}</c>. A new serial equal to <paramref name="serial"/> (the dongle being
    /// replaced) is a bad <c>newSerial</c>.
    /// </summary>
    public static (Serial NewSerial, string? Reason)? Replacement(JsonDocument body, Serial? serial, ValidationErrors errors)
    {
        var fields = new JsonFields(body.RootElement, errors);
        var newSerialField = fields.Get("newSerial", required: true, JsonValueKind.String, "a string");
        Serial? newSerial = newSerialField is { } s ? Serial(s.GetString(), errors, "newSerial") : null;
        if (newSerial is { } parsed && parsed == serial)
        {
            fields.Error("newSerial", "The new serial must differ from the serial of the dongle it replaces.");
        }

        var reason = fields.String("reason", required: false, MaxReasonLength);
        fields.RefuseUnknown();
        return errors.Any ? null : (newSerial!.Value, reason);
    }

    public static ImmutableArray<EmailAddress>? ContactsBody(JsonDocument body, ValidationErrors errors)
    {
        var fields = new JsonFields(body.RootElement, errors);
        var contacts = Contacts(fields, errors);
        fields.RefuseUnknown();
        return errors.Any ? null : contacts;
    }

    public static string? CustomerId(string? raw, ValidationErrors errors, string field = "customerId")
    {
        var trimmed = raw?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxCustomerIdLength || trimmed.Any(char.IsControl))
        {
            errors.Add(field, $"A customer id is 1-{MaxCustomerIdLength} characters without control characters.");
            return null;
        }

        return trimmed;
    }

    private static Customer? Customer(JsonFields fields, ValidationErrors errors)
    {
        var customer = fields.Object("customer", required: true);
        if (customer is null)
        {
            return null;
        }

        var id = customer.String("id", required: true, MaxCustomerIdLength);
        var name = customer.String("name", required: true, MaxNameLength);
        customer.RefuseUnknown();
        return id is null || name is null ? null : new Customer(id, name);
    }

    private static ImmutableArray<EmailAddress>? Contacts(JsonFields fields, ValidationErrors errors)
    {
        if (fields.Array("contacts", required: true) is not { } array)
        {
            return null;
        }

        var count = array.GetArrayLength();
        if (count is 0 or > MaxContacts)
        {
            fields.Error("contacts", $"Between 1 and {MaxContacts} email addresses are required.");
            return null;
        }

        var contacts = ImmutableArray.CreateBuilder<EmailAddress>(count);
        var index = 0;
        var valid = true;
        foreach (var item in array.EnumerateArray())
        {
            var path = $"{fields.Path("contacts")}[{index++}]";
            if (item.ValueKind != JsonValueKind.String || !EmailAddress.TryParse(item.GetString(), out var address))
            {
                errors.Add(path, "Expected an email address such as name@example.com.");
                valid = false;
            }
            else if (contacts.Contains(address))
            {
                errors.Add(path, "The address is listed twice.");
                valid = false;
            }
            else
            {
                contacts.Add(address);
            }
        }

        return valid ? contacts.MoveToImmutable() : null;
    }
}
