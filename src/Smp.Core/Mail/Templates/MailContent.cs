namespace Smp.Core.Mail.Templates;

/// <summary>
/// A rendered mail: its subject and the same message as plain text and as HTML. Both bodies use
/// <c>\n</c> line endings; the transport converts them to what the wire needs.
/// </summary>
public sealed record MailContent(string Subject, string PlainText, string Html);
