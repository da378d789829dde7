namespace Smp.Functions.Http;

/// <summary>Validation messages per field path (<c>customer.id</c>, <c>contacts[1]</c>), in the order found.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            messages = [];
            _errors.Add(field, messages);
        }

        messages.Add(message);
    }

    public IDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    public string Summary() =>
        _errors.Count == 1 ? $"'{_errors.Keys.First()}': {_errors.Values.First()[0]}"
        : $"{_errors.Count} fields are not valid: {string.Join(", ", _errors.Keys.Select(k => $"'{k}'"))}.";
}
