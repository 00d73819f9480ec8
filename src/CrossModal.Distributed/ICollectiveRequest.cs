namespace CrossModal.Distributed;

/// <summary>A collective started without waiting for it (<see cref="ICommunicator.StartAllReduceSum"/>): test it, then wait for it once.</summary>
public interface ICollectiveRequest
{
    /// <summary>Lets the operation progress; true once it has completed (the buffer then holds the result).</summary>
    bool Test();

    /// <summary>Blocks until the operation has completed; the buffer may be used again after it.</summary>
    void Wait();
}

/// <summary>The request of a collective that completed before its start returned (one process, ranks as threads).</summary>
internal sealed class CompletedRequest : ICollectiveRequest
{
    public static readonly CompletedRequest Instance = new();

    public bool Test() => true;

    public void Wait()
    {
    }
}
