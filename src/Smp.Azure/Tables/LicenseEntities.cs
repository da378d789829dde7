using System.Globalization;
using Azure.Data.Tables;
using NodaTime.Text;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Azure.Tables;

/// <summary>
/// The rows of the licenses table. Each license is one partition (the encoded serial) holding the
/// summary row <c>license</c> and one row <c>event-{version:D19}</c> per event, so a change and its
/// event commit in one entity group transaction.
/// </summary>
internal static class LicenseEntities
{
    public const string SummaryRowKey = "license";
    public const string EventRowKeyPrefix = "event-";

    /// <summary>Sorts just after every <see cref="EventRowKeyPrefix"/> row key ('.' follows '-').</summary>
    public const string EventRowKeyEnd = "event.";

    public const string SchemaColumn = "Schema";
    public const string SerialColumn = "Serial";
    public const string LicenseColumn = "License";
    public const string CustomerIdColumn = "CustomerId";
    public const string ExpiresOnColumn = "ExpiresOn";
    public const string VersionColumn = "Version";
    public const string TypeColumn = "Type";
    public const string AtColumn = "At";
    public const string ActorColumn = "Actor";
    public const string CorrelationIdColumn = "CorrelationId";
    public const string DataColumn = "Data";

    /// <summary>The signed-in person's object id; written only when a person caused the event, so older rows read as they are.</summary>
    public const string ActorIdColumn = "ActorId";

    public const int EventSchema = 1;

    /// <summary>A string property holds at most 64 KiB, that is 32 Ki UTF-16 characters.</summary>
    private const int MaxStringPropertyLength = 32 * 1024;

    public static string PartitionKey(Serial serial) => TableKey.Encode(serial.Value);

    public static string EventRowKey(long version) =>
        EventRowKeyPrefix + version.ToString("D19", CultureInfo.InvariantCulture);

    public static TableEntity Summary(License license, long version) =>
        new(PartitionKey(license.Serial), SummaryRowKey)
        {
            [SchemaColumn] = LicenseJsonMapper.CurrentSchema,
            [SerialColumn] = license.Serial.Value,
            [LicenseColumn] = Checked(LicenseJsonMapper.Serialize(license), license.Serial, "record"),
            [CustomerIdColumn] = license.Customer.Id,
            [ExpiresOnColumn] = LocalDatePattern.Iso.Format(license.ExpiresOn),
            [VersionColumn] = version,
        };

    public static StoredLicense ToStoredLicense(TableEntity summary)
    {
        var license = LicenseJsonMapper.Deserialize(
            summary.GetInt32(SchemaColumn) ?? throw Missing(summary, SchemaColumn),
            summary.GetString(LicenseColumn) ?? throw Missing(summary, LicenseColumn));
        var version = summary.GetInt64(VersionColumn) ?? throw Missing(summary, VersionColumn);
        return new StoredLicense(license, version, summary.ETag.ToString());
    }

    public static TableEntity Event(Serial serial, long version, LicenseEvent licenseEvent)
    {
        var row = EventColumns(serial, version, licenseEvent);
        if (licenseEvent.ActorId is { } actorId)
        {
            row[ActorIdColumn] = actorId;
        }

        return row;
    }

    private static TableEntity EventColumns(Serial serial, long version, LicenseEvent licenseEvent) =>
        new(PartitionKey(serial), EventRowKey(version))
        {
            [SchemaColumn] = EventSchema,
            [VersionColumn] = version,
            [TypeColumn] = licenseEvent.Type,
            [AtColumn] = InstantPattern.ExtendedIso.Format(licenseEvent.At),
            [ActorColumn] = licenseEvent.Actor,
            [CorrelationIdColumn] = licenseEvent.CorrelationId,
            [DataColumn] = Checked(LicenseJsonMapper.SerializeEventData(licenseEvent.Data), serial, "event"),
        };

    public static LicenseEvent ToEvent(TableEntity row)
    {
        var schema = row.GetInt32(SchemaColumn) ?? throw Missing(row, SchemaColumn);
        if (schema != EventSchema)
        {
            throw new NotSupportedException($"A stored event has schema {schema}; this version reads schema {EventSchema} only.");
        }

        return new LicenseEvent(
            row.GetString(TypeColumn) ?? throw Missing(row, TypeColumn),
            InstantPattern.ExtendedIso.Parse(row.GetString(AtColumn) ?? throw Missing(row, AtColumn)).Value,
            row.GetString(ActorColumn) ?? throw Missing(row, ActorColumn),
            row.GetString(CorrelationIdColumn) ?? throw Missing(row, CorrelationIdColumn),
            LicenseJsonMapper.DeserializeEventData(row.GetString(DataColumn) ?? throw Missing(row, DataColumn)),
            row.GetString(ActorIdColumn));
    }

    /// <summary>An index row: which license it points to, and the license version it was written for.</summary>
    public static TableEntity IndexRow(IndexKey key, Serial serial, long version) =>
        new(key.PartitionKey, key.RowKey)
        {
            [SerialColumn] = serial.Value,
            [VersionColumn] = version,
        };

    private static string Checked(string json, Serial serial, string what) =>
        json.Length <= MaxStringPropertyLength
            ? json
            : throw new LicenseTooLargeException(
                serial,
                $"its {what} would be {json.Length} characters of JSON; Table Storage holds at most {MaxStringPropertyLength} in one property.");

    private static InvalidDataException Missing(TableEntity row, string column) =>
        new($"Stored row ({row.PartitionKey}, {row.RowKey}) has no {column}.");
}
