using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Smp.Core.Plans;
using Smp.Functions.Staff;

namespace Smp.Functions.Http;

/// <summary>
/// The one shape of every console form post (SPEC section 8), used by every console POST:
/// <code>
/// return await gate.FormAsync(call, StaffRoles.Staff, "renewal", ["orderReference", "months"],
///     async post =&gt; { ...read post["months"], add to post.Errors, call the use case...; return post.Done(path, "renewed"); },
///     (post, status) =&gt; PageWithTheFormAsync(post.State, status));
/// </code>
/// The gate opens the post (person, role, anti-forgery token, Origin: refusals are answered before the action runs,
/// so nothing changes); the action reads <see cref="ConsolePost.Values"/>, calls the same use case as the API route,
/// and answers with one of the post's outcomes: <see cref="ConsolePost.Done"/> (post-redirect-get to a page that
/// shows the confirmation of that key from <see cref="ConsolePages.Confirmations"/>), <see cref="ConsolePost.Invalid"/>
/// (the form again, each bad field in <see cref="ConsolePost.Errors"/> named and every value kept) or
/// <see cref="ConsolePost.Answer"/> (any other page, such as a 404).
/// </summary>
public sealed partial class ConsoleGate
{
    /// <summary>
    /// Runs one console form post. <paramref name="form"/> names the form on its page (the key its
    /// <see cref="ConsoleFormState"/> carries); <paramref name="fields"/> are its own fields (the token is added);
    /// <paramref name="showAgain"/> renders the page holding the form from <see cref="ConsolePost.State"/> with the status given;
    /// <paramref name="maxBodyBytes"/> bounds the body (more than a form's 64 KiB only for an upload, such as an import's file).
    /// </summary>
    public async Task<IActionResult> FormAsync(
        HttpCall call,
        string role,
        string form,
        IReadOnlyCollection<string> fields,
        Func<ConsolePost, Task<ConsoleOutcome>> action,
        Func<ConsolePost, int, Task<IActionResult>> showAgain,
        long maxBodyBytes = JsonBody.MaxBytes)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(showAgain);
        var session = await PostAsync(call, role, new HashSet<string>(fields, StringComparer.Ordinal), maxBodyBytes);
        if (session.Refusal is { } refusal)
        {
            return refusal;
        }

        var post = new ConsolePost(call, session, form, fields.ToDictionary(f => f, session.Field, StringComparer.Ordinal));
        return await action(post) switch
        {
            ConsoleOutcome.Redirect done => new RedirectResult(done.Location),
            ConsoleOutcome.Refused refused => await showAgain(post, refused.Status),
            ConsoleOutcome.Other other => other.Result,
            _ => throw new InvalidOperationException("Unknown console outcome."),
        };
    }
}

/// <summary>An opened console form post: who sent it, the values of its fields (trimmed, empty when missing), its errors.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "An action answers with post.Done(...), post.Invalid(...) or post.Answer(...): one place to look.")]
public sealed class ConsolePost(HttpCall call, ConsoleSession session, string form, IReadOnlyDictionary<string, string> values)
{
    public HttpCall Call { get; } = call;

    public ConsoleSession Session { get; } = session;

    public string Form { get; } = form;

    public IReadOnlyDictionary<string, string> Values { get; } = values;

    public StaffPerson Person => Session.Person!;

    /// <summary>The person's audit identity for the use case (R15).</summary>
    public CommandContext Audit => Session.Audit!;

    /// <summary>The request's validation errors: add one per bad field before answering <see cref="Invalid"/>.</summary>
    public ValidationErrors Errors => Call.Errors;

    /// <summary>What the form gave, to show it again.</summary>
    public ConsoleFormState State => new(Form, Values, Errors);

    /// <summary>A field's value as posted (trimmed).</summary>
    public string this[string field] => Values[field];

    /// <summary>Success: redirect to <paramref name="path"/> with the confirmation key <paramref name="confirmation"/>.</summary>
    public ConsoleOutcome Done(string path, string confirmation)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new ConsoleOutcome.Redirect(path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "done=" + Uri.EscapeDataString(confirmation));
    }

    /// <summary>The form again with <see cref="Errors"/> (400, or 409 for a conflict with what is recorded).</summary>
    public ConsoleOutcome Invalid(int status = StatusCodes.Status400BadRequest) => new ConsoleOutcome.Refused(status);

    /// <summary>The form again with one more error on <paramref name="field"/>.</summary>
    public ConsoleOutcome Invalid(string field, string message, int status = StatusCodes.Status400BadRequest)
    {
        Errors.Add(field, message);
        return new ConsoleOutcome.Refused(status);
    }

    /// <summary>Any other answer (a 404 page, a message).</summary>
    public ConsoleOutcome Answer(IActionResult result) => new ConsoleOutcome.Other(result);
}

/// <summary>How a console form post ended; made by <see cref="ConsolePost"/>.</summary>
public abstract record ConsoleOutcome
{
    private ConsoleOutcome()
    {
    }

    internal sealed record Redirect(string Location) : ConsoleOutcome;

    internal sealed record Refused(int Status) : ConsoleOutcome;

    internal sealed record Other(IActionResult Result) : ConsoleOutcome;
}
