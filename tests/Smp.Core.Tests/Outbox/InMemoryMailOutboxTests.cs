using NodaTime;
using Smp.Core.Outbox;

namespace Smp.Core.Tests.Outbox;

/// <summary>The in-memory outbox keeps the port's contract; the dispatcher and scan tests rely on it.</summary>
public class InMemoryMailOutboxTests
{
    private static readonly Instant Now = Instant.FromUtc(2027, 1, 1, 14, 0);
    private static readonly MailClaim ClaimA = new("reminder|A|2027-04-01|90");
    private static readonly MailClaim ClaimB = new("reminder|B|2027-04-01|90");

    private readonly InMemoryMailOutbox outbox = new(maxClaimsPerMessage: 3);

    [Fact]
    public async Task A_message_and_its_claims_are_stored_together()
    {
        var mail = TestMails.Numbered(1);

        Assert.IsType<EnqueueResult.Enqueued>(await outbox.EnqueueAsync(mail, MailKinds.Reminder, [ClaimA, ClaimB], Now, CancellationToken.None));

        var stored = await outbox.GetAsync(mail.Id, CancellationToken.None);
        Assert.Equal(OutboxMessage.New(mail, MailKinds.Reminder, Now, [ClaimA, ClaimB]), stored!.Message);
        var claims = await outbox.FindClaimsAsync([ClaimA, ClaimB, new MailClaim("other")], CancellationToken.None);
        Assert.Equal(2, claims.Count);
        Assert.All(claims.Values, id => Assert.Equal(mail.Id, id));
    }

    [Fact]
    public async Task The_same_id_again_is_a_repeat_and_writes_nothing()
    {
        var mail = TestMails.Numbered(1);
        await outbox.EnqueueAsync(mail, MailKinds.Reminder, [ClaimA], Now, CancellationToken.None);

        var again = await outbox.EnqueueAsync(mail with { Subject = "changed" }, MailKinds.Reminder, [ClaimA, ClaimB], Now + Duration.FromHours(1), CancellationToken.None);

        Assert.IsType<EnqueueResult.AlreadyEnqueued>(again);
        Assert.Equal("Message 1", (await outbox.GetAsync(mail.Id, CancellationToken.None))!.Message.Mail.Subject);
        Assert.Empty(await outbox.FindClaimsAsync([ClaimB], CancellationToken.None));
    }

    [Fact]
    public async Task A_claim_held_by_another_message_refuses_the_whole_write()
    {
        var first = TestMails.Numbered(1);
        var second = TestMails.Numbered(2);
        await outbox.EnqueueAsync(first, MailKinds.Reminder, [ClaimA], Now, CancellationToken.None);

        var result = await outbox.EnqueueAsync(second, MailKinds.Reminder, [ClaimA, ClaimB], Now, CancellationToken.None);

        var taken = Assert.IsType<EnqueueResult.ClaimsTaken>(result);
        Assert.Equal(new Dictionary<MailClaim, string> { [ClaimA] = first.Id }, taken.TakenBy);
        Assert.Null(await outbox.GetAsync(second.Id, CancellationToken.None));
        Assert.Empty(await outbox.FindClaimsAsync([ClaimB], CancellationToken.None));
    }

    [Fact]
    public async Task More_claims_than_one_write_can_hold_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => outbox.EnqueueAsync(
            TestMails.Numbered(1), MailKinds.Reminder, [ClaimA, ClaimB, new MailClaim("c"), new MailClaim("d")], Now, CancellationToken.None));
    }

    [Fact]
    public async Task Every_update_changes_the_token_and_a_stale_update_writes_nothing()
    {
        var mail = TestMails.Numbered(1);
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], Now, CancellationToken.None);
        var read = (await outbox.GetAsync(mail.Id, CancellationToken.None))!;

        var first = await outbox.TryUpdateAsync(read, read.Message with { Attempts = 1 }, CancellationToken.None);
        var stale = await outbox.TryUpdateAsync(read, read.Message with { Attempts = 7 }, CancellationToken.None);
        var second = await outbox.TryUpdateAsync(first!, first!.Message with { Attempts = 2 }, CancellationToken.None);

        Assert.NotNull(first);
        Assert.Null(stale);
        Assert.NotNull(second);
        Assert.NotEqual(read.ConcurrencyToken, first.ConcurrencyToken);
        Assert.NotEqual(first.ConcurrencyToken, second.ConcurrencyToken);
        Assert.Equal(2, (await outbox.GetAsync(mail.Id, CancellationToken.None))!.Message.Attempts);
    }

    [Fact]
    public async Task Due_lists_pending_mail_whose_time_has_come_and_sending_mail_whose_lease_ran_out_oldest_first()
    {
        var pendingNow = await AddAsync(1, Now - Duration.FromMinutes(3), m => m);
        var pendingLater = await AddAsync(2, Now - Duration.FromMinutes(2), m => m with { NextAttemptAt = Now + Duration.FromSeconds(1) });
        var expiredLease = await AddAsync(3, Now - Duration.FromMinutes(4), m => m with { Status = MailStatus.Sending, NextAttemptAt = Now });
        var liveLease = await AddAsync(4, Now - Duration.FromMinutes(5), m => m with { Status = MailStatus.Sending, NextAttemptAt = Now + Duration.FromMinutes(1) });
        var sent = await AddAsync(5, Now - Duration.FromMinutes(6), m => m with { Status = MailStatus.Sent, SentAt = Now });
        var failed = await AddAsync(6, Now - Duration.FromMinutes(7), m => m with { Status = MailStatus.Failed });

        var due = await outbox.ListDueAsync(Now, 10, CancellationToken.None);

        Assert.Equal([expiredLease, pendingNow], due.Select(d => d.Message.Id));
        Assert.Equal([expiredLease], (await outbox.ListDueAsync(Now, 1, CancellationToken.None)).Select(d => d.Message.Id));
        Assert.DoesNotContain(pendingLater, due.Select(d => d.Message.Id));
        Assert.DoesNotContain(liveLease, due.Select(d => d.Message.Id));
        Assert.DoesNotContain(sent, due.Select(d => d.Message.Id));
        Assert.Equal([failed], (await outbox.ListFailedAsync(CancellationToken.None)).Select(d => d.Message.Id));
    }

    [Fact]
    public async Task Failed_mail_is_listed_newest_first()
    {
        var older = await AddAsync(1, Now - Duration.FromDays(2), m => m with { Status = MailStatus.Failed });
        var newer = await AddAsync(2, Now - Duration.FromDays(1), m => m with { Status = MailStatus.Failed });

        Assert.Equal([newer, older], (await outbox.ListFailedAsync(CancellationToken.None)).Select(d => d.Message.Id));
    }

    private async Task<string> AddAsync(int number, Instant createdAt, Func<OutboxMessage, OutboxMessage> change)
    {
        var mail = TestMails.Numbered(number);
        await outbox.EnqueueAsync(mail, MailKinds.Term, [], createdAt, CancellationToken.None);
        var stored = (await outbox.GetAsync(mail.Id, CancellationToken.None))!;
        Assert.NotNull(await outbox.TryUpdateAsync(stored, change(stored.Message), CancellationToken.None));
        return mail.Id;
    }
}
