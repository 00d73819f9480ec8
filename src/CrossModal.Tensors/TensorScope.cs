using CrossModal.Tensors.Autograd;

namespace CrossModal.Tensors;

/// <summary>
/// A region (typically one training step or one evaluation batch) whose tensors share one lifetime. Every tensor
/// created on this thread while the scope is the innermost one takes its storage from <see cref="TensorPool"/>,
/// and that storage goes back to the pool when the scope is disposed; the autograd tape entries recorded inside
/// are dropped at the same time. Do not read such a tensor (or its <c>Grad</c>) after the scope ended: copy what
/// must survive with <see cref="Tensor.Clone"/> outside the scope, or call <see cref="Keep"/>.
/// Parameters and their gradients are created outside any scope and are never pooled.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly TensorScope? _parent;
    private readonly List<float[]> _rented = new();
    private readonly int _tapeMark;
    private bool _disposed;

    private TensorScope()
    {
        _parent = _current;
        _tapeMark = Tape.Count;
        _current = this;
    }

    /// <summary>Opens a scope on the calling thread.</summary>
    public static TensorScope Begin() => new();

    internal static bool Active => _current is not null;

    /// <summary>
    /// Storage with the lifetime of the current scope (pooled; a plain array outside any scope): what a fused op
    /// keeps from its forward for its backward. The array may be longer than <paramref name="length"/>.
    /// </summary>
    public static float[] Allocate(int length, bool clear)
    {
        var scope = _current;
        if (scope is null) return length == 0 ? Array.Empty<float>() : new float[length];
        var buffer = TensorPool.Rent(length);
        scope._rented.Add(buffer);
        if (clear) Array.Clear(buffer, 0, length);
        return buffer;
    }

    /// <summary>
    /// Lets <paramref name="tensor"/>'s storage outlive the innermost scope: it moves to the enclosing scope, or
    /// becomes an ordinary array when there is none. Returns the same tensor.
    /// </summary>
    public static Tensor Keep(Tensor tensor)
    {
        var scope = _current;
        if (scope is null) return tensor;
        int i = scope._rented.LastIndexOf(tensor.Buffer);
        if (i >= 0)
        {
            scope._rented.RemoveAt(i);
            scope._parent?._rented.Add(tensor.Buffer);
        }
        return tensor;
    }

    /// <summary>Returns the scope's storage to the pool and drops its tape entries.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_current != this) throw new InvalidOperationException("TensorScope disposed out of order or on another thread.");
        _disposed = true;
        Tape.Truncate(_tapeMark);
        foreach (var buffer in _rented) TensorPool.Return(buffer);
        _rented.Clear();
        _current = _parent;
    }
}
