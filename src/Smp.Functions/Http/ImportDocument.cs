using Smp.Core.Imports;

namespace Smp.Functions.Http;

/// <summary>
/// The import document of SPEC section 9: the job's status, exact counts and its first 1,000 errors; <see cref="Failure"/>
/// says why a run of the job failed (status <c>failed</c> once every attempt has).
/// </summary>
public sealed record ImportDocument(
    string Id,
    bool DryRun,
    ImportStatus Status,
    int Total,
    int Processed,
    int Created,
    int Unchanged,
    int Conflicts,
    int Invalid,
    IReadOnlyList<ImportErrorDocument> Errors,
    string? Failure = null)
{
    public static ImportDocument From(ImportJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new ImportDocument(
            job.Id,
            job.DryRun,
            job.Status,
            job.Total,
            job.Processed,
            job.Created,
            job.Unchanged,
            job.Conflicts,
            job.Invalid,
            [.. job.Errors.Select(e => new ImportErrorDocument(e.Row, e.Column, e.Message))],
            job.Failure);
    }
}

public sealed record ImportErrorDocument(int Row, string? Column, string Message);
