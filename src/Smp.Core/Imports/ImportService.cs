using NodaTime;
using Smp.Core.Licenses;
using Smp.Core.Plans;

namespace Smp.Core.Imports;

/// <summary>The answer to a new import: the job, or why the file was refused before any job existed.</summary>
public sealed record ImportStart(ImportJob? Job, IReadOnlyList<ImportError> Errors);

/// <summary>
/// The CSV import of SPEC section 9: checks a file and stores it with its job, then advances the jobs in the
/// background, a batch of rows at a time. Each batch is announced on the job (<see cref="ImportJob.Attempted"/>) before
/// its first row and counted after its last; a run that dies in between leaves the counts of the last whole batch, and
/// the next run does the batch again: a row this job already imported is found by its <c>imported</c> event (same
/// import id and row) and counted as created once more, never imported twice.
/// </summary>
/// <remarks>
/// Each row and each job stands alone. A row whose license cannot be read or stored (storage failing past its retries,
/// a stored record that cannot be understood, a license that kept changing under the import) is counted invalid with
/// an error that says so, and the next row follows. A run of a job that fails otherwise (its file cannot be read, the
/// job cannot be saved, a fault) is recorded on the job, and the next job still gets its turn; after
/// <see cref="ImportJob.MaxFailures"/> failed runs the job is marked failed with the kind of error, so it never holds
/// up the jobs behind it. The run then reports the first such error to its caller.
/// </remarks>
public sealed class ImportService(IImportStore imports, ILicenseStore store, LicenseService licenses, BusinessCalendar calendar, ReminderSchedule schedule, PlanOptions options, IStorageFailures? storageFailures = null)
{
    public const int BatchSize = 100;

    public async Task<ImportStart> StartAsync(ReadOnlyMemory<byte> bytes, bool dryRun, CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var file = ImportFile.Open(bytes.Span, out var errors);
        if (file is null)
        {
            return new ImportStart(null, errors);
        }

        var job = new ImportJob(
            Guid.NewGuid().ToString("N"),
            dryRun,
            ImportStatus.Queued,
            file.Sha256,
            calendar.Today,
            context.Actor,
            context.CorrelationId,
            calendar.Now,
            file.Rows().Count(),
            0,
            0,
            0,
            0,
            0,
            0,
            [])
        {
            ActorId = context.ActorId,
        };
        await imports.CreateAsync(job, bytes, cancellationToken);
        return new ImportStart(job, []);
    }

    /// <summary>
    /// The real run of a dry run's file (the console's "import these rows"): a new job over the very bytes the dry run
    /// reported on, so what is imported is what was checked; null when <paramref name="dryRunId"/> is no dry run.
    /// </summary>
    public async Task<ImportStart?> StartRealRunAsync(string dryRunId, CommandContext context, CancellationToken cancellationToken)
    {
        if (await imports.GetAsync(dryRunId, cancellationToken) is not { Job.DryRun: true })
        {
            return null;
        }

        var bytes = await imports.ReadFileAsync(dryRunId, cancellationToken);
        return await StartAsync(bytes, dryRun: false, context, cancellationToken);
    }

    public async Task<ImportJob?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await imports.GetAsync(id, cancellationToken))?.Job;

    /// <summary>Advances every unfinished job by at most <paramref name="maxBatches"/> batches in all; the number of rows processed.</summary>
    public async Task<int> ProcessPendingAsync(int maxBatches, CancellationToken cancellationToken)
    {
        var rows = 0;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? firstFailure = null;
        foreach (var stored in await imports.ListUnfinishedAsync(cancellationToken))
        {
            try
            {
                var (done, batches) = await ProcessAsync(stored, maxBatches, cancellationToken);
                rows += done;
                maxBatches -= batches;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // This job's trouble is its own: record it on the job, and let the next job run.
                firstFailure ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                await RecordFailureAsync(stored.Job.Id, e, cancellationToken);
                maxBatches--;
            }

            if (maxBatches <= 0)
            {
                break;
            }
        }

        firstFailure?.Throw();
        return rows;
    }

    /// <summary>Counts a failed run on the job; the <see cref="ImportJob.MaxFailures"/>th marks it failed. Best effort: storage may be what failed.</summary>
    private async Task RecordFailureAsync(string id, Exception error, CancellationToken cancellationToken)
    {
        try
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                if (await imports.GetAsync(id, cancellationToken) is not { Job.Status: ImportStatus.Queued or ImportStatus.Running } current)
                {
                    return;
                }

                var failures = current.Job.Failures + 1;
                var failed = failures >= ImportJob.MaxFailures;
                var reason = failed
                    ? $"The import stopped: each of its last {failures} runs failed ({error.GetType().Name}). The rows counted so far stay imported; post the rest of the file again."
                    : $"Run {failures} failed ({error.GetType().Name}); the next run tries again.";
                var updated = current.Job with { Failures = failures, Failure = reason, Status = failed ? ImportStatus.Failed : current.Job.Status };
                if (await imports.TryUpdateAsync(current, updated, cancellationToken) is not null)
                {
                    return;
                }
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The failure stays uncounted this time; the run still reports the original error.
        }
    }

    private async Task<(int Rows, int Batches)> ProcessAsync(StoredImportJob stored, int maxBatches, CancellationToken cancellationToken)
    {
        var bytes = await imports.ReadFileAsync(stored.Job.Id, cancellationToken);
        var file = ImportFile.Open(bytes, out _) ?? throw new InvalidDataException($"The file of import {stored.Job.Id} can no longer be read.");
        var job = stored.Job;
        var source = new ImportSource(job.FileSha256, job.ImportedOn);
        var importContext = new CommandContext(job.Actor, job.CorrelationId, job.ActorId);
        using var rows = file.Rows().Skip(job.Processed).GetEnumerator();
        var processed = 0;
        var batches = 0;
        while (batches < maxBatches)
        {
            var batch = new List<ImportFileRow>(BatchSize);
            while (batch.Count < BatchSize && rows.MoveNext())
            {
                batch.Add(rows.Current);
            }

            if (batch.Count == 0)
            {
                await imports.TryUpdateAsync(stored, stored.Job with { Status = ImportStatus.Done, Failure = null }, cancellationToken);
                break;
            }

            // Announce the batch before its first write: a run after a crash knows these rows may be imported already.
            var resumed = stored.Job.Attempted;
            var announced = await imports.TryUpdateAsync(stored, stored.Job with { Status = ImportStatus.Running, Attempted = stored.Job.Processed + batch.Count }, cancellationToken);
            if (announced is null)
            {
                break; // Another run took the job over.
            }

            job = announced.Job;
            foreach (var row in batch)
            {
                job = await ProcessRowAsync(job, row, resumed, source, importContext, cancellationToken);
            }

            job = job with { Processed = job.Processed + batch.Count };
            var done = job.Processed >= job.Total;
            var counted = await imports.TryUpdateAsync(announced, done ? job with { Status = ImportStatus.Done, Failure = null } : job, cancellationToken);
            if (counted is null)
            {
                break; // Another run took the job over; it counts this batch again.
            }

            stored = counted;
            processed += batch.Count;
            batches++;
            if (done)
            {
                break;
            }
        }

        return (processed, batches);
    }

    private async Task<ImportJob> ProcessRowAsync(ImportJob job, ImportFileRow row, int resumed, ImportSource source, CommandContext context, CancellationToken cancellationToken)
    {
        if (row.Row is null)
        {
            return (job with { Invalid = job.Invalid + 1 }).WithErrors(row.Errors);
        }

        if (row.DuplicateOf is { } first)
        {
            return Conflict(job, row, $"Serial {row.Row.Serial} is already in row {first} of this file.");
        }

        try
        {
            return await DecideRowAsync(job, row, resumed, source, context, cancellationToken);
        }
        catch (Exception e) when (IsRowFailure(e, cancellationToken))
        {
            return (job with { Invalid = job.Invalid + 1 }).WithErrors([new ImportError(
                row.RowNumber,
                ImportColumns.Serial,
                $"The license of serial {row.Row.Serial} could not be read or stored ({e.GetType().Name}); nothing was imported for this row. Post it again later.")]);
        }
    }

    /// <summary>
    /// A failure that belongs to one row's license: storage that failed past its retries, a stored record that cannot
    /// be understood, a license that kept changing under the import. Anything else (a fault, a process going down) is
    /// the run's.
    /// </summary>
    private bool IsRowFailure(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && (e is ConcurrencyExhaustedException or System.Text.Json.JsonException or InvalidDataException or FormatException or NotSupportedException
            || storageFailures?.IsStorageFailure(e) == true);

    private async Task<ImportJob> DecideRowAsync(ImportJob job, ImportFileRow row, int resumed, ImportSource source, CommandContext context, CancellationToken cancellationToken)
    {
        var importRow = row.Row!;
        if (importRow.ReplacedBy is { } holderSerial
            && HolderProblem((await store.GetAsync(holderSerial, cancellationToken))?.License, row, job.DryRun, source, context) is { } problem)
        {
            return Conflict(job, row, problem, row.NamedReplacement ? ImportColumns.ReplacedBy : LicenseCsv.Status);
        }

        if (job.DryRun)
        {
            var existing = await store.GetAsync(importRow.Serial, cancellationToken);
            return PlanDecisions.Import(existing?.License, importRow, source, options.DefaultProduct, schedule, calendar.Zone, calendar.Now, context) switch
            {
                Decision.Change => job with { Created = job.Created + 1 },
                Decision.NoChange => job with { Unchanged = job.Unchanged + 1 },
                Decision.Refuse refuse => Conflict(job, row, refuse.Detail),
                _ => throw new InvalidOperationException("Unknown decision."),
            };
        }

        var result = await licenses.ImportAsync(importRow, source with { ImportId = job.Id }, schedule, context, cancellationToken);
        switch (result.Outcome)
        {
            case CommandOutcome.Created:
                return job with { Created = job.Created + 1 };
            case CommandOutcome.Unchanged when row.Index < resumed && await ImportedByAsync(job, row, cancellationToken):
                return job with { Created = job.Created + 1 };
            case CommandOutcome.Unchanged:
                return job with { Unchanged = job.Unchanged + 1 };
            case CommandOutcome.Conflict:
                return Conflict(job, row, result.Detail ?? $"Serial {importRow.Serial} already exists with other data.");
            default:
                return (job with { Invalid = job.Invalid + 1 }).WithErrors([new ImportError(row.RowNumber, null, result.Detail ?? "The row cannot be stored.")]);
        }
    }

    /// <summary>True when this job's own earlier run imported the row (its first event names this import and row).</summary>
    private async Task<bool> ImportedByAsync(ImportJob job, ImportFileRow row, CancellationToken cancellationToken)
    {
        var events = await store.GetEventsAsync(row.Row!.Serial, cancellationToken);
        return events.Count > 0
            && events[0].Type == LicenseEventTypes.Imported
            && events[0].Data.GetValueOrDefault(LicenseEventData.ImportId) == job.Id
            && events[0].Data.GetValueOrDefault(LicenseEventData.Row) == row.RowNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// SPEC section 10: a replaced row is imported only with the license that replaced it. When the file names it
    /// (<c>replacedBy</c>), that license must be stored (its row, when the file holds one, came first in this job:
    /// <see cref="ImportFile.Rows"/>) and hold the same plan: the same customer and product. It may have changed since
    /// (renewed, other contacts) or have been replaced in turn (a chain). When the file only says <c>status</c>
    /// <c>replaced</c>, the license found by its plan must be current and hold exactly this row's data. Otherwise the
    /// plan would pass to another license, or be left with none current. A dry run writes nothing: there the
    /// replacement's row in the file, checked before, would create it.
    /// </summary>
    private string? HolderProblem(License? holder, ImportFileRow fileRow, bool dryRun, ImportSource source, CommandContext context)
    {
        var row = fileRow.Row!;
        var holderSerial = row.ReplacedBy!.Value;
        if (holder is null)
        {
            return dryRun && fileRow.ReplacementInFile
                ? null
                : fileRow.ReplacementInFile || !fileRow.NamedReplacement
                    ? $"Serial {row.Serial} is replaced by {holderSerial}, whose row was not imported; nothing was imported for this row."
                    : $"Serial {row.Serial} is replaced by {holderSerial}, which is neither in this file nor stored; nothing was imported for this row.";
        }

        if (fileRow.NamedReplacement)
        {
            var product = string.IsNullOrWhiteSpace(row.Product) ? options.DefaultProduct : row.Product.Trim();
            return holder.Customer.Id == row.Customer.Id && holder.Product == product
                ? null
                : $"Serial {row.Serial} is replaced by {holderSerial}, but the license {holderSerial} belongs to another customer or product; nothing was imported for this row.";
        }

        var samePlan = !holder.IsReplaced
            && PlanDecisions.Import(holder, row with { ReplacedBy = null }, source, options.DefaultProduct, schedule, calendar.Zone, calendar.Now, context) is Decision.NoChange;
        return samePlan ? null : $"Serial {row.Serial} is replaced by {holderSerial}, but the stored license {holderSerial} is not this plan's current license (another customer, product, contacts, training or dates); nothing was imported for this row.";
    }

    private static ImportJob Conflict(ImportJob job, ImportFileRow row, string detail, string column = ImportColumns.Serial) =>
        (job with { Conflicts = job.Conflicts + 1 }).WithErrors([new ImportError(row.RowNumber, column, detail)]);
}
