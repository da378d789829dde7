namespace Smp.Core.Licenses;

/// <summary>
/// Recognises a storage call that failed for good (the storage SDK's own retries ran out), as opposed to a bug or
/// a process that is going down. Work made of independent parts (the batches of a reminder scan or of an update
/// announcement) reports such a failure for the part it hit and goes on with the others.
/// </summary>
public interface IStorageFailures
{
    bool IsStorageFailure(Exception exception);
}
