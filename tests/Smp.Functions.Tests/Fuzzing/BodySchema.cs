using FsCheck;
using FsCheck.Fluent;

namespace Smp.Functions.Tests.Fuzzing;

public enum FieldKind
{
    String,
    Number,
    Boolean,
    Object,
    Array,
}

/// <summary>
/// One field of a request body as the contract describes it. <paramref name="Path"/> is <c>name</c>,
/// <c>parent.name</c>, or <c>name[]</c> for the items of an array. <paramref name="Text"/> judges a string
/// value, <paramref name="Number"/> a number literal; <paramref name="Samples"/> are field-specific values
/// with a known verdict (edge instants, near-miss serials).
/// </summary>
public sealed record FieldRule(
    string Path,
    FieldKind Kind,
    bool Required,
    Func<string, Verdict>? Text = null,
    Func<string, Verdict>? Number = null,
    IReadOnlyList<Fuzzed<string>>? Samples = null)
{
    public string Name => Path.Contains('.', StringComparison.Ordinal) ? Path[(Path.IndexOf('.', StringComparison.Ordinal) + 1)..] : Path.TrimEnd('[', ']');

    public string? Parent => Path.Contains('.', StringComparison.Ordinal) ? Path[..Path.IndexOf('.', StringComparison.Ordinal)] : null;

    public bool IsItem => Path.EndsWith("[]", StringComparison.Ordinal);

    public override string ToString() => Path;
}

/// <summary>
/// A request body's fields, a generator of bodies the contract accepts, and one of bodies where every field
/// is as long as the contract allows (in ASCII or not, so stored forms that escape non-ASCII grow sixfold).
/// </summary>
public sealed record BodySchema(string Name, IReadOnlyList<FieldRule> Fields, Gen<JsonText.Obj> Valid, Gen<Fuzzed<JsonText.Obj>> Largest)
{
    /// <summary>Applies <paramref name="change"/> to the field's value (null when absent); a null result removes the field.</summary>
    public static JsonText.Obj Update(JsonText.Obj body, FieldRule field, int index, Func<JsonText?, JsonText?> change)
    {
        if (field.Parent is { } parent)
        {
            var inner = body[parent] as JsonText.Obj ?? JsonText.Object();
            return body.Set(parent, inner.Set(field.Name, change(inner[field.Name])));
        }

        if (field.IsItem)
        {
            var array = (JsonText.Arr)body[field.Name]!;
            var at = index % array.Items.Count;
            return body.Set(field.Name, array.SetAt(at, change(array.Items[at])));
        }

        return body.Set(field.Name, change(body[field.Name]));
    }

    /// <summary>Adds a second member with the field's name next to the first.</summary>
    public static JsonText.Obj Duplicate(JsonText.Obj body, FieldRule field, JsonText value)
    {
        if (field.Parent is { } parent)
        {
            var inner = body[parent] as JsonText.Obj ?? JsonText.Object();
            return body.Set(parent, inner.Append(field.Name, value).Append(field.Name, value));
        }

        var name = field.Name;
        return body[name] is null ? body.Append(name, value).Append(name, value) : body.Append(name, value);
    }

    public static int Count(JsonText.Obj body, FieldRule field) =>
        field.IsItem && body[field.Name] is JsonText.Arr array ? array.Items.Count : 1;
}
