namespace Smp.Core.Secrets;

/// <summary>Argument checks shared by the secret stores; their messages never include a value.</summary>
public static class SecretArguments
{
    public static void ThrowIfInvalid(SecretName name)
    {
        if (name.Value is null)
        {
            throw new ArgumentException("The secret name is not set (default value).", nameof(name));
        }
    }

    public static void ThrowIfInvalidValue(string value, SecretName name)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            throw new ArgumentException($"The value of secret '{name}' must not be empty.", nameof(value));
        }
    }
}
