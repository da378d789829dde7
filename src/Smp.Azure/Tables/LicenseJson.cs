using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Serialization.SystemTextJson;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Azure.Tables;

/// <summary>
/// The stored form of a license's facts (schema 1). Deliberately separate from the domain records: the
/// domain may rename or reshape its types, while stored licenses keep this shape until a new schema
/// number, with its own reader, is introduced.
/// </summary>
internal sealed record LicenseJson(
    int Schema,
    string Serial,
    ActivationJson Activation,
    IReadOnlyList<string> Contacts,
    IReadOnlyList<RenewalJson> Renewals,
    LocalDate? TrainingRecordedOn = null,
    IReadOnlyList<ReminderJson>? Reminders = null,
    string? ReplacementOf = null,
    ReplacementJson? Replacement = null,
    ImportedJson? Imported = null);

/// <summary>A dongle replacement on the old license (added to schema 1 as an optional member: older rows have none).</summary>
internal sealed record ReplacementJson(
    string NewSerial,
    string? Reason,
    Instant RequestedAt,
    string Actor,
    string CorrelationId,
    bool Completed,
    string? ActorId = null);

/// <summary>The dates of an imported plan (added to schema 1 as an optional member: activated licenses have none).</summary>
internal sealed record ImportedJson(LocalDate? ActivationEmailSentOn, LocalDate Start, LocalDate ExpiresOn);

/// <summary>A reminder sent or missed (added to schema 1 as an optional member: older rows have none).</summary>
internal sealed record ReminderJson(
    int DaysBefore,
    LocalDate ExpiresOn,
    string Outcome,
    Instant At,
    string? MailId = null,
    LocalDate? DueOn = null);

internal sealed record ActivationJson(
    string Product,
    string CustomerId,
    string CustomerName,
    IReadOnlyList<string> Contacts,
    bool OnSiteTraining,
    Instant EmailSentAt,
    LocalDate EmailSentOn);

internal sealed record RenewalJson(
    string OrderReference,
    int Months,
    Instant RecordedAt,
    LocalDate RecordedOn,
    Instant? PaidAt = null);

/// <summary>Maps licenses and event data to and from their stored JSON.</summary>
internal static class LicenseJsonMapper
{
    public const int CurrentSchema = 1;

    private static readonly JsonSerializerOptions Options = CreateOptions();

    public static string Serialize(License license)
    {
        ArgumentNullException.ThrowIfNull(license);
        var activation = license.Activation;
        var document = new LicenseJson(
            CurrentSchema,
            license.Serial.Value,
            new ActivationJson(
                activation.Product,
                activation.Customer.Id,
                activation.Customer.Name,
                [.. activation.Contacts.Select(c => c.Value)],
                activation.OnSiteTraining,
                activation.EmailSentAt,
                activation.EmailSentOn),
            [.. license.Contacts.Select(c => c.Value)],
            [.. license.Renewals.Select(r => new RenewalJson(r.OrderReference, r.Months, r.RecordedAt, r.RecordedOn, r.PaidAt))],
            license.TrainingRecordedOn,
            [.. license.Reminders.Select(r => new ReminderJson(r.Stage.DaysBefore, r.ExpiresOn, r.Outcome.ToString(), r.At, r.MailId, r.DueOn))],
            license.ReplacementOf?.Value,
            license.Replacement is { } replacement
                ? new ReplacementJson(replacement.NewSerial.Value, replacement.Reason, replacement.RequestedAt, replacement.Actor, replacement.CorrelationId, replacement.Completed, replacement.ActorId)
                : null,
            license.Imported is { } imported ? new ImportedJson(imported.ActivationEmailSentOn, imported.Start, imported.ExpiresOn) : null);
        return JsonSerializer.Serialize(document, Options);
    }

    public static License Deserialize(int schema, string json)
    {
        if (schema != CurrentSchema)
        {
            throw new NotSupportedException($"A stored license has schema {schema}; this version reads schema {CurrentSchema} only.");
        }

        var document = JsonSerializer.Deserialize<LicenseJson>(json, Options)
            ?? throw new JsonException("A stored license is empty.");
        if (document.Schema != schema)
        {
            throw new JsonException($"A stored license says schema {document.Schema} but its row says {schema}.");
        }

        var activation = document.Activation;
        return new License(
            Smp.Core.Plans.Serial.Parse(document.Serial),
            new Activation(
                activation.Product,
                new Customer(activation.CustomerId, activation.CustomerName),
                [.. activation.Contacts.Select(EmailAddress.Parse)],
                activation.OnSiteTraining,
                activation.EmailSentAt,
                activation.EmailSentOn),
            [.. document.Contacts.Select(EmailAddress.Parse)],
            document.TrainingRecordedOn,
            [.. document.Renewals.Select(r => new Renewal(r.OrderReference, r.Months, r.RecordedAt, r.RecordedOn, r.PaidAt))])
        {
            Reminders = [.. (document.Reminders ?? []).Select(r => new ReminderRecord(
                new ReminderStage(r.DaysBefore),
                r.ExpiresOn,
                Enum.Parse<ReminderOutcome>(r.Outcome),
                r.At,
                r.MailId,
                r.DueOn))],
            ReplacementOf = document.ReplacementOf is { } replacementOf ? Smp.Core.Plans.Serial.Parse(replacementOf) : null,
            Replacement = document.Replacement is { } replacement
                ? new Replacement(Smp.Core.Plans.Serial.Parse(replacement.NewSerial), replacement.Reason, replacement.RequestedAt, replacement.Actor, replacement.CorrelationId, replacement.Completed, replacement.ActorId)
                : null,
            Imported = document.Imported is { } imported ? new ImportedPlan(imported.ActivationEmailSentOn, imported.Start, imported.ExpiresOn) : null,
        };
    }

    public static string SerializeEventData(IReadOnlyDictionary<string, string> data) => JsonSerializer.Serialize(data, Options);

    public static ImmutableSortedDictionary<string, string> DeserializeEventData(string json) =>
        (JsonSerializer.Deserialize<Dictionary<string, string>>(json, Options) ?? throw new JsonException("Stored event data is empty."))
            .ToImmutableSortedDictionary(StringComparer.Ordinal);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        };
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
