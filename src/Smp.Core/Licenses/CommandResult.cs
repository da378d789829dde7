namespace Smp.Core.Licenses;

public enum CommandOutcome
{
    /// <summary>A new license was stored.</summary>
    Created,

    /// <summary>The license changed and an event was recorded.</summary>
    Updated,

    /// <summary>The request repeats one already applied: nothing changed.</summary>
    Unchanged,

    /// <summary>The request contradicts what is stored (same key, different data): nothing changed.</summary>
    Conflict,

    /// <summary>No license has this serial.</summary>
    NotFound,

    /// <summary>The changed license or its event would be larger than the store holds: nothing changed.</summary>
    TooLarge,
}

/// <summary>The result of a license command: the outcome and, unless not found, the license as it now stands.</summary>
public sealed record CommandResult(CommandOutcome Outcome, StoredLicense? License, string? Detail = null);
