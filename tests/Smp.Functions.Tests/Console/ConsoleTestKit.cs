using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Smp.Core.Mail;
using Smp.Functions.Staff;

namespace Smp.Functions.Tests.Console;

/// <summary>People of SPEC section 7 and the app set up as App Service would run it (authentication on).</summary>
public static partial class ConsoleTestKit
{
    public const string StaffId = "11111111-2222-4333-8444-555555555555";
    public const string ReaderId = "22222222-2222-4333-8444-555555555555";
    public const string AdminId = "33333333-2222-4333-8444-555555555555";
    public const string NoRoleId = "44444444-2222-4333-8444-555555555555";

    public static readonly Instant Now = Instant.FromUtc(2026, 3, 20, 16, 0);

    public static string StaffPrincipal => ClientPrincipal.Encode("Dana Staff", StaffId, StaffRoles.Staff);

    public static string ReaderPrincipal => ClientPrincipal.Encode("Robin Reader", ReaderId, StaffRoles.Reader);

    public static string NoRolePrincipal => ClientPrincipal.Encode("Nora Norole", NoRoleId);

    public static Dictionary<string, string?> AuthOn() => new() { [StaffIdentity.AuthEnabledSetting] = "True" };

    /// <summary>The app with authentication on and a mail transport a test can make fail.</summary>
    public static ApiHarness App(string tables, FailingTransport? transport = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = AuthOn();
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new ApiHarness(tables, Now, all, collection =>
        {
            if (transport is not null)
            {
                collection.Decorate<IMailTransport>((pickup, _) => transport.Around(pickup));
            }

            services?.Invoke(collection);
        });
    }

    public static Dictionary<string, string> As(string principal, string? origin = null)
    {
        var headers = new Dictionary<string, string> { [ClientPrincipal.Header] = principal };
        if (origin is not null)
        {
            headers["Origin"] = origin;
        }

        return headers;
    }

    /// <summary>The anti-forgery token of the first form on a page.</summary>
    public static string TokenOf(string html) => FormToken().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("The page has no form token.");

    [GeneratedRegex("name=\"__form\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    /// <summary>A transport that refuses every mail while <see cref="Refusing"/> is set.</summary>
    public sealed class FailingTransport
    {
        public bool Refusing { get; set; }

        public IMailTransport Around(IMailTransport inner) => new Wrapper(this, inner);

        private sealed class Wrapper(FailingTransport owner, IMailTransport inner) : IMailTransport
        {
            public Task<MailSendResult> SendAsync(OutgoingMail mail, CancellationToken cancellationToken) =>
                owner.Refusing ? Task.FromResult<MailSendResult>(new MailSendResult.PermanentFailure("550 5.1.1 Mailbox does not exist.")) : inner.SendAsync(mail, cancellationToken);

            public Task<MailSendResult> GetStatusAsync(string mailId, CancellationToken cancellationToken) => inner.GetStatusAsync(mailId, cancellationToken);
        }
    }
}
