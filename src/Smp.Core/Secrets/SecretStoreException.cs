namespace Smp.Core.Secrets;

/// <summary>
/// A secret store could not do what was asked. The message names the secret and the cause, never its value.
/// </summary>
public sealed class SecretStoreException : Exception
{
    public SecretStoreException()
    {
    }

    public SecretStoreException(string message)
        : base(message)
    {
    }

    public SecretStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
