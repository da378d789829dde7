using System.Text;
using Microsoft.Extensions.Logging;
using MimeKit;
using Smp.Core.Mail;

namespace Smp.Azure.Mail;

/// <summary>
/// Local-run transport: writes each message as <c>&lt;mail id&gt;.eml</c> (multipart/alternative, plain
/// text and HTML) into a folder that any mail client can open. The file appears whole or not at all:
/// it is written under a temporary name in the same folder and then moved into place without
/// overwriting, so a second send of the same id, even a concurrent one, never makes a second file.
/// </summary>
public sealed class PickupFolderTransport : IMailTransport
{
    private const string TempSuffix = ".tmp";

    private readonly TimeProvider timeProvider;
    private readonly ILogger<PickupFolderTransport> logger;

    public PickupFolderTransport(string directory, TimeProvider timeProvider, ILogger<PickupFolderTransport> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        Directory = Path.GetFullPath(directory);
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    public string Directory { get; }

    public async Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        var target = PathOf(mail.Id);
        if (File.Exists(target))
        {
            logger.LogInformation("Mail {MailId} is already in the pickup folder; not written again", mail.Id);
            return new MailSendResult.Delivered();
        }

        // A dot-name and a suffix other than .eml keep a half-written file out of any reader's way.
        var temp = Path.Combine(Directory, $".{mail.Id}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var message = Compose(mail);
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 16 * 1024, FileOptions.Asynchronous))
            {
                await message.WriteToAsync(stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temp, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                logger.LogInformation("Mail {MailId} was written to the pickup folder by another send first", mail.Id);
                return new MailSendResult.Delivered();
            }

            logger.LogInformation("Mail {MailId} written to {Path}", mail.Id, target);
            return new MailSendResult.Delivered();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Mail {MailId} could not be written to the pickup folder: {Error}", mail.Id, ex.Message);
            return new MailSendResult.TransientFailure($"Could not write to the pickup folder: {ex.Message}");
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken)
    {
        if (!OutgoingMail.IsValidId(mailId))
        {
            throw new ArgumentException("A mail id is a GUID in its 36-character form.", nameof(mailId));
        }

        MailSendResult result = File.Exists(PathOf(mailId)) ? new MailSendResult.Delivered() : new MailSendResult.Unknown();
        return Task.FromResult(result);
    }

    /// <summary>The file a mail id is written to (ids are GUIDs, so always a plain file name).</summary>
    public string PathOf(string mailId) => Path.Combine(Directory, mailId + ".eml");

    private MimeMessage Compose(OutgoingMail mail)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(string.Empty, mail.From.Value));
        foreach (var to in mail.To)
        {
            message.To.Add(new MailboxAddress(string.Empty, to.Value));
        }

        if (mail.ReplyTo is { } replyTo)
        {
            message.ReplyTo.Add(new MailboxAddress(string.Empty, replyTo.Value));
        }

        message.Subject = mail.Subject;
        message.Date = timeProvider.GetUtcNow();
        message.MessageId = $"{mail.Id}@{DomainOf(mail.From.Value)}";
        message.Body = new MultipartAlternative
        {
            TextPart("plain", mail.PlainText),
            TextPart("html", mail.Html),
        };
        return message;
    }

    private static TextPart TextPart(string subtype, string text)
    {
        var part = new TextPart(subtype) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        part.SetText(Encoding.UTF8, text);
        return part;
    }

    private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];

    private void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Temporary pickup file {Path} could not be removed: {Error}", path, ex.Message);
        }
    }
}
