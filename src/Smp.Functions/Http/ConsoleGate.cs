using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Mail;
using Smp.Functions.Staff;

namespace Smp.Functions.Http;

/// <summary>
/// The console's door (SPEC sections 7 and 8), after <see cref="HttpCall"/>: who is signed in and whether they hold
/// the role; for a POST, that it comes from the console itself (an anti-forgery token bound to the person, and an
/// <c>Origin</c>, when sent, that is the app's own). A request with no person is sent to sign in (a page) or answered
/// 401 (a form post); a person without the role, or a cross-site post, gets a 403 page and nothing changes.
/// </summary>
public sealed partial class ConsoleGate(StaffIdentity identity, FormTokens tokens, MailSettings mail)
{
    public const string LoginPath = "/.auth/login/aad";
    public const string LogoutPath = "/.auth/logout";

    /// <summary>Opens a page (a GET) for a person holding <paramref name="role"/>.</summary>
    public Task<ConsoleSession> PageAsync(HttpCall call, string role) => OpenAsync(call, role, null);

    /// <summary>
    /// Opens a form post for a person holding <paramref name="role"/>; <paramref name="fields"/> are the form's own
    /// fields (and files); <paramref name="maxBytes"/> bounds its body.
    /// </summary>
    public Task<ConsoleSession> PostAsync(HttpCall call, string role, IReadOnlySet<string> fields, long maxBytes = JsonBody.MaxBytes) => OpenAsync(call, role, fields, maxBytes);

    private async Task<ConsoleSession> OpenAsync(HttpCall call, string role, IReadOnlySet<string>? fields, long maxBytes = JsonBody.MaxBytes)
    {
        ArgumentNullException.ThrowIfNull(call);
        var request = call.Request;
        var person = identity.Who(request);
        switch (StaffIdentity.Decide(person, role))
        {
            case StaffAccess.SignInNeeded when fields is null:
                return ConsoleSession.Refused(new RedirectResult(LoginUrl(request)));
            case StaffAccess.SignInNeeded:
                return ConsoleSession.Refused(ConsolePages.Message(null, StatusCodes.Status401Unauthorized, "Sign in", "Sign in to use the console.", new PageLink(LoginUrl(request), "Sign in")));
            case StaffAccess.Forbidden:
                return ConsoleSession.Refused(ConsolePages.Message(person, StatusCodes.Status403Forbidden, "Not allowed", $"This needs the role {role}, which you do not have. Ask an administrator to grant it."));
        }

        var signedIn = person!;
        var token = await tokens.IssueAsync(signedIn, call.Cancellation);
        IFormCollection? form = null;
        if (fields is not null)
        {
            if (ForeignOrigin(request))
            {
                return FormRefused(signedIn, "This form was sent from another site, so it is not accepted. Open the page in the console and repeat the change.");
            }

            var known = new HashSet<string>(fields, StringComparer.Ordinal) { FormTokens.FieldName };
            form = request.HasFormContentType ? await call.FormAsync(known, maxBytes) : null;
            var posted = form is null ? null : FormBody.Single(form, FormTokens.FieldName);
            switch (await tokens.CheckAsync(signedIn, posted, call.Cancellation))
            {
                case FormTokenCheck.Valid:
                    break;
                case FormTokenCheck.Expired:
                    return FormRefused(signedIn, $"This form was opened more than {FormTokens.Lifetime.TotalHours:0} hours ago, so it is no longer accepted. Open the page again and repeat the change.");
                case FormTokenCheck.FromTheFuture:
                    return FormRefused(signedIn, "This form carries an issue time ahead of the server's clock, so it is not accepted. Open the page again and repeat the change.");
                default:
                    return FormRefused(signedIn, "This form was not issued by this console to your current sign-in (it may come from another site, another person or an earlier sign-in). Open the page again and repeat the change.");
            }
        }

        return new ConsoleSession(signedIn, null, token, form, signedIn.Audit(call.CorrelationId));
    }

    private static ConsoleSession FormRefused(StaffPerson person, string text) =>
        ConsoleSession.Refused(ConsolePages.Message(person, StatusCodes.Status403Forbidden, "Form refused", text));

    /// <summary>The sign-in address that brings the browser back to the page it asked for.</summary>
    public static string LoginUrl(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var back = request.Path.Value + request.QueryString.Value;
        return LoginPath + "?post_login_redirect_uri=" + Uri.EscapeDataString(string.IsNullOrEmpty(back) ? "/console" : back);
    }

    /// <summary>True when the post names an origin other than the app's own (its host as requested, or its public address).</summary>
    private bool ForeignOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return true;
        }

        var own = mail.PublicBaseUrl;
        var samePublic = uri.Scheme == own.Scheme && string.Equals(uri.Authority, own.Authority, StringComparison.OrdinalIgnoreCase);
        var sameHost = request.Host.HasValue && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
        return !(samePublic || sameHost);
    }
}

/// <summary>An opened console request: the person, their form token and audit context, the posted form; or the refusal to send instead.</summary>
public sealed record ConsoleSession(StaffPerson? Person, IActionResult? Refusal, string? FormToken, IFormCollection? Form, CommandContext? Audit)
{
    public static ConsoleSession Refused(IActionResult refusal) => new(null, refusal, null, null, null);

    /// <summary>A posted field's single value, trimmed; empty when missing.</summary>
    public string Field(string name) => Form is null ? string.Empty : (FormBody.Single(Form, name) ?? string.Empty).Trim();
}
