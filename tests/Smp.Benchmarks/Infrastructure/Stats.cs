using System.Globalization;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>Median and spread of a few repetitions: the numbers a noisy shared machine can honestly give.</summary>
internal sealed record Stats(int Count, double Median, double Q1, double Q3, double Min, double Max)
{
    public static Stats Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        return new Stats(sorted.Length, Quantile(sorted, 0.5), Quantile(sorted, 0.25), Quantile(sorted, 0.75), sorted[0], sorted[^1]);
    }

    /// <summary>"median (min-max)", with <paramref name="format"/> for each number.</summary>
    public string Format(string format) =>
        Count == 1
            ? Number(Median, format)
            : string.Create(CultureInfo.InvariantCulture, $"{Number(Median, format)} ({Number(Min, format)}–{Number(Max, format)})");

    public static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Linear interpolation between closest ranks (the usual "type 7" quantile).</summary>
    private static double Quantile(double[] sorted, double p)
    {
        var position = (sorted.Length - 1) * p;
        var lower = (int)Math.Floor(position);
        var upper = (int)Math.Ceiling(position);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }
}
