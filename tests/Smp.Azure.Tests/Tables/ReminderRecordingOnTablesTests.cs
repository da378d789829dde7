using Azure.Data.Tables;
using NodaTime;
using Smp.Azure.Tables;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;
using Smp.TestSupport;

namespace Smp.Azure.Tests.Tables;

/// <summary>
/// R9: recording a reminder starts from the license the scan's listing read and retires the reminder row under the
/// ETag and version the listing read; the write answers with the state it stored. A row changed since the listing is
/// judged as it is then, so the never-lower rule of index rows still holds.
/// </summary>
public sealed class ReminderRecordingOnTablesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly LocalDate DueOn = new(2026, 4, 1);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task R9_recording_a_listed_reminder_removes_its_row_and_answers_with_the_state_it_stored()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);

        var change = RecordSent(listed.License, reminder);
        var stored = await t.Store.UpdateAsync(listed, change.License, change.Event, Ct);

        Assert.NotNull(stored);
        var read = await t.Store.GetAsync(listed.License.Serial, Ct);
        Assert.Equal(read!.Version, stored.Version);
        Assert.Equal(read.ConcurrencyToken, stored.ConcurrencyToken);
        Assert.Equal(LicenseJsonMapper.Serialize(read.License), LicenseJsonMapper.Serialize(stored.License));
        Assert.Null(await ReminderRowAsync(t, reminder, listed.License.Serial));

        // The state answered is good for the next write.
        var training = TestLicenses.RecordTraining(stored.License);
        Assert.True(await t.Store.TryUpdateAsync(stored, training.License, training.Event, Ct));
    }

    [Fact]
    public async Task R9_a_reminder_row_raised_by_a_newer_writer_after_the_listing_stays_when_the_reminder_is_recorded()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);

        // A writer that read a newer state wrote the row ahead for its own version after the listing read it.
        var key = LicenseIndex.ReminderKey(reminder, listed.License.Serial);
        await t.Index.UpsertEntityAsync(
            new TableEntity(key.PartitionKey, key.RowKey) { ["Serial"] = listed.License.Serial.Value, ["Version"] = listed.Version + 1 },
            TableUpdateMode.Replace,
            Ct);

        var change = RecordSent(listed.License, reminder);
        Assert.NotNull(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        var row = await ReminderRowAsync(t, reminder, listed.License.Serial);
        Assert.NotNull(row);
        Assert.Equal(listed.Version + 1, row.GetInt64("Version"));
    }

    [Fact]
    public async Task R9_a_reminder_row_rewritten_at_its_version_after_the_listing_is_still_retired()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);

        // Rewritten at the same version (a new ETag): the one the listing read no longer matches.
        var key = LicenseIndex.ReminderKey(reminder, listed.License.Serial);
        await t.Index.UpsertEntityAsync(
            new TableEntity(key.PartitionKey, key.RowKey) { ["Serial"] = listed.License.Serial.Value, ["Version"] = listed.Version },
            TableUpdateMode.Replace,
            Ct);

        var change = RecordSent(listed.License, reminder);
        Assert.NotNull(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        Assert.Null(await ReminderRowAsync(t, reminder, listed.License.Serial));
    }

    [Fact]
    public async Task R9_a_listed_license_changed_since_is_not_overwritten_by_the_recording()
    {
        var t = StoreUnderTest.Create(azurite);
        var (listed, reminder) = await ListedDueAsync(t);
        var contacts = TestLicenses.ReplaceContacts(listed.License, "cad@acme.example");
        Assert.True(await t.Store.TryUpdateAsync(listed, contacts.License, contacts.Event, Ct));

        var change = RecordSent(listed.License, reminder);
        Assert.Null(await t.Store.UpdateAsync(listed, change.License, change.Event, Ct));

        // The row stays for the recording that starts again from the license as it is now.
        Assert.NotNull(await ReminderRowAsync(t, reminder, listed.License.Serial));
    }

    /// <summary>A new license with its one reminder due on <see cref="DueOn"/>, as the reminder listing returns it.</summary>
    private static async Task<(StoredLicense Listed, PlannedReminder Reminder)> ListedDueAsync(StoreUnderTest t)
    {
        var added = TestLicenses.Activate(TestLicenses.NewSerial());
        Assert.True(await t.Store.TryAddAsync(added.License, added.Event, Ct));
        var listed = new List<StoredLicense>();
        await foreach (var license in t.Store.ListReminderCandidatesAsync(DueOn, Ct))
        {
            listed.Add(license);
        }

        var only = Assert.Single(listed);
        var reminder = Assert.Single(ReminderSchedule.Default.Pending(only.License));
        Assert.Equal(DueOn, reminder.DueOn);
        Assert.NotNull(await ReminderRowAsync(t, reminder, only.License.Serial));
        return (only, reminder);
    }

    private static Decision.Change RecordSent(License license, PlannedReminder reminder) =>
        Assert.IsType<Decision.Change>(PlanDecisions.RecordReminder(license, reminder, ReminderOutcome.Sent, "mail-1", Instant.FromUtc(2026, 4, 1, 15, 0), TestLicenses.Context));

    private static async Task<TableEntity?> ReminderRowAsync(StoreUnderTest t, PlannedReminder reminder, Serial serial)
    {
        var key = LicenseIndex.ReminderKey(reminder, serial);
        var row = await t.Index.GetEntityIfExistsAsync<TableEntity>(key.PartitionKey, key.RowKey, cancellationToken: Ct);
        return row.HasValue ? row.Value : null;
    }
}
