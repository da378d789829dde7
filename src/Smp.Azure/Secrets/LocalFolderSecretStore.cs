using System.Text;
using Microsoft.Extensions.Logging;
using Smp.Core.Secrets;

namespace Smp.Azure.Secrets;

/// <summary>
/// <see cref="ISecretStore"/> for local runs: one file per secret in a folder
/// (<c>Smp:Secrets:LocalDirectory</c>), named after the secret and holding its value as UTF-8. A line
/// break at the end of a file is ignored, so a file written with an editor works.
/// </summary>
/// <remarks>
/// <para>
/// The folder is created when missing. On Linux and macOS the folder is created readable by its owner
/// only (0700) and every file is created 0600; on Windows they inherit the folder's access rules.
/// </para>
/// <para>
/// Every write goes to a temporary file in the same folder (<c>.NAME.RANDOM.tmp</c>; the dot keeps it
/// apart from secret names) that is flushed and then renamed over the secret's file, so a reader sees
/// the old value or the new one, never a partial file. <see cref="GetOrCreateAsync"/> puts its file in
/// place only if the name is free (<see cref="NoReplaceRename"/>): the first creator's file stays and
/// every other creator reads it back.
/// </para>
/// </remarks>
public sealed partial class LocalFolderSecretStore : ISecretStore
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ILogger<LocalFolderSecretStore> logger;

    public LocalFolderSecretStore(string directory, ILogger<LocalFolderSecretStore> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(logger);
        Directory = Path.GetFullPath(directory);
        this.logger = logger;
        if (!System.IO.Directory.Exists(Directory))
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(Directory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(Directory, OwnerOnlyDirectory);
            }
        }
    }

    /// <summary>The full path of the folder.</summary>
    public string Directory { get; }

    public async Task<string?> GetAsync(SecretName name, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        string text;
        try
        {
            text = await File.ReadAllTextAsync(PathOf(name), Utf8, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            LogNotFound(logger, name.Value);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new SecretStoreException($"The file of secret '{name}' in {Directory} could not be read: {e.GetType().Name}.");
        }

        var value = text.TrimEnd('\r', '\n');
        return value.Length > 0
            ? value
            : throw new SecretStoreException($"The file of secret '{name}' in {Directory} is empty.");
    }

    public async Task SetAsync(SecretName name, string value, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        SecretArguments.ThrowIfInvalidValue(value, name);
        var temp = await WriteTempAsync(name, value, cancellationToken);
        try
        {
            File.Move(temp, PathOf(name), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretStoreException($"Secret '{name}' could not be written to {Directory}: {e.GetType().Name}.");
        }
        finally
        {
            DeleteQuietly(temp);
        }

        LogStored(logger, name.Value);
    }

    /// <summary>A folder keeps one version per secret: the current value alone (development use; no key rotation with overlap).</summary>
    public async Task<IReadOnlyList<string>> GetEnabledVersionsAsync(SecretName name, CancellationToken cancellationToken) =>
        await GetAsync(name, cancellationToken) is { } value ? [value] : [];

    public async Task<string> GetOrCreateAsync(SecretName name, Func<string> create, CancellationToken cancellationToken)
    {
        SecretArguments.ThrowIfInvalid(name);
        ArgumentNullException.ThrowIfNull(create);

        var existing = await GetAsync(name, cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        var value = create();
        SecretArguments.ThrowIfInvalidValue(value, name);
        var temp = await WriteTempAsync(name, value, cancellationToken);
        var target = PathOf(name);
        try
        {
            // Of concurrent creators exactly one puts its file in place; the others read the winner's value.
            if (NoReplaceRename.TryMove(temp, target))
            {
                LogCreated(logger, name.Value);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretStoreException($"Secret '{name}' could not be created in {Directory}: {e.GetType().Name}.");
        }
        finally
        {
            DeleteQuietly(temp);
        }

        return await GetAsync(name, cancellationToken)
            ?? throw new SecretStoreException($"Secret '{name}' disappeared from {Directory} right after it was created.");
    }

    private string PathOf(SecretName name) => Path.Combine(Directory, name.Value);

    private async Task<string> WriteTempAsync(SecretName name, string value, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(Directory, $".{name.Value}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        try
        {
            var stream = new FileStream(temp, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(Utf8.GetBytes(value), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeleteQuietly(temp);
            throw new SecretStoreException($"Secret '{name}' could not be written to {Directory}: {e.GetType().Name}.");
        }
        catch (OperationCanceledException)
        {
            DeleteQuietly(temp);
            throw;
        }

        return temp;
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file holds no live value and is never read.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Secret {SecretName} does not exist in the local folder.")]
    private static partial void LogNotFound(ILogger logger, string secretName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored secret {SecretName} in the local folder.")]
    private static partial void LogStored(ILogger logger, string secretName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created secret {SecretName} in the local folder.")]
    private static partial void LogCreated(ILogger logger, string secretName);
}
