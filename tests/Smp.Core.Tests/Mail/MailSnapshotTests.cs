namespace Smp.Core.Tests.Mail;

public class MailSnapshotTests
{
    public static TheoryData<string> CaseNames => [.. MailFixtures.Cases.Keys];

    /// <summary>
    /// Pins each kind's subject and plain text (in <c>NAME.txt</c>, as "Subject: ..." then a blank line then the
    /// body) and its HTML (in <c>NAME.html</c>), byte for byte.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Rendered_mail_matches_its_snapshot(string name)
    {
        var mail = MailFixtures.Cases[name]();

        Snapshot.Match(name, [("txt", $"Subject: {mail.Subject}\n\n{mail.PlainText}"), ("html", mail.Html)]);
    }
}
