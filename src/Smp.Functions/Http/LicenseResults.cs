using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Smp.Core.Licenses;

namespace Smp.Functions.Http;

/// <summary>Maps a license command's outcome to its HTTP answer (SPEC section 3).</summary>
public static class LicenseResults
{
    public static IActionResult For(CommandResult result, LocalDate today, int createdStatus = StatusCodes.Status201Created) =>
        result.Outcome switch
        {
            CommandOutcome.Created or CommandOutcome.Updated when createdStatus == StatusCodes.Status201Created =>
                new CreatedResult(Location(result.License!), LicenseDocument.From(result.License!, today, null)),
            CommandOutcome.Created or CommandOutcome.Updated or CommandOutcome.Unchanged =>
                new OkObjectResult(LicenseDocument.From(result.License!, today, null)),
            CommandOutcome.Conflict => Problems.Conflict(result.Detail ?? "The request conflicts with the recorded license."),
            CommandOutcome.NotFound => NotFound(),
            CommandOutcome.TooLarge => Problems.TooLarge(result.Detail ?? "The license would be too large to store."),
            _ => throw new InvalidOperationException($"Unknown outcome {result.Outcome}."),
        };

    public static ObjectResult NotFound() => Problems.NotFound("No license has this serial.");

    public static string Location(StoredLicense license) => $"/api/licenses/{license.License.Serial.Value}";
}
