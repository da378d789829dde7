using System.Collections.Concurrent;
using Azure.Core;
using Microsoft.Extensions.DependencyInjection;
using Smp.Core.Mail;

namespace Smp.Azure.Tests.Mail;

/// <summary>The endpoint mode: a Microsoft Entra token for the ACS scope, as the managed identity gets it in Azure.</summary>
public sealed class AcsBearerTokenTests : IAsyncLifetime
{
    private readonly string token = "token-" + Guid.NewGuid().ToString("N");
    private FakeCredential credential = null!;
    private FakeAcsServer server = null!;

    public async Task InitializeAsync()
    {
        credential = new FakeCredential(token);
        server = await FakeAcsServer.StartAsync(new FakeAcsAuth.Bearer(token));
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Sends_with_a_bearer_token_for_the_acs_scope_and_reuses_it()
    {
        await using var services = TestMail.AcsServices(
            server,
            TestMail.Configuration(("Smp:Email:Transport", "Acs"), ("Smp:Email:AcsEndpoint", server.Endpoint.ToString())),
            s => s.AddSingleton<TokenCredential>(credential));
        var transport = services.GetRequiredService<IMailTransport>();
        var mail = TestMail.Create();

        Assert.IsType<MailSendResult.Accepted>(await transport.SendAsync(mail, CancellationToken.None));
        Assert.IsType<MailSendResult.Accepted>(await transport.GetStatusAsync(mail.Id, CancellationToken.None));

        Assert.Empty(server.Violations);
        Assert.All(server.Requests, r => Assert.Equal("Bearer " + token, r.Header("Authorization")));
        var scopes = Assert.Single(credential.Requests);
        Assert.Equal(["https://communication.azure.com//.default"], scopes);
        Assert.DoesNotContain(services.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_credential_that_cannot_get_a_token_is_a_transient_failure()
    {
        await using var services = TestMail.AcsServices(
            server,
            TestMail.Configuration(("Smp:Email:Transport", "Acs"), ("Smp:Email:AcsEndpoint", server.Endpoint.ToString())),
            s => s.AddSingleton<TokenCredential>(new FakeCredential(null)));

        var result = await services.GetRequiredService<IMailTransport>().SendAsync(TestMail.Create(), CancellationToken.None);

        Assert.Contains("token", Assert.IsType<MailSendResult.TransientFailure>(result).Error, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    private sealed class FakeCredential(string? token) : TokenCredential
    {
        public ConcurrentQueue<string[]> Requests { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Requests.Enqueue(requestContext.Scopes);
            return token is null
                ? throw new global::Azure.Identity.CredentialUnavailableException("No identity here.")
                : ValueTask.FromResult(new AccessToken(token, FakeAcsServer.StartTime.AddHours(1)));
        }
    }
}
