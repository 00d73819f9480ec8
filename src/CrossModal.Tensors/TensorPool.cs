namespace CrossModal.Tensors;

/// <summary>
/// Reuses float buffers so a training step allocates nothing once warmed up. Buffers are grouped in size classes
/// (a power of two split in quarters, so at most 25% is wasted); rented buffers are not cleared.
/// Lifetime rule: a buffer rented for a tensor created inside a <see cref="TensorScope"/> comes back here when that
/// scope ends; tensors created outside any scope are ordinary garbage-collected arrays.
/// </summary>
public static class TensorPool
{
    private static readonly Dictionary<int, Stack<float[]>> Buckets = new();
    private static readonly Lock Gate = new();
    private static long _pooledFloats;

    /// <summary>When set (tests do), returned buffers are filled with NaN so a use after the scope ended shows up.</summary>
    public static bool PoisonOnReturn { get; set; }

    /// <summary>Floats currently held by the pool (not rented).</summary>
    public static long PooledFloats => Interlocked.Read(ref _pooledFloats);

    internal static int SizeClass(int length)
    {
        if (length <= 64) return 64;
        int p = 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)length));
        int step = Math.Max(16, p / 4);
        long rounded = ((long)length + step - 1) / step * step;
        return rounded > Array.MaxLength ? length : (int)rounded;
    }

    /// <summary>Rents a buffer of at least <paramref name="length"/> floats; contents are undefined.</summary>
    public static float[] Rent(int length)
    {
        int size = SizeClass(length);
        lock (Gate)
        {
            if (Buckets.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                _pooledFloats -= size;
                return stack.Pop();
            }
        }
        return GC.AllocateUninitializedArray<float>(size);
    }

    /// <summary>Gives a buffer back. Only buffers obtained from <see cref="Rent"/> may be returned.</summary>
    public static void Return(float[] buffer)
    {
        if (PoisonOnReturn) buffer.AsSpan().Fill(float.NaN);
        lock (Gate)
        {
            if (!Buckets.TryGetValue(buffer.Length, out var stack)) Buckets[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
            _pooledFloats += buffer.Length;
        }
    }

    /// <summary>Drops every pooled buffer (e.g. between training and a large evaluation).</summary>
    public static void Trim()
    {
        lock (Gate)
        {
            Buckets.Clear();
            _pooledFloats = 0;
        }
    }
}
