using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Kernels;

/// <summary>
/// One direction of one GRU layer over a zero-padded batch [B, T, I] with per-sequence lengths, with PyTorch's
/// packed-sequence semantics: sequence b only sees its first len_b steps (the reverse direction starts at its last
/// valid step), padded outputs are zero, and the final state is the state after the last step processed.
/// Gate equations are PyTorch's: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (h − n) ⊙ z + n.
/// <para>
/// Cost structure. Rows are sorted by length (longest first), so at step s the still-active rows are a prefix of
/// a_s rows; (step, rank) pairs are numbered as "slots" step by step, and everything per position is stored in slot
/// order, so padded positions cost nothing. The input projections of all slots are one GEMM; each step multiplies
/// the active prefix by W_hh, split into its r,z rows (accumulated straight into the slot rows of the input
/// projection) and its n rows, against copies of W_hh packed once per sequence; in the backward pass dW_hh, dW_ih
/// and dX are each a single GEMM over all slots. The gate arithmetic works on L1-resident rows and, when the
/// direction has both cores to itself, is split across them by rows.
/// </para>
/// Lifetime: the activations live in buffers allocated by the constructor on the calling thread (pooled inside a
/// TensorScope), so Forward and Backward may run on a worker thread. Backward consumes the saved activations (it
/// overwrites them with gradients): it runs at most once.
/// </summary>
internal sealed unsafe class GruSequence
{
    /// <summary>Rows per chunk when a step's gate arithmetic is split across threads (~1.5 µs per row at H = 1024).</summary>
    private const int GateRowsPerChunk = 16;

    private readonly int _b, _t, _i, _h;
    private readonly bool _reverse, _saveForBackward;
    private readonly int[] _lengths, _order, _active, _slotStart;
    private readonly int _slots;
    private readonly float[] _xs;        // [slots, I]: the input of each slot (kept for dW_ih)
    private readonly float[] _gates;     // [slots, 3H]: W_ih x, then (r, z, n) after the step, then (dr, dz, dn) in Backward
    private readonly float[] _ghn;       // [slots, H] (training) or [B, H]: W_hn h + b_hn, then dn ⊙ r in Backward
    private readonly float[] _hidden;    // [B, H]: the current state, rows in sorted order
    private readonly float[]? _hPrev;    // [slots, H]: the state each slot started from
    private readonly float[] _bias;      // [4H]: b_ir + b_hr, b_iz + b_hz, b_in, b_hn
    private PackedMatrix? _whhRzT, _whhNT; // op(B) = W_hh[0:2H]^T and W_hh[2H:3H]^T, packed for the forward steps

    public GruSequence(int batch, int steps, int inputSize, int hiddenSize, ReadOnlySpan<int> lengths, bool reverse, bool saveForBackward)
    {
        _b = batch;
        _t = steps;
        _i = inputSize;
        _h = hiddenSize;
        _reverse = reverse;
        _saveForBackward = saveForBackward;
        _lengths = lengths.ToArray();
        _order = SortedByLength(_lengths);
        int maxLen = batch == 0 ? 0 : _lengths[_order[0]];
        _active = new int[maxLen];
        _slotStart = new int[maxLen + 1];
        for (int s = 0; s < maxLen; s++)
        {
            int a = 0;
            while (a < batch && _lengths[_order[a]] > s) a++;
            _active[s] = a;
            _slotStart[s + 1] = _slotStart[s] + a;
        }
        _slots = _slotStart[maxLen];
        _xs = TensorScope.Allocate(_slots * inputSize, clear: false);
        _gates = TensorScope.Allocate(_slots * 3 * hiddenSize, clear: false);
        _ghn = TensorScope.Allocate((saveForBackward ? _slots : batch) * hiddenSize, clear: false);
        _hidden = TensorScope.Allocate(batch * hiddenSize, clear: false);
        _bias = TensorScope.Allocate(4 * hiddenSize, clear: false);
        if (saveForBackward) _hPrev = TensorScope.Allocate(_slots * hiddenSize, clear: false);
    }

    /// <summary>Stable sort of row indices by length, longest first (pack_padded_sequence order).</summary>
    internal static int[] SortedByLength(int[] lengths)
    {
        var order = new int[lengths.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var keys = new int[lengths.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = -lengths[i];
        Array.Sort(keys, order);
        // Array.Sort is not stable; restore index order among equal lengths so results never depend on it.
        int start = 0;
        while (start < order.Length)
        {
            int end = start + 1;
            while (end < order.Length && lengths[order[end]] == lengths[order[start]]) end++;
            Array.Sort(order, start, end - start);
            start = end;
        }
        return order;
    }

    private int TimeOf(int row, int step) => _reverse ? _lengths[row] - 1 - step : step;

    /// <summary>Row of the padded [B*T] layout that slot (step, rank) stands for.</summary>
    private int PaddedRow(int step, int rank)
    {
        int b = _order[rank];
        return b * _t + TimeOf(b, step);
    }

    /// <summary>
    /// Runs the sequence. <paramref name="x"/> is [B*T, I] row-major; outputs go to
    /// output[(b*T + t) * outStride + outOffset .. + H] (padded positions are written as zero); the final state of
    /// each row goes to hN[b*H ..]; <paramref name="h0"/> [B*H] may be empty (zeros).
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> wih, ReadOnlySpan<float> whh, ReadOnlySpan<float> bih,
        ReadOnlySpan<float> bhh, ReadOnlySpan<float> h0, Span<float> output, int outStride, int outOffset, Span<float> hN)
    {
        int H = _h, h3 = 3 * H;
        // Biases enter in the gate arithmetic: b_ir + b_hr and b_iz + b_hz combined, b_in and b_hn apart.
        var bias = _bias.AsSpan(0, 4 * H);
        TensorPrimitives.Add(bih.Slice(0, 2 * H), bhh.Slice(0, 2 * H), bias.Slice(0, 2 * H));
        bih.Slice(2 * H, H).CopyTo(bias.Slice(2 * H, H));
        bhh.Slice(2 * H, H).CopyTo(bias.Slice(3 * H, H));

        // Input projections of every slot: one GEMM over the inputs gathered in slot order.
        var xs = _xs.AsSpan(0, _slots * _i);
        for (int s = 0; s < _active.Length; s++)
            for (int k = 0; k < _active[s]; k++)
                x.Slice(PaddedRow(s, k) * _i, _i).CopyTo(xs.Slice((_slotStart[s] + k) * _i, _i));
        var gates = _gates.AsSpan(0, _slots * h3);
        Gemm.Multiply(false, true, _slots, h3, _i, 1f, xs, _i, wih, _i, 0f, gates, h3);

        var hidden = _hidden.AsSpan(0, _b * H);
        for (int k = 0; k < _b; k++)
        {
            var dst = hidden.Slice(k * H, H);
            if (h0.IsEmpty) dst.Clear(); else h0.Slice(_order[k] * H, H).CopyTo(dst);
        }
        // Only padded positions need clearing; every valid one is written by its step.
        for (int b = 0; b < _b; b++)
            for (int t = _lengths[b]; t < _t; t++) output.Slice((b * _t + t) * outStride + outOffset, H).Clear();

        _whhRzT = Gemm.Pack(true, H, 2 * H, whh, H);
        _whhNT = Gemm.Pack(true, H, H, whh.Slice(2 * H * H), H);
        fixed (float* pOut = output)
        {
            for (int s = 0; s < _active.Length; s++)
            {
                int a = _active[s], slot0 = _slotStart[s];
                var ghn = _ghn.AsSpan((_saveForBackward ? slot0 : 0) * H, a * H);
                // r,z pre-activations accumulate onto the slots' input projections; W_hn h goes apart (r multiplies it).
                Gemm.Multiply(false, a, 1f, hidden, H, _whhRzT, 1f, gates.Slice(slot0 * h3, a * h3), h3);
                Gemm.Multiply(false, a, 1f, hidden, H, _whhNT, 0f, ghn, H);
                nint outBase = (nint)(pOut + outOffset);
                if (Parallelism.ChunkCount(a, GateRowsPerChunk) > 1)
                    Parallelism.For(a, GateRowsPerChunk, (k0, k1) => ForwardGates(s, k0, k1, (float*)outBase, outStride));
                else
                    ForwardGates(s, 0, a, (float*)outBase, outStride);
            }
        }
        for (int k = 0; k < _b; k++) hidden.Slice(k * H, H).CopyTo(hN.Slice(_order[k] * H, H));
        if (!_saveForBackward) ReleasePacked();
    }

    /// <summary>Gate arithmetic of step <paramref name="s"/> for ranks [k0, k1): updates the state and writes the outputs.</summary>
    private void ForwardGates(int s, int k0, int k1, float* output, int outStride)
    {
        int H = _h, h3 = 3 * H, slot0 = _slotStart[s];
        var bRz = new ReadOnlySpan<float>(_bias, 0, 2 * H);
        var bIn = new ReadOnlySpan<float>(_bias, 2 * H, H);
        var bHn = new ReadOnlySpan<float>(_bias, 3 * H, H);
        for (int k = k0; k < k1; k++)
        {
            int slot = slot0 + k;
            var rz = _gates.AsSpan(slot * h3, 2 * H);
            var n = _gates.AsSpan(slot * h3 + 2 * H, H);
            var ghn = _ghn.AsSpan((_saveForBackward ? slot : k) * H, H);
            var h = _hidden.AsSpan(k * H, H);
            TensorPrimitives.Add(rz, bRz, rz);
            TensorPrimitives.Sigmoid(rz, rz);
            var r = rz.Slice(0, H);
            var z = rz.Slice(H, H);
            TensorPrimitives.Add(ghn, bHn, ghn);
            TensorPrimitives.Add(n, bIn, n);
            TensorPrimitives.FusedMultiplyAdd(r, ghn, n, n);
            TensorPrimitives.Tanh(n, n);
            if (_saveForBackward) h.CopyTo(_hPrev.AsSpan(slot * H, H));
            // h' = (h - n) * z + n, in place over h.
            TensorPrimitives.Subtract(h, n, h);
            TensorPrimitives.FusedMultiplyAdd(h, z, n, h);
            h.CopyTo(new Span<float>(output + (long)PaddedRow(s, k) * outStride, H));
        }
    }

    /// <summary>
    /// Back-propagates. <paramref name="dOutput"/> (same layout as the forward output; may be empty) and
    /// <paramref name="dhN"/> [B*H] (may be empty) are the incoming gradients. Gradients are added into the weight
    /// and bias gradients when the accumulate flags say so, else overwrite them; <paramref name="dx"/> [B*T, I]
    /// is overwritten when not empty (empty skips the input-gradient GEMM); <paramref name="dh0"/> [B*H] is
    /// overwritten when not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> wih, ReadOnlySpan<float> whh,
        ReadOnlySpan<float> dOutput, int outStride, int outOffset, ReadOnlySpan<float> dhN,
        Span<float> dx, Span<float> dWih, bool accWih, Span<float> dWhh, bool accWhh, Span<float> dBih, bool accBih,
        Span<float> dBhh, bool accBhh, Span<float> dh0)
    {
        if (!_saveForBackward || _whhRzT is null) throw new InvalidOperationException("GRU backward needs the forward activations (recorded without gradient, or already used).");
        int H = _h, h3 = 3 * H;
        ReleasePacked();
        using var dhBuf = new PooledBuffer(_b * H);
        var dh = dhBuf.Span;
        for (int k = 0; k < _b; k++)
        {
            var dst = dh.Slice(k * H, H);
            if (dhN.IsEmpty) dst.Clear(); else dhN.Slice(_order[k] * H, H).CopyTo(dst);
        }
        // dh_prev += dG_rz W_hh[0:2H] + (dn ⊙ r) W_hh[2H:3H], against W_hh packed once for all steps.
        using var whhRz = Gemm.Pack(false, 2 * H, H, whh, H);
        using var whhN = Gemm.Pack(false, H, H, whh.Slice(2 * H * H), H);
        var gates = _gates.AsSpan(0, _slots * h3);
        var ghn = _ghn.AsSpan(0, _slots * H);
        fixed (float* pdOut = dOutput)
        fixed (float* pdh = dh)
        {
            nint dOutBase = dOutput.IsEmpty ? 0 : (nint)(pdOut + outOffset), dhBase = (nint)pdh;
            for (int s = _active.Length - 1; s >= 0; s--)
            {
                int a = _active[s], slot0 = _slotStart[s];
                if (Parallelism.ChunkCount(a, GateRowsPerChunk) > 1)
                    Parallelism.For(a, GateRowsPerChunk, (k0, k1) => BackwardGates(s, k0, k1, (float*)dOutBase, outStride, (float*)dhBase));
                else
                    BackwardGates(s, 0, a, (float*)dOutBase, outStride, pdh);
                Gemm.Multiply(false, a, 1f, gates.Slice(slot0 * h3, a * h3), h3, whhRz, 1f, dh, H);
                Gemm.Multiply(false, a, 1f, ghn.Slice(slot0 * H, a * H), H, whhN, 1f, dh, H);
            }
        }

        // Weight and bias gradients over all slots at once. gates now holds (dr, dz, dn) pre-activation gradients,
        // ghn holds dn ⊙ r (the gradient of W_hn h + b_hn).
        var hPrev = _hPrev.AsSpan(0, _slots * H);
        Gemm.Multiply(true, false, 2 * H, H, _slots, 1f, gates, h3, hPrev, H, accWhh ? 1f : 0f, dWhh, H);
        Gemm.Multiply(true, false, H, H, _slots, 1f, ghn, H, hPrev, H, accWhh ? 1f : 0f, dWhh.Slice(2 * H * H), H);
        // Bias gradients: b_ir/b_hr and b_iz/b_hz receive the same sums (dr, dz), b_in gets dn, b_hn gets dn ⊙ r.
        using (var sumsBuf = new PooledBuffer(4 * H))
        {
            var sums = sumsBuf.Span;
            ColumnSums(_gates, _slots, h3, sumsBuf.Array, 0);
            ColumnSums(_ghn, _slots, H, sumsBuf.Array, h3);
            AddOrCopy(sums.Slice(0, h3), dBih, accBih);
            AddOrCopy(sums.Slice(0, 2 * H), dBhh.Slice(0, 2 * H), accBhh);
            AddOrCopy(sums.Slice(h3, H), dBhh.Slice(2 * H, H), accBhh);
        }
        var xs = _xs.AsSpan(0, _slots * _i);
        Gemm.Multiply(true, false, h3, _i, _slots, 1f, gates, h3, xs, _i, accWih ? 1f : 0f, dWih, _i);
        if (!dx.IsEmpty)
        {
            // dX in slot order (reusing the inputs' buffer), then scattered to the padded layout.
            Gemm.Multiply(false, false, _slots, _i, h3, 1f, gates, h3, wih, _i, 0f, xs, _i);
            for (int b = 0; b < _b; b++)
                for (int t = _lengths[b]; t < _t; t++) dx.Slice((b * _t + t) * _i, _i).Clear();
            for (int s = 0; s < _active.Length; s++)
                for (int k = 0; k < _active[s]; k++)
                    xs.Slice((_slotStart[s] + k) * _i, _i).CopyTo(dx.Slice(PaddedRow(s, k) * _i, _i));
        }
        if (!dh0.IsEmpty)
            for (int k = 0; k < _b; k++) dh.Slice(k * H, H).CopyTo(dh0.Slice(_order[k] * H, H));
    }

    /// <summary>
    /// Gate backward of step <paramref name="s"/> for ranks [k0, k1): adds the output gradient into dh, replaces
    /// (r, z, n) by the pre-activation gradients (dr, dz, dn), ghn by dn ⊙ r, and dh by its direct path dh ⊙ z.
    /// </summary>
    private void BackwardGates(int s, int k0, int k1, float* dOutput, int outStride, float* dhAll)
    {
        int H = _h, h3 = 3 * H, slot0 = _slotStart[s];
        fixed (float* pg = _gates, pghn = _ghn, php = _hPrev)
        {
            for (int k = k0; k < k1; k++)
            {
                int slot = slot0 + k;
                float* dh = dhAll + (long)k * H;
                if (dOutput is not null)
                {
                    var dhk = new Span<float>(dh, H);
                    TensorPrimitives.Add(dhk, new ReadOnlySpan<float>(dOutput + (long)PaddedRow(s, k) * outStride, H), dhk);
                }
                GateGradients(H, dh, pg + (long)slot * h3, pghn + (long)slot * H, php + (long)slot * H);
            }
        }
    }

    /// <summary>
    /// The elementwise GRU backward for one row, Vector512 → Vector256 → scalar:
    /// dn = dh(1−z), dz = dh(h−n), dan = dn(1−n²), dar = dan·ghn·r(1−r), daz = dz·z(1−z); writes (dar, daz, dan)
    /// over g = (r, z, n), dan·r over ghn, and dh·z over dh.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GateGradients(int h, float* dh, float* g, float* ghn, float* hp)
    {
        float* r = g, z = g + h, n = g + 2 * h;
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var one = Vector512<float>.One;
            for (; j + 16 <= h; j += 16)
            {
                var vdh = Vector512.Load(dh + j);
                var vr = Vector512.Load(r + j);
                var vz = Vector512.Load(z + j);
                var vn = Vector512.Load(n + j);
                var dn = vdh * (one - vz);
                var dz = vdh * (Vector512.Load(hp + j) - vn);
                var dan = dn * (one - vn * vn);
                var dar = dan * Vector512.Load(ghn + j) * vr * (one - vr);
                var daz = dz * vz * (one - vz);
                Vector512.Store(dar, r + j);
                Vector512.Store(daz, z + j);
                Vector512.Store(dan, n + j);
                Vector512.Store(dan * vr, ghn + j);
                Vector512.Store(vdh * vz, dh + j);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<float>.One;
            for (; j + 8 <= h; j += 8)
            {
                var vdh = Vector256.Load(dh + j);
                var vr = Vector256.Load(r + j);
                var vz = Vector256.Load(z + j);
                var vn = Vector256.Load(n + j);
                var dn = vdh * (one - vz);
                var dz = vdh * (Vector256.Load(hp + j) - vn);
                var dan = dn * (one - vn * vn);
                var dar = dan * Vector256.Load(ghn + j) * vr * (one - vr);
                var daz = dz * vz * (one - vz);
                Vector256.Store(dar, r + j);
                Vector256.Store(daz, z + j);
                Vector256.Store(dan, n + j);
                Vector256.Store(dan * vr, ghn + j);
                Vector256.Store(vdh * vz, dh + j);
            }
        }
        for (; j < h; j++)
        {
            float dhj = dh[j], rj = r[j], zj = z[j], nj = n[j];
            float dn = dhj * (1f - zj);
            float dz = dhj * (hp[j] - nj);
            float dan = dn * (1f - nj * nj);
            r[j] = dan * ghn[j] * rj * (1f - rj);
            z[j] = dz * zj * (1f - zj);
            n[j] = dan;
            ghn[j] = dan * rj;
            dh[j] = dhj * zj;
        }
    }

    private void ReleasePacked()
    {
        _whhRzT?.Dispose();
        _whhNT?.Dispose();
        _whhRzT = _whhNT = null;
    }

    private static void AddOrCopy(ReadOnlySpan<float> src, Span<float> dst, bool accumulate)
    {
        if (accumulate) TensorPrimitives.Add(dst, src, dst);
        else src.CopyTo(dst);
    }

    /// <summary>
    /// dst[dstOffset + c] = the sum over <paramref name="rows"/> rows of column c of the [rows x cols] matrix m. Split
    /// across threads by column ranges (each sum is still taken in row order, so the result does not depend on the split).
    /// </summary>
    private static void ColumnSums(float[] m, int rows, int cols, float[] dst, int dstOffset)
    {
        const int ChunkColumns = 256;
        int chunks = (cols + ChunkColumns - 1) / ChunkColumns;
        Parallelism.For(chunks, 1, (c0, c1) =>
        {
            int start = c0 * ChunkColumns, width = Math.Min(cols, c1 * ChunkColumns) - start;
            var sum = dst.AsSpan(dstOffset + start, width);
            sum.Clear();
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(sum, m.AsSpan(r * cols + start, width), sum);
        });
    }
}
