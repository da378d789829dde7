using System.Net.Http.Headers;
using Azure.Core;

namespace Smp.Azure.Mail;

/// <summary>Adds the ACS access-key headers (<see cref="AcsHmacSigner"/>) to every request, signed at send time.</summary>
internal sealed class AcsHmacAuthenticationHandler(AcsHmacSigner signer, TimeProvider timeProvider) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var signature = signer.Sign(request.Method.Method, uri, timeProvider.GetUtcNow(), body);

        request.Headers.Remove("x-ms-date");
        request.Headers.Remove("x-ms-content-sha256");
        request.Headers.TryAddWithoutValidation("x-ms-date", signature.Date);
        request.Headers.TryAddWithoutValidation("x-ms-content-sha256", signature.ContentHash);
        request.Headers.Authorization = null;
        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// Gets and caches Microsoft Entra tokens for ACS. One instance per application: HTTP handlers come
/// and go with the client factory's handler rotation, the cached token stays.
/// </summary>
internal sealed class AcsAccessTokenSource(TokenCredential credential, TimeProvider timeProvider) : IDisposable
{
    public const string Scope = "https://communication.azure.com//.default";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim gate = new(1, 1);
    private AccessToken? cached;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (IsFresh(cached))
        {
            return cached!.Value.Token;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!IsFresh(cached))
            {
                cached = await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken);
            }

            return cached!.Value.Token;
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    private bool IsFresh(AccessToken? token)
    {
        if (token is not { } t)
        {
            return false;
        }

        var now = timeProvider.GetUtcNow();
        return now < t.ExpiresOn - RefreshMargin && (t.RefreshOn is not { } refreshOn || now < refreshOn);
    }
}

/// <summary>Adds <c>Authorization: Bearer</c> with a token for <see cref="AcsAccessTokenSource.Scope"/>; HTTPS only.</summary>
internal sealed class AcsBearerTokenHandler(AcsAccessTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is not { Scheme: "https" })
        {
            throw new InvalidOperationException("A bearer token is only sent over HTTPS.");
        }

        var token = await tokens.GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }
}
