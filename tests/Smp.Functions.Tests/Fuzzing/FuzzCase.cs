using System.Text;

namespace Smp.Functions.Tests.Fuzzing;

/// <summary>One generated request: route values, raw query, body bytes and a few headers, with the contract's verdict on it.</summary>
public sealed record FuzzCase(
    IReadOnlyList<KeyValuePair<string, string>> RouteValues,
    string? Query,
    byte[]? Body,
    bool WithoutLength,
    string? ContentType,
    string? CorrelationId,
    Verdict Verdict,
    string Label)
{
    /// <summary>The value generated for the route placeholder <paramref name="name"/>.</summary>
    public string this[string name] => RouteValues.Single(v => v.Key == name).Value;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("expected ").Append(Verdict).Append(" (").Append(Label).Append(')');
        foreach (var (name, value) in RouteValues)
        {
            text.Append("; ").Append(name).Append('=').Append(FuzzText.Show(value));
        }

        text.Append("; query=").Append(FuzzText.Show(Query));
        text.Append("; content-type=").Append(FuzzText.Show(ContentType));
        text.Append("; correlation=").Append(FuzzText.Show(CorrelationId));
        text.Append(WithoutLength ? "; no Content-Length" : "");
        text.Append("; body=").Append(FuzzText.Show(Body));
        return text.ToString();
    }
}
