using CrossModal.Tensors;

namespace CrossModal.Distributed;

/// <summary>
/// Sums every parameter's gradient over the ranks after the backward pass (data-parallel training's all-reduce, at
/// the training step's AfterBackward seam). Gradients are packed into buckets of about <see cref="DefaultBucketBytes"/>
/// (PyTorch DDP's 25 MB), in reverse registration order as DDP does (roughly the order the backward finishes them),
/// and each bucket is one all-reduce: few large messages instead of one per tensor, without a copy of every gradient
/// at once. A tensor larger than a bucket is reduced in place. A parameter without a gradient on every rank keeps
/// none (the optimizer skips it, as in one process); with a gradient on some rank it gets the sum, zeros standing in
/// for the missing ones. Bucket buffers are allocated once and reused every step.
/// </summary>
public sealed class GradientReducer
{
    /// <summary>PyTorch DDP's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    private readonly Tensor[] _parameters;
    private readonly List<Bucket> _buckets = new();
    private readonly int[] _present;

    private sealed record Bucket(int[] Members, float[]? Buffer);

    /// <summary>A reducer for <paramref name="parameters"/> with buckets of about <paramref name="bucketBytes"/>.</summary>
    public GradientReducer(IReadOnlyList<Tensor> parameters, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float)) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "A bucket must hold at least one float.");
        _parameters = parameters.ToArray();
        _present = new int[_parameters.Length];
        long limit = bucketBytes / sizeof(float);
        var members = new List<int>();
        long size = 0;
        void Close()
        {
            if (members.Count == 0) return;
            bool inPlace = members.Count == 1;
            _buckets.Add(new Bucket(members.ToArray(), inPlace ? null : new float[size]));
            members.Clear();
            size = 0;
        }
        for (int i = _parameters.Length - 1; i >= 0; i--)
        {
            long n = _parameters[i].Length;
            if (size > 0 && size + n > limit) Close();
            members.Add(i);
            size += n;
            if (size >= limit) Close();
        }
        Close();
    }

    /// <summary>Number of all-reduces per step (besides one small one for the presence of gradients).</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>Sums the gradients over the ranks in place; every rank ends with the same gradients.</summary>
    public void AllReduce(ICommunicator ranks)
    {
        if (ranks.Size == 1) return;
        for (int i = 0; i < _parameters.Length; i++) _present[i] = _parameters[i].Grad is null ? 0 : 1;
        ranks.AllReduce<int>(_present, ReduceOperation.Max);
        foreach (var bucket in _buckets)
        {
            if (bucket.Buffer is null)
            {
                int i = bucket.Members[0];
                if (_present[i] == 0) continue;
                ranks.AllReduce<float>(Gradient(i), ReduceOperation.Sum);
                continue;
            }
            int offset = 0;
            foreach (int i in bucket.Members)
            {
                int n = _parameters[i].Length;
                var dst = bucket.Buffer.AsSpan(offset, n);
                if (_parameters[i].Grad is { } g) g.Data.CopyTo(dst); else dst.Clear();
                offset += n;
            }
            ranks.AllReduce<float>(bucket.Buffer, ReduceOperation.Sum);
            offset = 0;
            foreach (int i in bucket.Members)
            {
                int n = _parameters[i].Length;
                if (_present[i] != 0) bucket.Buffer.AsSpan(offset, n).CopyTo(Gradient(i));
                offset += n;
            }
        }
    }

    /// <summary>The parameter's gradient storage, created (zero) when this rank has none.</summary>
    private Span<float> Gradient(int i)
    {
        var p = _parameters[i];
        var g = p.GradBuffer(out bool existed);
        if (!existed) g.Clear();
        return g;
    }
}
