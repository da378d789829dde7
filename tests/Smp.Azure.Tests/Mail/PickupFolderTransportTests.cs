using Microsoft.Extensions.Logging.Testing;
using MimeKit;
using Smp.Azure.Mail;
using Smp.Core.Mail;

namespace Smp.Azure.Tests.Mail;

public sealed class PickupFolderTransportTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "smp-pickup-" + Guid.NewGuid().ToString("N"), "mail");
    private readonly DateTimeOffset now = new(2027, 3, 2, 8, 30, 0, TimeSpan.Zero);
    private readonly PickupFolderTransport transport;

    public PickupFolderTransportTests() =>
        transport = new PickupFolderTransport(directory, new FixedTime(now), new FakeLogger<PickupFolderTransport>());

    public void Dispose()
    {
        var root = Path.GetDirectoryName(directory)!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Writes_one_eml_that_a_mail_reader_parses_back_with_both_bodies()
    {
        var mail = TestMail.Create();

        var result = await transport.SendAsync(mail, CancellationToken.None);

        Assert.IsType<MailSendResult.Delivered>(result);
        var file = Assert.Single(Directory.GetFiles(directory));
        Assert.Equal(mail.Id + ".eml", Path.GetFileName(file));
        using var message = await MimeMessage.LoadAsync(file);
        Assert.Equal(mail.Subject, message.Subject);
        Assert.Equal(["smp@vendor.example.com"], message.From.Mailboxes.Select(m => m.Address));
        Assert.Equal(["ana@customer.example.org", "it@customer.example.org"], message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal(["renewals@vendor.example.com"], message.ReplyTo.Mailboxes.Select(m => m.Address));
        Assert.Equal($"{mail.Id}@vendor.example.com", message.MessageId);
        Assert.Equal(now, message.Date);
        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(2, alternative.Count);
        Assert.Equal(mail.PlainText, message.TextBody?.ReplaceLineEndings("\n"));
        Assert.Equal(mail.Html, message.HtmlBody);
        Assert.Equal("text/plain", alternative[0].ContentType.MimeType);
        Assert.Equal("text/html", alternative[1].ContentType.MimeType);
    }

    [Fact]
    public async Task Sending_the_same_id_again_leaves_the_first_file_alone()
    {
        var id = Guid.NewGuid().ToString("D");
        await transport.SendAsync(TestMail.Create(id, "First"), CancellationToken.None);

        var again = await transport.SendAsync(TestMail.Create(id, "Second"), CancellationToken.None);

        Assert.IsType<MailSendResult.Delivered>(again);
        var file = Assert.Single(Directory.GetFiles(directory));
        using var message = await MimeMessage.LoadAsync(file);
        Assert.Equal("First", message.Subject);
    }

    [Fact]
    public async Task Concurrent_sends_of_one_id_leave_exactly_one_file_and_no_temporary_files()
    {
        var id = Guid.NewGuid().ToString("D");
        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, 16)
            .Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await transport.SendAsync(TestMail.Create(id, $"Attempt {i}"), CancellationToken.None);
            }))
            .ToArray();
        start.Set();

        var results = await Task.WhenAll(sends);

        Assert.All(results, r => Assert.IsType<MailSendResult.Delivered>(r));
        var file = Assert.Single(Directory.GetFiles(directory, "*", SearchOption.AllDirectories));
        Assert.Equal(id + ".eml", Path.GetFileName(file));
        using var message = await MimeMessage.LoadAsync(file);
        Assert.StartsWith("Attempt ", message.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_mails_leave_one_file_each_and_no_temporary_files()
    {
        var mails = Enumerable.Range(0, 10).Select(_ => TestMail.Create()).ToArray();

        foreach (var mail in mails)
        {
            await transport.SendAsync(mail, CancellationToken.None);
        }

        Assert.Equal(
            mails.Select(m => m.Id + ".eml").Order(StringComparer.Ordinal),
            Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_status_is_delivered_once_the_file_exists()
    {
        var mail = TestMail.Create();

        Assert.IsType<MailSendResult.Unknown>(await transport.GetStatusAsync(mail.Id, CancellationToken.None));
        await transport.SendAsync(mail, CancellationToken.None);
        Assert.IsType<MailSendResult.Delivered>(await transport.GetStatusAsync(mail.Id, CancellationToken.None));
    }

    [Fact]
    public async Task A_status_query_needs_a_mail_id()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => transport.GetStatusAsync("../secrets", CancellationToken.None));
    }

    [Fact]
    public async Task A_folder_that_cannot_be_written_is_a_transient_failure_without_leftovers()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        await File.WriteAllTextAsync(directory, "a file where the folder should be");

        var result = await transport.SendAsync(TestMail.Create(), CancellationToken.None);

        Assert.IsType<MailSendResult.TransientFailure>(result);
        Assert.Single(Directory.GetFileSystemEntries(Path.GetDirectoryName(directory)!));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
