using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Smp.Core.Licenses;
using Smp.Core.Plans;
using Smp.Core.Reminders;

namespace Smp.Functions.Http;

/// <summary>
/// Turns stored licenses into license documents for today's business date, and a license command's outcome
/// into its HTTP answer (SPEC section 3).
/// </summary>
public sealed class LicenseResults(BusinessCalendar calendar, ReminderSchedule schedule)
{
    public LicenseDocument Document(StoredLicense stored, IReadOnlyList<LicenseEvent>? events = null) =>
        LicenseDocument.From(stored, calendar.Today, schedule, events);

    public IActionResult For(CommandResult result, int createdStatus = StatusCodes.Status201Created) =>
        result.Outcome switch
        {
            CommandOutcome.Created or CommandOutcome.Updated when createdStatus == StatusCodes.Status201Created =>
                new CreatedResult(Location(result.License!), Document(result.License!)),
            CommandOutcome.Created or CommandOutcome.Updated or CommandOutcome.Unchanged =>
                new OkObjectResult(Document(result.License!)),
            CommandOutcome.Conflict => Problems.Conflict(result.Detail ?? "The request conflicts with the recorded license."),
            CommandOutcome.NotFound => NotFound(),
            CommandOutcome.TooLarge => Problems.TooLarge(result.Detail ?? "The license would be too large to store."),
            _ => throw new InvalidOperationException($"Unknown outcome {result.Outcome}."),
        };

    public static ObjectResult NotFound() => Problems.NotFound("No license has this serial.");

    public static string Location(StoredLicense license) => $"/api/licenses/{license.License.Serial.Value}";
}
