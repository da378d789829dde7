using System.Collections.Immutable;
using Microsoft.Azure.Functions.Worker;

namespace Smp.Benchmarks.Infrastructure;

/// <summary>
/// The little of a <see cref="FunctionContext"/> that the HTTP functions read (the function's name, the
/// invocation id, the cancellation token); a plain object, so that the benchmark measures the function and
/// not a mocking library.
/// </summary>
internal sealed class BenchFunctionContext(string functionName, IServiceProvider services) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => functionName;

    public override TraceContext TraceContext => throw new NotSupportedException("Not used by the functions under test.");

    public override BindingContext BindingContext => throw new NotSupportedException("Not used by the functions under test.");

    public override RetryContext RetryContext => throw new NotSupportedException("Not used by the functions under test.");

    public override IServiceProvider InstanceServices { get; set; } = services;

    public override FunctionDefinition FunctionDefinition { get; } = new Definition(functionName);

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features => throw new NotSupportedException("Not used by the functions under test.");

    public override CancellationToken CancellationToken => CancellationToken.None;

    private sealed class Definition(string name) : FunctionDefinition
    {
        public override ImmutableArray<FunctionParameter> Parameters => [];

        public override string PathToAssembly => typeof(Smp.Functions.Hosting.SmpHost).Assembly.Location;

        public override string EntryPoint => name;

        public override string Id => name;

        public override string Name => name;

        public override IImmutableDictionary<string, BindingMetadata> InputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;

        public override IImmutableDictionary<string, BindingMetadata> OutputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
    }
}
