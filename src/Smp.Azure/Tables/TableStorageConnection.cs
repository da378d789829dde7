using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Smp.Azure.Tables;

/// <summary>
/// Where the tables are and how to reach them (SPEC section 6): <c>Smp:Tables</c> as a connection string,
/// or a table service URI reached with a managed identity; without <c>Smp:Tables</c>, the host's
/// <c>AzureWebJobsStorage</c> connection in the same two forms.
/// </summary>
/// <remarks>
/// The identity form reads, under the connection's name, <c>serviceUri</c> (or <c>tableServiceUri</c>, or
/// <c>accountName</c> for the public cloud's table endpoint), and optionally <c>clientId</c> (a
/// user-assigned identity) or <c>credential</c> = <c>managedidentity</c> (the system-assigned identity);
/// with neither, <see cref="DefaultAzureCredential"/> is used (a developer's own sign-in, locally). Keys
/// are read with ':' (<c>Smp:Tables:serviceUri</c>, what <c>Smp__Tables__serviceUri</c> becomes) and in
/// the Functions style with '__' after the name (<c>Smp:Tables__serviceUri</c>).
/// </remarks>
internal sealed partial class TableStorageConnection
{
    public const string SettingName = "Smp:Tables";
    public const string HostStorageSettingName = "AzureWebJobsStorage";

    private static readonly string[] ServiceUriKeys = ["serviceUri", "tableServiceUri"];

    private readonly string? connectionString;
    private readonly string? clientId;
    private readonly bool systemAssignedIdentity;

    private TableStorageConnection(string setting, string? connectionString, Uri? serviceUri, string? clientId, bool systemAssignedIdentity)
    {
        Setting = setting;
        this.connectionString = connectionString;
        ServiceUri = serviceUri;
        this.clientId = clientId;
        this.systemAssignedIdentity = systemAssignedIdentity;
    }

    /// <summary>The setting the connection was read from (for messages; never the secret itself).</summary>
    public string Setting { get; }

    /// <summary>The table service URI of the identity form; null for a connection string.</summary>
    public Uri? ServiceUri { get; }

    public bool UsesConnectionString => connectionString is not null;

    /// <summary>Reads the connection; an <see cref="OptionsValidationException"/> names the setting when it is missing or invalid.</summary>
    public static TableStorageConnection FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return TryRead(configuration, SettingName)
            ?? TryRead(configuration, HostStorageSettingName)
            ?? throw Invalid(
                SettingName,
                $"Table Storage is not configured. Set {SettingName} to a connection string, or {SettingName}:serviceUri " +
                $"(app setting Smp__Tables__serviceUri) to the table service URI reached with the managed identity " +
                $"({SettingName}:clientId for a user-assigned one). Without {SettingName}, the {HostStorageSettingName} " +
                "connection is used, and it is not set either.");
    }

    public TableServiceClient CreateClient(TableClientOptions? options = null)
    {
        options ??= new TableClientOptions();
        if (connectionString is not null)
        {
            return new TableServiceClient(connectionString, options);
        }

        TokenCredential credential = clientId is not null
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : systemAssignedIdentity
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new DefaultAzureCredential();
        return new TableServiceClient(ServiceUri!, credential, options);
    }

    private static TableStorageConnection? TryRead(IConfiguration configuration, string name)
    {
        var value = configuration[name];
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value.Contains('=', StringComparison.Ordinal) || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
                ? FromConnectionString(name, value.Trim())
                : FromServiceUri(name, name, uri, configuration);
        }

        foreach (var key in ServiceUriKeys)
        {
            var (setting, raw) = Child(configuration, name, key);
            if (raw is null)
            {
                continue;
            }

            if (!Uri.TryCreate(raw, UriKind.Absolute, out var serviceUri))
            {
                throw Invalid(setting, $"{setting} must be an absolute https URI of a table service, like https://ACCOUNT.table.core.windows.net.");
            }

            return FromServiceUri(name, setting, serviceUri, configuration);
        }

        var (accountSetting, account) = Child(configuration, name, "accountName");
        if (account is not null)
        {
            if (!StorageAccountName().IsMatch(account))
            {
                throw Invalid(accountSetting, $"{accountSetting} must be a storage account name (3-24 lower-case letters and digits).");
            }

            return FromServiceUri(name, accountSetting, new Uri($"https://{account}.table.core.windows.net"), configuration);
        }

        return null;
    }

    private static TableStorageConnection FromConnectionString(string setting, string value)
    {
        try
        {
            // Parses only; nothing is sent. The message leaves the value out: it may hold an account key.
            _ = new TableServiceClient(value);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            throw Invalid(setting, $"{setting} is not a valid Table Storage connection string ({e.GetType().Name}).");
        }

        return new TableStorageConnection(setting, value, null, null, false);
    }

    private static TableStorageConnection FromServiceUri(string name, string setting, Uri serviceUri, IConfiguration configuration)
    {
        if (serviceUri.Scheme != Uri.UriSchemeHttps)
        {
            throw Invalid(setting, $"{setting} must be an https URI: the identity's token is never sent over plain http.");
        }

        var (_, clientId) = Child(configuration, name, "clientId");
        var (credentialSetting, credential) = Child(configuration, name, "credential");
        var systemAssigned = false;
        if (credential is not null)
        {
            if (!string.Equals(credential, "managedidentity", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(credentialSetting, $"{credentialSetting} may only be 'managedidentity'.");
            }

            systemAssigned = true;
        }

        return new TableStorageConnection(setting, null, serviceUri, clientId, systemAssigned);
    }

    /// <summary>A setting under a connection name, as <c>name:key</c> or in the Functions style <c>name__key</c>.</summary>
    private static (string Setting, string? Value) Child(IConfiguration configuration, string name, string key)
    {
        foreach (var setting in new[] { $"{name}:{key}", $"{name}__{key}" })
        {
            var value = configuration[setting];
            if (!string.IsNullOrWhiteSpace(value))
            {
                return (setting, value.Trim());
            }
        }

        return ($"{name}:{key}", null);
    }

    private static OptionsValidationException Invalid(string setting, string message) =>
        new(setting, typeof(TableStorageConnection), [message]);

    [GeneratedRegex("^[a-z0-9]{3,24}$", RegexOptions.CultureInvariant)]
    private static partial Regex StorageAccountName();
}
