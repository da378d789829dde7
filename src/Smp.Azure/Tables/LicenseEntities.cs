using System.Globalization;
using Azure.Data.Tables;
using NodaTime.Text;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Azure.Tables;

/// <summary>
/// The rows of the licenses table. Each license is one partition (the encoded serial, SERIAL below) holding the
/// summary row <c>license|SERIAL</c> and one row <c>event|SERIAL|{version:D19}</c> per event, so a change and its
/// event commit in one entity group transaction.
/// </summary>
/// <remarks>
/// Every row key names its serial, so no two rows of the table share a row key. Table Storage serves a point read
/// from (partition key, row key) either way; the emulator (Azurite) finds a row by its row key first and then tests
/// every row that shares it, so the first layout, in which every summary had the row key <c>license</c> and every
/// license's first event <c>event-0000000000000000001</c>, made each insert and point read cost time in proportion to
/// the licenses stored. Rows of that layout (<see cref="LegacySummaryRowKey"/>, <see cref="LegacyEventRowKey"/>) are
/// still read until <see cref="LicenseLayoutMigration"/> has moved them.
/// </remarks>
internal static class LicenseEntities
{
    /// <summary>Summary row keys are <c>license|SERIAL</c>; the first layout's was <c>license</c> alone.</summary>
    private const string SummaryRowKeyPrefix = "license|";

    /// <summary>The summary row key of the first layout, shared by every license.</summary>
    public const string LegacySummaryRowKey = "license";

    /// <summary>Inclusive lower bound of every summary row key, both layouts ("license" sorts before "license|...").</summary>
    public const string SummaryRowKeyLower = LegacySummaryRowKey;

    /// <summary>Exclusive upper bound of every summary row key ('}' sorts just after '|').</summary>
    public const string SummaryRowKeyUpper = "license}";

    private const string EventRowKeyPrefix = "event|";

    /// <summary>Event row keys of the first layout: <c>event-{version:D19}</c>.</summary>
    public const string LegacyEventRowKeyPrefix = "event-";

    /// <summary>Inclusive lower bound of every event row key of a partition, both layouts ('-' sorts before '|').</summary>
    public const string EventRowKeyLower = LegacyEventRowKeyPrefix;

    /// <summary>Exclusive upper bound of every event row key of a partition, both layouts ('}' sorts just after '|').</summary>
    public const string EventRowKeyUpper = "event}";

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

    public static string SummaryRowKey(Serial serial) => SummaryRowKeyOf(PartitionKey(serial));

    /// <summary>The summary row key of the license whose partition is <paramref name="partitionKey"/>.</summary>
    public static string SummaryRowKeyOf(string partitionKey) => SummaryRowKeyPrefix + partitionKey;

    public static string EventRowKey(Serial serial, long version) => EventRowKeyOf(PartitionKey(serial), version);

    /// <summary>The row key of the event of <paramref name="version"/> of the license whose partition is <paramref name="partitionKey"/>.</summary>
    public static string EventRowKeyOf(string partitionKey, long version) =>
        EventRowKeyPrefix + partitionKey + "|" + version.ToString("D19", CultureInfo.InvariantCulture);

    public static string LegacyEventRowKey(long version) =>
        LegacyEventRowKeyPrefix + version.ToString("D19", CultureInfo.InvariantCulture);

    public static TableEntity Summary(License license, long version) =>
        new(PartitionKey(license.Serial), SummaryRowKey(license.Serial))
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
        new(PartitionKey(serial), EventRowKey(serial, version))
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

    /// <summary>On a confirmed reminder row: the ETag of the license summary its copy is (empty or absent: unconfirmed).</summary>
    public const string LicenseETagColumn = "LicenseETag";

    /// <summary>On a confirmed reminder row: the reminder offsets that owned the index when it was confirmed ("90,30").</summary>
    public const string OffsetsColumn = "Offsets";

    /// <summary>The schema a blanked copy states: none (no schema of the license JSON is 0).</summary>
    private const int NoSchema = 0;

    /// <summary>
    /// The write that unconfirms a reminder row (a merge of these columns): the row says nothing about the license any
    /// more, and its copy is blanked (<c>License</c>, <c>Schema</c>, <c>Offsets</c>), so that no customer data the license
    /// has left stays in the index, whatever happens after (a failed confirm, a crash, a lost race). Its version stays
    /// as it is.
    /// </summary>
    public static TableEntity Unconfirmed(IndexKey key) =>
        new(key.PartitionKey, key.RowKey)
        {
            [LicenseETagColumn] = string.Empty,
            [LicenseColumn] = string.Empty,
            [SchemaColumn] = NoSchema,
            [OffsetsColumn] = string.Empty,
        };

    /// <summary>
    /// The write that confirms a reminder row (a merge): a copy of the license summary <paramref name="summary"/> as
    /// committed under <paramref name="licenseETag"/>, and the offsets that owned the reminder index.
    /// </summary>
    public static TableEntity Confirmed(IndexKey key, TableEntity summary, string licenseETag, string offsets) =>
        new(key.PartitionKey, key.RowKey)
        {
            [SchemaColumn] = summary[SchemaColumn],
            [LicenseColumn] = summary[LicenseColumn],
            [VersionColumn] = summary[VersionColumn],
            [LicenseETagColumn] = licenseETag,
            [OffsetsColumn] = offsets,
        };

    /// <summary>
    /// The license a confirmed reminder row carries, as committed (its ETag the summary's), when the row is confirmed
    /// under <paramref name="offsets"/> and its copy is of the row's own version; else null (read the license).
    /// </summary>
    public static StoredLicense? TryReadConfirmed(TableEntity row, string offsets)
    {
        if (row.GetString(LicenseETagColumn) is not { Length: > 0 } etag
            || row.GetString(OffsetsColumn) != offsets
            || row.GetInt32(SchemaColumn) is not { } schema
            || schema == NoSchema
            || row.GetString(LicenseColumn) is not { Length: > 0 } json
            || row.GetInt64(VersionColumn) is not { } version)
        {
            return null;
        }

        try
        {
            return new StoredLicense(LicenseJsonMapper.Deserialize(schema, json), version, etag);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or NotSupportedException or FormatException)
        {
            return null; // A copy this version cannot read: the license itself is read (and reported if it fails too).
        }
    }

    private static string Checked(string json, Serial serial, string what) =>
        json.Length <= MaxStringPropertyLength
            ? json
            : throw new LicenseTooLargeException(
                serial,
                $"its {what} would be {json.Length} characters of JSON; Table Storage holds at most {MaxStringPropertyLength} in one property.");

    private static InvalidDataException Missing(TableEntity row, string column) =>
        new($"Stored row ({row.PartitionKey}, {row.RowKey}) has no {column}.");
}
