using System.Globalization;
using FsCheck;
using Microsoft.FSharp.Core;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>
/// How much to fuzz and from which seed. The defaults make every run the same; <c>SMP_FUZZ_SEED</c> picks
/// another stream of inputs (a failure prints the seed that replays it) and <c>SMP_FUZZ_CASES</c> runs more
/// or fewer cases per route.
/// </summary>
public sealed record FuzzSettings(ulong Seed, int Cases)
{
    public const string SeedVariable = "SMP_FUZZ_SEED";
    public const string CasesVariable = "SMP_FUZZ_CASES";
    public const ulong DefaultSeed = 20_260_320;
    public const int DefaultCases = 300;

    public static FuzzSettings FromEnvironment() => new(
        Read(SeedVariable, DefaultSeed, s => ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)),
        Read(CasesVariable, DefaultCases, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)));

    /// <summary>FsCheck's configuration: this many cases, from this seed, throwing on the first failure without shrinking.</summary>
    public Config Config() => FsCheck.Config.QuickThrowOnFailure
        .WithMaxTest(Cases)
        .WithQuietOnSuccess(true)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed), FSharpOption<int>.None)));

    public string ReplayHint => $"{SeedVariable}={Seed.ToString(CultureInfo.InvariantCulture)} {CasesVariable}={Cases.ToString(CultureInfo.InvariantCulture)}";

    private static T Read<T>(string variable, T fallback, Func<string, T> parse)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        try
        {
            return parse(text.Trim());
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new InvalidOperationException($"{variable} must be a non-negative whole number, not '{text}'.", ex);
        }
    }
}
