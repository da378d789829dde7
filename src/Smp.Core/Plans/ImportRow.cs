using System.Collections.Immutable;
using NodaTime;

namespace Smp.Core.Plans;

/// <summary>
/// A validated row of a CSV import (SPEC section 9). <see cref="Plan"/> holds its dates, already checked:
/// <c>planStart</c> is the 1st of a month and <c>expiresOn</c> is after the start. <see cref="ReplacedBy"/> is set on a
/// row exported from a replaced license (SPEC section 10): the serial of the license that replaced it.
/// </summary>
public sealed record ImportRow(
    int RowNumber,
    Serial Serial,
    string? Product,
    Customer Customer,
    ImmutableArray<EmailAddress> Contacts,
    bool OnSiteTraining,
    ImportedPlan Plan,
    string? Note,
    Serial? ReplacedBy = null);

/// <summary>
/// Where an import row comes from: its file's SHA-256 (lower-case hex), the business date of the import and, for a
/// real run, the import's id (kept on the <c>imported</c> event, so a resumed run recognises its own rows).
/// </summary>
public sealed record ImportSource(string FileSha256, LocalDate ImportedOn, string? ImportId = null);
