using System.Collections.Immutable;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Imports;
using Smp.Core.Mail;
using Smp.Core.Outbox;
using Smp.Core.Plans;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>The licenses every fuzzed harness starts with, so that generated requests reach stored data too.</summary>
public static class FuzzData
{
    public static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);

    /// <summary>A customer id made of every character a table key must not hold raw.</summary>
    public const string CustomerId = "ACME/1#?'\\";

    /// <summary>Serials stored before the run: one on the 30-day term, one trained and renewed, one full of odd but valid text.</summary>
    public static readonly string[] StoredSerials = ["FZ-1", "FZ-2", "FZ-9"];

    /// <summary>Valid text that serializers, keys and mail must carry unchanged: quotes, markup, RTL override, emoji, combining marks.</summary>
    public const string OddText = "Zo\u00eb \"Q\" <b>&amp;</b> \u202egnp.exe\u202c \U0001F469\u200D\U0001F4BB e\u0301 \uff11\uff12 \u6f22\u5b57 \u0645\u0631\u062d\u0628\u0627";

    /// <summary>Serials the generated activations may create (a small pool, so repeats and conflicts happen).</summary>
    public static readonly string[] NewSerials = ["FZ-3", "FZ-4", "FZ-5"];

    /// <summary>Order references the generated renewals mostly reuse (repeats are 200, other months 409).</summary>
    public static readonly string[] OrderReferences = ["SO-1", "SO-2", "so-3", "SO/4#?"];

    /// <summary>An update released before <see cref="Now"/> with its password stored, so links to it can be opened and announced.</summary>
    public const string ReleasedVersion = "1.96";

    public const string ReleasedOn = "2026-03-16";

    /// <summary>An update to be released after <see cref="Now"/>, without a password.</summary>
    public const string UnreleasedVersion = "2.0";

    public const string UnreleasedOn = "2026-04-30";

    /// <summary>Mail that could not be delivered, stored before the run so that retries reach it.</summary>
    public static readonly string[] FailedMailIds = ["0c6f1f0f-7a11-4c1b-9a51-3f2b8c1e6a4d", "9a51e0c6-1f0f-4a11-8c1b-3f2b6a4d7a11"];

    /// <summary>An import stored before the run (queued, a dry run of <see cref="FuzzImports.ValidFile"/>), so GET /api/imports/{id} finds one.</summary>
    public const string StoredImportId = "5eed0000000000000000000000000001";

    public static string Activation(string serial, bool training) =>
        ActivationApiTests.ActivationBody(serial: serial, training: training, customerId: CustomerId.Replace("\\", "\\\\", StringComparison.Ordinal));

    public static async Task SeedAsync(ApiHarness api)
    {
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, Activation("FZ-1", training: false))).Status);
        Assert.Equal(201, (await ActivationApiTests.ActivateAsync(api, Activation("FZ-2", training: true))).Status);
        Assert.Equal(201, (await LicenseApiTests.RenewAsync(api, "FZ-2", """{"orderReference":"SO-1","months":24}""")).Status);
        var odd = JsonText.Object(
            ("serial", JsonText.Of("fz-9")),
            ("product", JsonText.Of(OddText)),
            ("customer", JsonText.Object(("id", JsonText.Of(OddText)), ("name", JsonText.Of(OddText)))),
            ("contacts", JsonText.Array([JsonText.Of("a.b+c@mail.example.com"), JsonText.Of("X_Y@EXAMPLE.CO.UK")])),
            ("onSiteTraining", JsonText.False),
            ("activationEmailSentAt", JsonText.Of("2016-02-29T23:59:59.999999999-12:00")));
        var stored = await ActivationApiTests.ActivateAsync(api, Encoding.UTF8.GetString(odd.ToBytes()));
        Assert.Equal(201, stored.Status);
        Assert.Equal(OddText, stored.Json().GetProperty("customer").GetProperty("name").GetString());

        Assert.Equal(201, (await UpdateApi.PublishAsync(api, version: ReleasedVersion, releasedOn: ReleasedOn)).Status);
        Assert.Equal(201, (await UpdateApi.PublishAsync(api, version: UnreleasedVersion, releasedOn: UnreleasedOn, password: null)).Status);
        await SeedFailedMailAsync(api);
        await SeedImportAsync(api);
    }

    private static async Task SeedImportAsync(ApiHarness api)
    {
        var file = Encoding.UTF8.GetBytes(FuzzImports.ValidFile);
        var job = new ImportJob(
            StoredImportId,
            DryRun: true,
            ImportStatus.Queued,
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)),
            new LocalDate(2026, 3, 20),
            "fuzz",
            "fuzz-seed",
            Now,
            Total: 5,
            Processed: 0,
            Attempted: 0,
            Created: 0,
            Unchanged: 0,
            Conflicts: 0,
            Invalid: 0,
            []);
        await api.Services.GetRequiredService<IImportStore>().CreateAsync(job, file, CancellationToken.None);
    }

    private static async Task SeedFailedMailAsync(ApiHarness api)
    {
        var outbox = api.Services.GetRequiredService<IMailOutbox>();
        foreach (var id in FailedMailIds)
        {
            var mail = new OutgoingMail(
                id,
                EmailAddress.Parse(MailTestKit.Sender),
                ImmutableArray.Create(EmailAddress.Parse("a.b+c@mail.example.com")),
                EmailAddress.Parse(MailTestKit.RenewalsDesk),
                "Undeliverable " + OddText,
                "Plain text.",
                "<p>HTML.</p>");
            Assert.IsType<EnqueueResult.Enqueued>(await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, CancellationToken.None));
            var stored = await outbox.GetAsync(id, CancellationToken.None);
            var failed = stored!.Message with { Status = MailStatus.Failed, Attempts = 1, LastError = "550 5.1.1 Mailbox does not exist." };
            Assert.NotNull(await outbox.TryUpdateAsync(stored, failed, CancellationToken.None));
        }
    }
}
