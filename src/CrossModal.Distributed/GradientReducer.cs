using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Distributed;

/// <summary>
/// Sums every parameter's gradient over the ranks (data-parallel training's all-reduce). Gradients are packed into
/// buckets of about <see cref="DefaultBucketBytes"/> (PyTorch DDP's 25 MB), in reverse registration order as DDP does
/// (roughly the order the backward finishes them), and each bucket is one all-reduce: few large messages instead of
/// one per tensor, without a copy of every gradient at once. A tensor larger than a bucket is reduced in place.
/// <para>
/// Overlap with the backward (<see cref="Overlap"/>): while installed as the thread's backward listener, the reducer
/// hears when a module that marked its forward (<see cref="Module.MarkForward"/>) has all its parameter gradients
/// final, and starts every bucket whose members are all final right then, without waiting (MPI_Iallreduce); the
/// backward goes on, letting MPI progress after each tape entry. <see cref="AllReduce"/> at the end of the backward
/// starts the rest and waits for all. Every rank starts the same buckets in the same order, because every rank runs
/// the same forward and backward. Parameters of modules that mark nothing are simply reduced at the end.
/// </para>
/// A parameter without a gradient on every rank keeps none (the optimizer skips it, as in one process); with a
/// gradient on some rank it gets the sum, zeros standing in for the missing ones. Bucket buffers are allocated once
/// and reused every step.
/// </summary>
public sealed class GradientReducer : IBackwardListener
{
    /// <summary>PyTorch DDP's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    private readonly Tensor[] _parameters;
    private readonly Dictionary<Tensor, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly List<Bucket> _buckets = new();
    private readonly int[] _bucketOf;
    private readonly int[] _present;
    // The step in progress: marks not yet reached per module, parameters final, buckets started and in flight.
    private readonly Dictionary<object, int> _openMarks = new(ReferenceEqualityComparer.Instance);
    private readonly bool[] _final;
    private readonly int[] _notFinal;
    private readonly List<(Bucket Bucket, ICollectiveRequest Request)> _inFlight = new();
    private ICommunicator? _ranks;

    private sealed record Bucket(int Index, int[] Members, float[]? Buffer)
    {
        public bool Started { get; set; }
    }

    /// <summary>A reducer for <paramref name="parameters"/> with buckets of about <paramref name="bucketBytes"/>.</summary>
    public GradientReducer(IReadOnlyList<Tensor> parameters, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float)) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "A bucket must hold at least one float.");
        _parameters = parameters.ToArray();
        for (int i = 0; i < _parameters.Length; i++) _index.TryAdd(_parameters[i], i);
        _present = new int[_parameters.Length];
        _bucketOf = new int[_parameters.Length];
        _final = new bool[_parameters.Length];
        long limit = bucketBytes / sizeof(float);
        var members = new List<int>();
        long size = 0;
        void Close()
        {
            if (members.Count == 0) return;
            bool inPlace = members.Count == 1;
            foreach (int i in members) _bucketOf[i] = _buckets.Count;
            _buckets.Add(new Bucket(_buckets.Count, members.ToArray(), inPlace ? null : new float[size]));
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
        _notFinal = new int[_buckets.Count];
        Reset();
    }

    /// <summary>Number of all-reduces per step (besides one small one for the presence of gradients).</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>Buckets the last step started during its backward, before <see cref="AllReduce"/>.</summary>
    public int StartedEarly { get; private set; }

    /// <summary>
    /// Installs this reducer as the thread's backward listener for one step (dispose after <see cref="AllReduce"/>):
    /// call it before the forward pass. With one rank it does nothing.
    /// </summary>
    public IDisposable Overlap(ICommunicator ranks)
    {
        Reset();
        if (ranks.Size == 1) return new ListenerScope(false, null);
        _ranks = ranks;
        var previous = Tape.Listener;
        Tape.Listener = this;
        return new ListenerScope(true, previous);
    }

    /// <summary>
    /// Sums the gradients over the ranks in place, starting the buckets not started yet and waiting for all; every
    /// rank ends with the same gradients.
    /// </summary>
    public void AllReduce(ICommunicator ranks)
    {
        if (ranks.Size == 1) return;
        if (_ranks is not null && !ReferenceEquals(_ranks, ranks)) throw new ArgumentException("The step overlapped its all-reduce on other ranks.", nameof(ranks));
        _ranks = ranks;
        StartedEarly = _buckets.Count(b => b.Started);
        foreach (var bucket in _buckets)
            if (!bucket.Started) Start(bucket);
        foreach (var (bucket, request) in _inFlight)
        {
            request.Wait();
            if (bucket.Buffer is null) continue;
            int offset = 0;
            foreach (int i in bucket.Members)
            {
                int n = _parameters[i].Length;
                bucket.Buffer.AsSpan(offset, n).CopyTo(Gradient(i));
                offset += n;
            }
        }
        ranks.AllReduce<int>(_present, ReduceOperation.Max);
        for (int i = 0; i < _parameters.Length; i++)
            if (_present[i] == 0) _parameters[i].Grad = null;
        Reset();
    }

    void IBackwardListener.Marked(object tag) => _openMarks[tag] = _openMarks.GetValueOrDefault(tag) + 1;

    void IBackwardListener.Reached(object tag)
    {
        int open = _openMarks.GetValueOrDefault(tag) - 1;
        _openMarks[tag] = open;
        if (open != 0 || tag is not Module module) return;
        foreach (var p in module.Parameters())
        {
            if (!_index.TryGetValue(p, out int i) || _final[i]) continue;
            _final[i] = true;
            var bucket = _buckets[_bucketOf[i]];
            if (--_notFinal[bucket.Index] == 0) Start(bucket);
        }
    }

    void IBackwardListener.Stepped()
    {
        foreach (var (_, request) in _inFlight) request.Test();
    }

    /// <summary>Starts a bucket's all-reduce: its gradients (zeros where this rank has none) into its buffer, or its one tensor in place.</summary>
    private void Start(Bucket bucket)
    {
        bucket.Started = true;
        foreach (int i in bucket.Members) _present[i] = _parameters[i].Grad is null ? 0 : 1;
        ICollectiveRequest request;
        if (bucket.Buffer is null)
        {
            Gradient(bucket.Members[0]);
            var g = _parameters[bucket.Members[0]].Grad!;
            request = _ranks!.StartAllReduceSum(g.Buffer, g.Offset, g.Length);
        }
        else
        {
            int offset = 0;
            foreach (int i in bucket.Members)
            {
                int n = _parameters[i].Length;
                var dst = bucket.Buffer.AsSpan(offset, n);
                if (_parameters[i].Grad is { } g) g.Data.CopyTo(dst); else dst.Clear();
                offset += n;
            }
            request = _ranks!.StartAllReduceSum(bucket.Buffer, 0, bucket.Buffer.Length);
        }
        _inFlight.Add((bucket, request));
    }

    private void Reset()
    {
        _ranks = null;
        _openMarks.Clear();
        _inFlight.Clear();
        Array.Clear(_final);
        foreach (var bucket in _buckets)
        {
            bucket.Started = false;
            _notFinal[bucket.Index] = bucket.Members.Length;
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

    /// <summary>Puts the previous listener back (when one was replaced).</summary>
    private sealed class ListenerScope(bool installed, IBackwardListener? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed || !installed) return;
            _disposed = true;
            Tape.Listener = previous;
        }
    }
}
