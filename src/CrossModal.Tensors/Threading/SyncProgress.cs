namespace CrossModal.Tensors.Threading;

/// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, so its reports may arrive late, out of order, or after the values they captured have changed).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
