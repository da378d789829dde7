namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// What SPEC section 3 says a generated input must lead to. The order matters: combining the parts of a
/// request keeps the strongest claim (one invalid part makes the whole request a 400).
/// </summary>
public enum Verdict
{
    /// <summary>The contract accepts this input: the answer must not be a 400.</summary>
    Valid,

    /// <summary>The contract does not decide (or the fuzzer does not know): any 2xx or 4xx will do.</summary>
    Unknown,

    /// <summary>The contract refuses this input: the answer must be a 400 problem.</summary>
    Invalid,
}

/// <summary>A generated value with what the contract says about it and a short name for failure reports.</summary>
public sealed record Fuzzed<T>(T Value, Verdict Verdict, string Label);

public static class Fuzzed
{
    public static Fuzzed<T> Valid<T>(T value, string label) => new(value, Verdict.Valid, label);

    public static Fuzzed<T> Invalid<T>(T value, string label) => new(value, Verdict.Invalid, label);

    public static Fuzzed<T> Unknown<T>(T value, string label) => new(value, Verdict.Unknown, label);

    public static Verdict Combine(IEnumerable<Verdict> verdicts) => verdicts.DefaultIfEmpty(Verdict.Valid).Max();
}
