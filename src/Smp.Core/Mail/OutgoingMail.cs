using System.Collections.Immutable;
using Smp.Core.Plans;

namespace Smp.Core.Mail;

/// <summary>
/// One message ready for a transport: addresses, subject and both bodies, already rendered.
/// <see cref="Id"/> is the outbox id; transports use it to make delivery idempotent (the ACS
/// <c>Operation-Id</c>, the pickup file name), so it must be a GUID in its 36-character form
/// (<c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>).
/// </summary>
public sealed record OutgoingMail(
    string Id,
    EmailAddress From,
    ImmutableArray<EmailAddress> To,
    EmailAddress? ReplyTo,
    string Subject,
    string PlainText,
    string Html)
{
    public string Id { get; init => field = RequireId(value, nameof(Id)); } = RequireId(Id, nameof(Id));

    public EmailAddress From { get; init => field = RequireAddress(value, nameof(From)); } = RequireAddress(From, nameof(From));

    public ImmutableArray<EmailAddress> To { get; init => field = RequireRecipients(value, nameof(To)); } = RequireRecipients(To, nameof(To));

    public EmailAddress? ReplyTo { get; init => field = RequireOptionalAddress(value, nameof(ReplyTo)); } = RequireOptionalAddress(ReplyTo, nameof(ReplyTo));

    /// <summary>One line: a subject with a line break could smuggle headers into a message.</summary>
    public string Subject { get; init => field = RequireSubject(value, nameof(Subject)); } = RequireSubject(Subject, nameof(Subject));

    public string PlainText { get; init => field = RequireBody(value, nameof(PlainText)); } = RequireBody(PlainText, nameof(PlainText));

    public string Html { get; init => field = RequireBody(value, nameof(Html)); } = RequireBody(Html, nameof(Html));

    /// <summary>True when <paramref name="id"/> is a GUID written as 32 hex digits in 8-4-4-4-12 groups.</summary>
    public static bool IsValidId(string? id) => id is { Length: 36 } && Guid.TryParseExact(id, "D", out _);

    private static string RequireId(string id, string name) =>
        IsValidId(id) ? id : throw new ArgumentException("A mail id is a GUID in its 36-character form (8-4-4-4-12 hex digits).", name);

    private static EmailAddress RequireAddress(EmailAddress address, string name) =>
        address.Value is null ? throw new ArgumentException("The address is missing.", name) : address;

    private static EmailAddress? RequireOptionalAddress(EmailAddress? address, string name) =>
        address is { Value: null } ? throw new ArgumentException("The address is empty.", name) : address;

    private static ImmutableArray<EmailAddress> RequireRecipients(ImmutableArray<EmailAddress> to, string name)
    {
        if (to.IsDefaultOrEmpty)
        {
            throw new ArgumentException("A mail needs at least one recipient.", name);
        }

        foreach (var address in to)
        {
            RequireAddress(address, name);
        }

        return to;
    }

    private static string RequireSubject(string subject, string name)
    {
        ArgumentNullException.ThrowIfNull(subject, name);
        return subject.AsSpan().IndexOfAny('\r', '\n') >= 0
            ? throw new ArgumentException("A subject is one line.", name)
            : subject;
    }

    private static string RequireBody(string body, string name) =>
        body ?? throw new ArgumentNullException(name);
}
