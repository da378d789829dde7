using Smp.Core.Secrets;

namespace Smp.Azure.Tests.Faults;

/// <summary>
/// The process's secret store (the local secret folder, where Key Vault would be in Azure) with its writes counted
/// by the process's <see cref="ProcessCrashPolicy"/> among the storage writes, so a crash sweep also stops a use case
/// just before and just after each secret it stores. A write is <see cref="SetAsync"/>, or
/// <see cref="GetOrCreateAsync"/> when the secret does not exist yet. Once the process has crashed, every call fails.
/// </summary>
internal sealed class CrashingSecretStore(ISecretStore inner, ProcessCrashPolicy crash) : ISecretStore
{
    public Task<string?> GetAsync(SecretName name, CancellationToken cancellationToken)
    {
        crash.BeforeRead();
        return inner.GetAsync(name, cancellationToken);
    }

    public async Task SetAsync(SecretName name, string value, CancellationToken cancellationToken)
    {
        var crashAfter = crash.BeforeWrite($"secret {name}");
        await inner.SetAsync(name, value, cancellationToken);
        crash.AfterWrite(crashAfter);
    }

    public async Task<string> GetOrCreateAsync(SecretName name, Func<string> create, CancellationToken cancellationToken)
    {
        crash.BeforeRead();
        if (await inner.GetAsync(name, cancellationToken) is { } existing)
        {
            return existing;
        }

        var crashAfter = crash.BeforeWrite($"secret {name}");
        var value = await inner.GetOrCreateAsync(name, create, cancellationToken);
        crash.AfterWrite(crashAfter);
        return value;
    }

    public Task<IReadOnlyList<string>> GetEnabledVersionsAsync(SecretName name, CancellationToken cancellationToken)
    {
        crash.BeforeRead();
        return inner.GetEnabledVersionsAsync(name, cancellationToken);
    }
}
