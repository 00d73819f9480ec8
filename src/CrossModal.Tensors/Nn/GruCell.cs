using System.Numerics.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Nn;

/// <summary>
/// One GRU step for a batch of rows (torch.nn.GRUCell, or a one-layer torch.nn.GRU fed one time step, as VSRN's
/// caption decoder does), with PyTorch's gate equations (see <see cref="Gru"/>):
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
/// Parameters weight_ih{suffix} [3H, I], weight_hh{suffix} [3H, H], bias_ih{suffix} [3H], bias_hh{suffix} [3H],
/// initialised U(−1/√H, 1/√H) in that order; suffix "" names them as GRUCell does, "_l0" as a one-layer GRU.
/// <see cref="Forward"/> records one tape entry. Fused callers that run many steps themselves (and want the weight
/// gradients as one GEMM over all steps) use the kernels <see cref="StepForward"/>, <see cref="StepBackward"/> and
/// <see cref="AccumulateWeightGradients"/> on their own buffers.
/// </summary>
public sealed class GruCell : Module
{
    /// <summary>Rows per chunk when the gate arithmetic is split across threads.</summary>
    private const int GateRowsPerChunk = 16;

    /// <summary>Creates the cell with PyTorch's default initialisation.</summary>
    public GruCell(int inputSize, int hiddenSize, Rng rng, string suffix = "")
    {
        if (inputSize < 1 || hiddenSize < 1) throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"GRU cell sizes must be positive, got {inputSize} -> {hiddenSize}.");
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightIh = RegisterParameter("weight_ih" + suffix, Tensor.Zeros(3 * hiddenSize, inputSize));
        WeightHh = RegisterParameter("weight_hh" + suffix, Tensor.Zeros(3 * hiddenSize, hiddenSize));
        BiasIh = RegisterParameter("bias_ih" + suffix, Tensor.Zeros(3 * hiddenSize));
        BiasHh = RegisterParameter("bias_hh" + suffix, Tensor.Zeros(3 * hiddenSize));
        float k = 1f / MathF.Sqrt(hiddenSize);
        foreach (var (_, p) in NamedParameters()) Init.Uniform(p, k, rng);
    }

    /// <summary>Input features I.</summary>
    public int InputSize { get; }

    /// <summary>Hidden size H.</summary>
    public int HiddenSize { get; }

    /// <summary>[3H, I]: W_ir; W_iz; W_in.</summary>
    public Tensor WeightIh { get; }

    /// <summary>[3H, H]: W_hr; W_hz; W_hn.</summary>
    public Tensor WeightHh { get; }

    /// <summary>[3H].</summary>
    public Tensor BiasIh { get; }

    /// <summary>[3H].</summary>
    public Tensor BiasHh { get; }

    /// <summary>h' for x [B, I] and h [B, H]; differentiable in x, h and the parameters.</summary>
    public Tensor Forward(Tensor x, Tensor h)
    {
        int b = x.Dim(0), inSize = InputSize, hs = HiddenSize;
        if (x.Rank != 2 || x.Dim(1) != inSize) throw new ArgumentException($"GRU cell({inSize}->{hs}): input {Tensor.FormatShape(x.ShapeSpan)} is not [B, {inSize}].");
        if (h.Rank != 2 || h.Dim(0) != b || h.Dim(1) != hs) throw new ArgumentException($"GRU cell({inSize}->{hs}): state {Tensor.FormatShape(h.ShapeSpan)} is not [{b}, {hs}].");
        var y = Tensor.Empty(b, hs);
        var gates = TensorScope.Allocate(b * 3 * hs, clear: false);
        var ghn = TensorScope.Allocate(b * hs, clear: false);
        StepForward(b, inSize, hs, x.Data, h.Data, WeightIh.Data, WeightHh.Data, BiasIh.Data, BiasHh.Data,
            gates.AsSpan(0, b * 3 * hs), ghn.AsSpan(0, b * hs), y.Data);
        if (Tape.Needs(new[] { x, h, WeightIh, WeightHh, BiasIh, BiasHh }))
        {
            Tape.Record(y, g =>
            {
                using var dx = new PooledBuffer(x.RequiresGrad ? b * inSize : 0);
                using var dh = new PooledBuffer(b * hs);
                var gs = gates.AsSpan(0, b * 3 * hs);
                var gn = ghn.AsSpan(0, b * hs);
                StepBackward(b, inSize, hs, g.Data, h.Data, WeightIh.Data, WeightHh.Data, gs, gn, x.RequiresGrad ? dx.Span : Span<float>.Empty, dh.Span);
                if (x.RequiresGrad) x.AccumulateGrad(dx.Span);
                if (h.RequiresGrad) h.AccumulateGrad(dh.Span);
                AccumulateWeightGradients(b, inSize, hs, x.Data, h.Data, gs, gn,
                    Grad(WeightIh), Grad(WeightHh), Grad(BiasIh), Grad(BiasHh));
            });
        }
        return y;
    }

    /// <summary>The parameter's gradient buffer, zeroed when fresh (the kernels add into it); empty when it needs none.</summary>
    private static Span<float> Grad(Tensor p)
    {
        if (!p.RequiresGrad) return Span<float>.Empty;
        var g = p.GradBuffer(out bool acc);
        if (!acc) g.Clear();
        return g;
    }

    /// <summary>
    /// One step for <paramref name="rows"/> rows: x [rows, I], h [rows, H] (row-major) to hNew [rows, H]. Keeps for
    /// the backward pass: <paramref name="gates"/> [rows, 3H] = (r, z, n) and <paramref name="ghn"/> [rows, H] =
    /// W_hn h + b_hn. Costs three GEMMs (x W_ihᵀ; h against the r,z rows and the n rows of W_hh) and the gate
    /// arithmetic, split across threads by rows.
    /// </summary>
    public static void StepForward(int rows, int inputSize, int hiddenSize, ReadOnlySpan<float> x, ReadOnlySpan<float> h,
        ReadOnlySpan<float> wih, ReadOnlySpan<float> whh, ReadOnlySpan<float> bih, ReadOnlySpan<float> bhh,
        Span<float> gates, Span<float> ghn, Span<float> hNew)
    {
        int hs = hiddenSize, h3 = 3 * hs;
        CheckStep(rows, inputSize, hs, x.Length, h.Length, gates.Length, ghn.Length, hNew.Length);
        if (rows == 0) return;
        Gemm.Multiply(false, true, rows, h3, inputSize, 1f, x, inputSize, wih, inputSize, 0f, gates, h3);
        Gemm.Multiply(false, true, rows, 2 * hs, hs, 1f, h, hs, whh, hs, 1f, gates, h3);
        Gemm.Multiply(false, true, rows, hs, hs, 1f, h, hs, whh.Slice(2 * hs * hs), hs, 0f, ghn, hs);
        unsafe
        {
            fixed (float* pg = gates, pn = ghn, ph = h, pOut = hNew, pbi = bih, pbh = bhh)
            {
                nint g0 = (nint)pg, n0 = (nint)pn, h0 = (nint)ph, o0 = (nint)pOut, bi0 = (nint)pbi, bh0 = (nint)pbh;
                if (Parallelism.ChunkCount(rows, GateRowsPerChunk) > 1)
                    Parallelism.For(rows, GateRowsPerChunk, (k0, k1) => ForwardGates(k0, k1, hs, (float*)g0, (float*)n0, (float*)h0, (float*)o0, (float*)bi0, (float*)bh0));
                else
                    ForwardGates(0, rows, hs, pg, pn, ph, pOut, pbi, pbh);
            }
        }
    }

    private static unsafe void ForwardGates(int k0, int k1, int hs, float* gates, float* ghn, float* h, float* hNew, float* bih, float* bhh)
    {
        int h3 = 3 * hs;
        using var biasRz = new PooledBuffer(2 * hs);
        TensorPrimitives.Add(new ReadOnlySpan<float>(bih, 2 * hs), new ReadOnlySpan<float>(bhh, 2 * hs), biasRz.Span);
        var bIn = new ReadOnlySpan<float>(bih + 2 * hs, hs);
        var bHn = new ReadOnlySpan<float>(bhh + 2 * hs, hs);
        for (int k = k0; k < k1; k++)
        {
            var rz = new Span<float>(gates + (long)k * h3, 2 * hs);
            var n = new Span<float>(gates + (long)k * h3 + 2 * hs, hs);
            var gn = new Span<float>(ghn + (long)k * hs, hs);
            var hk = new ReadOnlySpan<float>(h + (long)k * hs, hs);
            var outK = new Span<float>(hNew + (long)k * hs, hs);
            TensorPrimitives.Add(rz, biasRz.Span, rz);
            TensorPrimitives.Sigmoid(rz, rz);
            TensorPrimitives.Add(gn, bHn, gn);
            TensorPrimitives.Add(n, bIn, n);
            TensorPrimitives.FusedMultiplyAdd(rz.Slice(0, hs), gn, n, n);
            TensorPrimitives.Tanh(n, n);
            // h' = (h - n) * z + n.
            TensorPrimitives.Subtract(hk, n, outK);
            TensorPrimitives.FusedMultiplyAdd(outK, rz.Slice(hs, hs), n, outK);
        }
    }

    /// <summary>
    /// Back-propagates one step (after <see cref="StepForward"/> on the same rows) from dhNew [rows, H]. Replaces
    /// <paramref name="gates"/> by the pre-activation gradients (dr, dz, dn) and <paramref name="ghn"/> by dn ⊙ r
    /// (what <see cref="AccumulateWeightGradients"/> consumes); overwrites <paramref name="dh"/> [rows, H] with the
    /// gradient of h (direct path dh'⊙z plus the recurrent GEMMs) and, unless empty, <paramref name="dx"/>
    /// [rows, I] with the gradient of x.
    /// </summary>
    public static void StepBackward(int rows, int inputSize, int hiddenSize, ReadOnlySpan<float> dhNew, ReadOnlySpan<float> h,
        ReadOnlySpan<float> wih, ReadOnlySpan<float> whh, Span<float> gates, Span<float> ghn, Span<float> dx, Span<float> dh)
    {
        int hs = hiddenSize, h3 = 3 * hs;
        CheckStep(rows, inputSize, hs, dx.IsEmpty ? (long)rows * inputSize : dx.Length, h.Length, gates.Length, ghn.Length, dh.Length);
        if (dhNew.Length < (long)rows * hs) throw new ArgumentException($"dhNew holds {dhNew.Length} floats, needs {(long)rows * hs}.");
        if (rows == 0) return;
        dhNew.Slice(0, rows * hs).CopyTo(dh);
        unsafe
        {
            fixed (float* pg = gates, pn = ghn, ph = h, pdh = dh)
            {
                nint g0 = (nint)pg, n0 = (nint)pn, h0 = (nint)ph, d0 = (nint)pdh;
                void Rows(int k0, int k1)
                {
                    for (int k = k0; k < k1; k++)
                        GruSequence.GateGradients(hs, (float*)d0 + (long)k * hs, (float*)g0 + (long)k * h3, (float*)n0 + (long)k * hs, (float*)h0 + (long)k * hs);
                }
                if (Parallelism.ChunkCount(rows, GateRowsPerChunk) > 1) Parallelism.For(rows, GateRowsPerChunk, Rows);
                else Rows(0, rows);
            }
        }
        // dh += d(r,z) W_hh[0:2H] + (dn ⊙ r) W_hh[2H:3H]; dx = d(r,z,n) W_ih.
        Gemm.Multiply(false, false, rows, hs, 2 * hs, 1f, gates, h3, whh, hs, 1f, dh, hs);
        Gemm.Multiply(false, false, rows, hs, hs, 1f, ghn, hs, whh.Slice(2 * hs * hs), hs, 1f, dh, hs);
        if (!dx.IsEmpty) Gemm.Multiply(false, false, rows, inputSize, h3, 1f, gates, h3, wih, inputSize, 0f, dx, inputSize);
    }

    /// <summary>
    /// Adds the parameter gradients of <paramref name="rows"/> steps (rows of any number of steps, stored back to
    /// back) after <see cref="StepBackward"/>: dW_ih += d(r,z,n)ᵀ x, dW_hh[0:2H] += d(r,z)ᵀ h, dW_hh[2H:3H] +=
    /// (dn ⊙ r)ᵀ h, db_ih += Σ d(r,z,n), db_hh += Σ (d(r,z), dn ⊙ r). An empty destination is skipped.
    /// </summary>
    public static void AccumulateWeightGradients(int rows, int inputSize, int hiddenSize, ReadOnlySpan<float> x, ReadOnlySpan<float> h,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> ghn, Span<float> dWih, Span<float> dWhh, Span<float> dBih, Span<float> dBhh)
    {
        int hs = hiddenSize, h3 = 3 * hs;
        if (rows == 0) return;
        if (!dWih.IsEmpty) Gemm.Multiply(true, false, h3, inputSize, rows, 1f, gates, h3, x, inputSize, 1f, dWih, inputSize);
        if (!dWhh.IsEmpty)
        {
            Gemm.Multiply(true, false, 2 * hs, hs, rows, 1f, gates, h3, h, hs, 1f, dWhh, hs);
            Gemm.Multiply(true, false, hs, hs, rows, 1f, ghn, hs, h, hs, 1f, dWhh.Slice(2 * hs * hs), hs);
        }
        if (dBih.IsEmpty && dBhh.IsEmpty) return;
        using var sums = new PooledBuffer(4 * hs);
        var s = sums.Span;
        s.Clear();
        for (int k = 0; k < rows; k++)
        {
            TensorPrimitives.Add(s.Slice(0, h3), gates.Slice(k * h3, h3), s.Slice(0, h3));
            TensorPrimitives.Add(s.Slice(h3, hs), ghn.Slice(k * hs, hs), s.Slice(h3, hs));
        }
        if (!dBih.IsEmpty) TensorPrimitives.Add(dBih, s.Slice(0, h3), dBih);
        if (!dBhh.IsEmpty)
        {
            TensorPrimitives.Add(dBhh.Slice(0, 2 * hs), s.Slice(0, 2 * hs), dBhh.Slice(0, 2 * hs));
            TensorPrimitives.Add(dBhh.Slice(2 * hs, hs), s.Slice(h3, hs), dBhh.Slice(2 * hs, hs));
        }
    }

    private static void CheckStep(int rows, int inputSize, int hs, long xLength, long hLength, long gatesLength, long ghnLength, long outLength)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Row count must not be negative.");
        if (xLength < (long)rows * inputSize || hLength < (long)rows * hs || gatesLength < (long)rows * 3 * hs || ghnLength < (long)rows * hs || outLength < (long)rows * hs)
            throw new ArgumentException($"GRU cell step of {rows} rows ({inputSize} -> {hs}): a buffer is too short (x {xLength}, h {hLength}, gates {gatesLength}, ghn {ghnLength}, out {outLength}).");
    }
}
