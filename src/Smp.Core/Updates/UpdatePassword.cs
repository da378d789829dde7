namespace Smp.Core.Updates;

/// <summary>
/// What an update password may be: 1-200 characters, no control characters, and no white space at either end
/// (a customer copying it from a page would lose or gain those unseen). Messages never include the value.
/// </summary>
public static class UpdatePassword
{
    public const int MaxLength = 200;

    /// <summary>Why <paramref name="value"/> cannot be a password, or null when it can.</summary>
    public static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "The password must not be empty.";
        }

        if (value.Length > MaxLength)
        {
            return $"The password is at most {MaxLength} characters.";
        }

        if (value.Any(char.IsControl))
        {
            return "The password must not contain control characters.";
        }

        if (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]))
        {
            return "The password must not start or end with white space.";
        }

        return null;
    }
}
