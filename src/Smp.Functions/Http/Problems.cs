using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Smp.Functions.Http;

/// <summary>RFC 9457 problem documents, the only shape an error takes on this API.</summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";
    // Problem types are URNs: stable identifiers that do not pretend to be a documentation site.
    private const string TypeBase = "urn:smp:problem:";

    public static class Types
    {
        public const string Validation = TypeBase + "validation";
        public const string NotFound = TypeBase + "not-found";
        public const string Conflict = TypeBase + "conflict";
        public const string Unavailable = TypeBase + "unavailable";
        public const string Busy = TypeBase + "busy";
        public const string TooLarge = TypeBase + "too-large";
        public const string TooManyRequests = TypeBase + "too-many-requests";
        public const string PayloadTooLarge = TypeBase + "payload-too-large";
    }

    public static ObjectResult Validation(ValidationErrors errors) =>
        Result(new ValidationProblemDetails(errors.ToDictionary())
        {
            Type = Types.Validation,
            Title = "The request is not valid.",
            Status = StatusCodes.Status400BadRequest,
            Detail = errors.Summary(),
        });

    public static ObjectResult NotFound(string detail) =>
        Result(new ProblemDetails { Type = Types.NotFound, Title = "Not found.", Status = StatusCodes.Status404NotFound, Detail = detail });

    public static ObjectResult Conflict(string detail) =>
        Result(new ProblemDetails { Type = Types.Conflict, Title = "The request conflicts with what is recorded.", Status = StatusCodes.Status409Conflict, Detail = detail });

    public static ObjectResult TooLarge(string detail) =>
        Result(new ProblemDetails { Type = Types.TooLarge, Title = "The license would grow larger than storage holds.", Status = StatusCodes.Status422UnprocessableEntity, Detail = detail });

    public static ObjectResult Unavailable(string detail) =>
        Result(new ProblemDetails { Type = Types.Unavailable, Title = "A dependency is unavailable.", Status = StatusCodes.Status503ServiceUnavailable, Detail = detail });

    public static ObjectResult Busy(string detail) =>
        Result(new ProblemDetails { Type = Types.Busy, Title = "The record is busy; retry the request.", Status = StatusCodes.Status503ServiceUnavailable, Detail = detail });

    public static ObjectResult TooManyRequests(string detail) =>
        Result(new ProblemDetails { Type = Types.TooManyRequests, Title = "Too many requests today.", Status = StatusCodes.Status429TooManyRequests, Detail = detail });

    /// <summary>413: a body larger than the route takes (the import's 10 MiB); nothing was read past the limit.</summary>
    public static ObjectResult PayloadTooLarge(string detail) =>
        Result(new ProblemDetails { Type = Types.PayloadTooLarge, Title = "The request body is too large.", Status = StatusCodes.Status413PayloadTooLarge, Detail = detail });

    private static ObjectResult Result(ProblemDetails problem)
    {
        var result = new ObjectResult(problem) { StatusCode = problem.Status };
        result.ContentTypes.Add(ContentType);
        return result;
    }
}
