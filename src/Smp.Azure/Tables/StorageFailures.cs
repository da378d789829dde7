using Azure;

namespace Smp.Azure.Tables;

/// <summary>Recognises the ways a storage call fails, as the Azure SDK reports them.</summary>
internal static class StorageFailures
{
    /// <summary>
    /// True for an error answer (<see cref="RequestFailedException"/>), a connection that broke
    /// (<see cref="IOException"/>), a timeout (an <see cref="OperationCanceledException"/> that the caller may never
    /// have asked for), and for what Azure.Core's retry policy throws when its retries run out on such failures: an
    /// <see cref="AggregateException"/> of them. A best-effort step that catches only the first kinds lets the last
    /// one through, and so turns a committed change into an error for the caller.
    /// </summary>
    public static bool IsStorageFailure(Exception exception) => exception switch
    {
        RequestFailedException or IOException or OperationCanceledException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsStorageFailure),
        _ => false,
    };
}

/// <summary><see cref="Smp.Core.Licenses.IStorageFailures"/> for Table Storage, as the Azure SDK reports its failures.</summary>
public sealed class TableStorageFailures : Smp.Core.Licenses.IStorageFailures
{
    public bool IsStorageFailure(Exception exception) => StorageFailures.IsStorageFailure(exception);
}
