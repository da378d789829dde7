using System.Text.Json;
using System.Text.RegularExpressions;

namespace Smp.Infra.Tests;

/// <summary>
/// One template in the compiled deployment: the root (main.bicep) or a module, which Bicep compiles
/// into a nested Microsoft.Resources/deployments resource carrying its own template.
/// </summary>
internal sealed partial class ArmDeployment
{
    private readonly Dictionary<string, JsonElement> _parameterValues;
    private readonly Dictionary<string, JsonElement> _passedExpressions;

    private ArmDeployment(
        string name,
        JsonElement template,
        ArmDeployment? parent,
        string? condition,
        Dictionary<string, JsonElement> passedExpressions,
        Dictionary<string, JsonElement> parameterValues)
    {
        Name = name;
        Template = template;
        Parent = parent;
        Condition = condition;
        _passedExpressions = passedExpressions;
        _parameterValues = parameterValues;
    }

    /// <summary>The module's deployment name, empty for the root template.</summary>
    public string Name { get; }

    public JsonElement Template { get; }

    public ArmDeployment? Parent { get; }

    /// <summary>The condition on the module call, when it is conditional.</summary>
    public string? Condition { get; }

    public static ArmDeployment Root(JsonElement template) => new("", template, null, null, [], []);

    /// <summary>Every resource of this template and, recursively, of the modules it deploys.</summary>
    public IEnumerable<ArmResource> AllResources()
    {
        foreach (var resource in OwnResources())
        {
            yield return resource;
            if (resource.Type == "Microsoft.Resources/deployments" && resource.Properties.TryGetProperty("template", out var nested))
            {
                foreach (var inner in ModuleOf(resource, nested).AllResources())
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>This template and every module template under it.</summary>
    public IEnumerable<ArmDeployment> AllDeployments()
    {
        yield return this;
        foreach (var resource in OwnResources())
        {
            if (resource.Type == "Microsoft.Resources/deployments" && resource.Properties.TryGetProperty("template", out var nested))
            {
                foreach (var inner in ModuleOf(resource, nested).AllDeployments())
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Outputs of this template, by name, as their (unevaluated) value expressions.</summary>
    public IReadOnlyDictionary<string, JsonElement> Outputs =>
        Template.TryGetProperty("outputs", out var outputs)
            ? outputs.EnumerateObject().ToDictionary(o => o.Name, o => o.Value.GetProperty("value"))
            : [];

    public bool HasParameter(string name) =>
        Template.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty(name, out _);

    public JsonElement ParameterDefinition(string name) =>
        Template.GetProperty("parameters").GetProperty(name);

    /// <summary>The value a parameter has in this template: what the caller passed, else its default.</summary>
    public JsonElement? ParameterValue(string name)
    {
        if (_parameterValues.TryGetValue(name, out var passed))
        {
            return passed;
        }

        return HasParameter(name) && ParameterDefinition(name).TryGetProperty("defaultValue", out var defaultValue)
            ? defaultValue
            : null;
    }

    /// <summary>
    /// Follows a value that is exactly "[parameters('x')]" to what x holds here, through any number of
    /// module boundaries. Anything else (a literal, or another expression) comes back unchanged.
    /// </summary>
    public JsonElement Resolve(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            var match = ParameterReference().Match(value.GetString()!);
            if (match.Success && ParameterValue(match.Groups["name"].Value) is { } resolved)
            {
                return resolved;
            }
        }

        return value;
    }

    /// <summary>The raw expression the caller passed for a parameter, before resolving it.</summary>
    public string? PassedExpression(string name) =>
        _passedExpressions.TryGetValue(name, out var passed) && passed.ValueKind == JsonValueKind.String ? passed.GetString() : null;

    private IEnumerable<ArmResource> OwnResources()
    {
        if (!Template.TryGetProperty("resources", out var resources))
        {
            yield break;
        }

        // Templates with languageVersion 2.0 keep resources in an object keyed by symbolic name.
        var items = resources.ValueKind == JsonValueKind.Object
            ? resources.EnumerateObject().Select(p => p.Value)
            : resources.EnumerateArray();
        foreach (var item in items)
        {
            yield return new ArmResource(item, this);
        }
    }

    private ArmDeployment ModuleOf(ArmResource deployment, JsonElement nestedTemplate)
    {
        // Values passed to a module are expressions of the calling template: resolve them there.
        var passed = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (deployment.Properties.TryGetProperty("parameters", out var parameters))
        {
            foreach (var parameter in parameters.EnumerateObject())
            {
                // A value chosen by a condition compiles to one expression for the whole parameter:
                // "[if(<condition>, createObject('value', <a>), createObject('value', <b>))]". Keep it as is.
                if (parameter.Value.ValueKind == JsonValueKind.String)
                {
                    passed[parameter.Name] = parameter.Value;
                    values[parameter.Name] = parameter.Value;
                }
                else if (parameter.Value.TryGetProperty("value", out var value))
                {
                    passed[parameter.Name] = value;
                    values[parameter.Name] = Resolve(value);
                }
            }
        }

        var condition = deployment.Element.TryGetProperty("condition", out var c) ? c.ToString() : null;
        return new ArmDeployment(deployment.NameExpression, nestedTemplate, this, condition, passed, values);
    }

    [GeneratedRegex(@"^\[parameters\('(?<name>[^']+)'\)\]$")]
    private static partial Regex ParameterReference();
}

/// <summary>One resource of a compiled template, with the deployment it belongs to.</summary>
internal sealed class ArmResource(JsonElement element, ArmDeployment deployment)
{
    public JsonElement Element { get; } = element;

    public ArmDeployment Deployment { get; } = deployment;

    public string Type => Element.GetProperty("type").GetString()!;

    public string NameExpression => Element.TryGetProperty("name", out var name) ? name.GetString()! : "";

    public bool IsExisting => Element.TryGetProperty("existing", out var existing) && existing.ValueKind == JsonValueKind.True;

    public JsonElement Properties =>
        Element.TryGetProperty("properties", out var properties) ? properties : default;

    /// <summary>A property path under "properties", resolved through module parameters.</summary>
    public JsonElement Property(params string[] path)
    {
        var current = Properties;
        foreach (var segment in path)
        {
            Assert.True(
                current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out current),
                $"{Type} '{NameExpression}' in '{Deployment.Name}' has no properties.{string.Join('.', path)}");
        }

        return Deployment.Resolve(current);
    }

    public JsonElement Resolved(string topLevelProperty) =>
        Deployment.Resolve(Element.GetProperty(topLevelProperty));
}
