using System.Collections.Immutable;
using NodaTime;

namespace Smp.Core.Imports;

public enum ImportStatus
{
    Queued,
    Running,
    Done,

    /// <summary>The job failed on every one of its attempts (<see cref="ImportJob.MaxFailures"/>); <see cref="ImportJob.Failure"/> says why.</summary>
    Failed,
}

/// <summary>
/// An import (SPEC section 9) and its progress. <see cref="Processed"/> rows (in file order) are counted in the exact
/// counts; <see cref="Attempted"/> is how far a run may have gone before its last checkpoint, so a run that resumes
/// knows which rows it may find already imported by this job. <see cref="Errors"/> holds the first
/// <see cref="MaxErrors"/> errors.
/// </summary>
public sealed record ImportJob(
    string Id,
    bool DryRun,
    ImportStatus Status,
    string FileSha256,
    LocalDate ImportedOn,
    string Actor,
    string CorrelationId,
    Instant CreatedAt,
    int Total,
    int Processed,
    int Attempted,
    int Created,
    int Unchanged,
    int Conflicts,
    int Invalid,
    ImmutableArray<ImportError> Errors)
{
    public const int MaxErrors = 1000;

    /// <summary>A job whose runs fail this many times in all is marked <see cref="ImportStatus.Failed"/>, so the jobs after it run.</summary>
    public const int MaxFailures = 3;

    /// <summary>The id of the person who started the job (R15), when the caller has one: its events carry it too.</summary>
    public string? ActorId { get; init; }

    /// <summary>How many runs of this job failed (an error that is no row's own: its file cannot be read, storage fails).</summary>
    public int Failures { get; init; }

    /// <summary>Why the job's last failed run failed: the kind of error, never its message (which may quote storage addresses).</summary>
    public string? Failure { get; init; }

    public ImportJob WithErrors(IEnumerable<ImportError> more) =>
        this with { Errors = Errors.Length >= MaxErrors ? Errors : [.. Errors, .. more.Take(MaxErrors - Errors.Length)] };
}

/// <summary>An import job as stored, with the version that guards its next write.</summary>
public sealed record StoredImportJob(ImportJob Job, string ETag);

/// <summary>
/// Durable import jobs and their files. A job is stored after its whole file, so a stored job can always read it.
/// </summary>
public interface IImportStore
{
    /// <summary>Stores the file, then the job; the same id twice is an error.</summary>
    Task CreateAsync(ImportJob job, ReadOnlyMemory<byte> file, CancellationToken cancellationToken);

    Task<StoredImportJob?> GetAsync(string id, CancellationToken cancellationToken);

    Task<byte[]> ReadFileAsync(string id, CancellationToken cancellationToken);

    /// <summary>The jobs neither done nor failed, oldest first.</summary>
    Task<IReadOnlyList<StoredImportJob>> ListUnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the job under its version; null, with nothing written, when another run changed it meanwhile.</summary>
    Task<StoredImportJob?> TryUpdateAsync(StoredImportJob current, ImportJob updated, CancellationToken cancellationToken);
}
