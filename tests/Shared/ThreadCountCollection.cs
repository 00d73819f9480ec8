namespace CrossModal.Tests;

/// <summary>
/// Tests that set <c>Parallelism.Threads</c> (a process-wide setting) belong to this collection: it runs alone, so
/// no other test class changes the thread count under them (a serial-path allocation check once saw a concurrent
/// GRU test's two threads) and they change it under no one else.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadCountCollection
{
    public const string Name = "ThreadCount";
}
