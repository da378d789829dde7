namespace Smp.Core.Mail;

/// <summary>
/// Stored data a mail template cannot put into a mail (a name that is empty once cleaned, for instance). Input
/// validation refuses such data (<see cref="MailableText"/>); records written before it did can still hold it,
/// so callers treat this as one record's failure, never as a reason to stop mailing others.
/// </summary>
public sealed class UnmailableDataException(string message, string? paramName) : ArgumentException(message, paramName);

/// <summary>What input validation asks of every text a mail will show.</summary>
public static class MailableText
{
    /// <summary>
    /// True when <paramref name="value"/> still has something to show once cleaned as mail cleans it (controls,
    /// whitespace and invisible direction marks removed): a value made only of those would leave a hole in a mail.
    /// </summary>
    public static bool HasVisibleText(string? value) => Templates.MailFormat.Clean(value).Length > 0;
}
