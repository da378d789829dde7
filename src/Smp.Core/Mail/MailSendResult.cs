namespace Smp.Core.Mail;

/// <summary>
/// What a transport learned about one message, from a send or from a status query. A closed set:
/// the outbox decides what to do next from the case alone. Error texts come from the provider or
/// the file system and never carry a key, token or other secret.
/// </summary>
public abstract record MailSendResult
{
    private MailSendResult()
    {
    }

    /// <summary>The provider has the message (queued or being sent); ask for its status later.</summary>
    public sealed record Accepted : MailSendResult;

    /// <summary>The provider has finished sending it (ACS <c>Succeeded</c>; the file is in the pickup folder).</summary>
    public sealed record Delivered : MailSendResult;

    /// <summary>The provider refused for now because of its rate limits; try again after <see cref="RetryAfter"/>.</summary>
    public sealed record Throttled : MailSendResult
    {
        public Throttled(TimeSpan retryAfter) =>
            RetryAfter = retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter;

        public TimeSpan RetryAfter { get; }
    }

    /// <summary>The attempt failed in a way that may pass (timeout, 5xx, network); retrying with the same id is safe.</summary>
    public sealed record TransientFailure(string Error) : MailSendResult;

    /// <summary>The provider refused or dropped the message; retrying unchanged will not help.</summary>
    public sealed record PermanentFailure(string Error) : MailSendResult;

    /// <summary>The provider does not know this message (for example, no operation with that id).</summary>
    public sealed record Unknown : MailSendResult;
}
