using Smp.TestSupport;

namespace Smp.Functions.Tests;

/// <summary>Tests that share one Azurite process (each harness uses its own tables).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
