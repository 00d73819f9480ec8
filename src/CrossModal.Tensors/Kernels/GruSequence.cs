using System.Numerics.Tensors;

namespace CrossModal.Tensors.Kernels;

/// <summary>
/// One direction of one GRU layer over a zero-padded batch [B, T, I] with per-sequence lengths, with PyTorch's
/// packed-sequence semantics: sequence b only sees its first len_b steps (the reverse direction starts at its last
/// valid step), padded outputs are zero, and the final state is the state after the last step processed.
/// Gate equations are PyTorch's: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (h − n) ⊙ z + n.
/// Cost structure (what makes it fast): the input projections of all steps are one GEMM, each step only multiplies
/// the still-active rows by W_hh (rows are kept sorted by length so the active ones are a prefix), and in the
/// backward pass dW_hh, dW_ih and dX are each a single GEMM over all steps.
/// Lifetime: every buffer is allocated by the constructor on the calling thread (pooled inside a TensorScope), so
/// Forward and Backward may run on a worker thread.
/// </summary>
internal sealed class GruSequence
{
    private readonly int _b, _t, _i, _h;
    private readonly bool _reverse, _saveForBackward;
    private readonly int[] _lengths, _order, _active, _slotStart;
    private readonly int _slots;
    private readonly float[] _gi;        // [B*T, 3H]: W_ih x + b_ih for every (b, t)
    private readonly float[] _hidden;    // [B, H] current state, rows in sorted order
    private readonly float[] _gh;        // [B, 3H] scratch: W_hh h + b_hh of the active rows
    private readonly float[]? _r, _z, _n, _ghn, _hPrev; // [slots, H] saved activations

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
        _gi = TensorScope.Allocate(batch * steps * 3 * hiddenSize, clear: false);
        _hidden = TensorScope.Allocate(batch * hiddenSize, clear: false);
        _gh = TensorScope.Allocate(batch * 3 * hiddenSize, clear: false);
        if (saveForBackward)
        {
            _r = TensorScope.Allocate(_slots * hiddenSize, clear: false);
            _z = TensorScope.Allocate(_slots * hiddenSize, clear: false);
            _n = TensorScope.Allocate(_slots * hiddenSize, clear: false);
            _ghn = TensorScope.Allocate(_slots * hiddenSize, clear: false);
            _hPrev = TensorScope.Allocate(_slots * hiddenSize, clear: false);
        }
    }

    /// <summary>Stable sort of row indices by length, longest first (pack_padded_sequence order).</summary>
    internal static int[] SortedByLength(int[] lengths)
    {
        var order = new int[lengths.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var keys = lengths.Select(l => -l).ToArray();
        Array.Sort((int[])keys.Clone(), order);
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

    /// <summary>
    /// Runs the sequence. <paramref name="x"/> is [B*T, I] row-major; outputs go to
    /// output[(b*T + t) * outStride + outOffset .. + H] (padded positions are written as zero); the final state of
    /// each row goes to hN[b*H ..]; <paramref name="h0"/> [B*H] may be empty (zeros).
    /// </summary>
    public unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> wih, ReadOnlySpan<float> whh, ReadOnlySpan<float> bih,
        ReadOnlySpan<float> bhh, ReadOnlySpan<float> h0, Span<float> output, int outStride, int outOffset, Span<float> hN)
    {
        int h3 = 3 * _h, H = _h;
        var gi = _gi.AsSpan(0, _b * _t * h3);
        for (int row = 0; row < _b * _t; row++) bih.CopyTo(gi.Slice(row * h3, h3));
        Gemm.Multiply(false, true, _b * _t, h3, _i, 1f, x, _i, wih, _i, 1f, gi, h3);

        var hidden = _hidden.AsSpan(0, _b * H);
        for (int k = 0; k < _b; k++)
        {
            var dst = hidden.Slice(k * H, H);
            if (h0.IsEmpty) dst.Clear(); else h0.Slice(_order[k] * H, H).CopyTo(dst);
        }
        for (int b = 0; b < _b; b++)
            for (int t = 0; t < _t; t++) output.Slice((b * _t + t) * outStride + outOffset, H).Clear();

        var gh = _gh.AsSpan(0, _b * h3);
        for (int s = 0; s < _active.Length; s++)
        {
            int a = _active[s];
            for (int k = 0; k < a; k++) bhh.CopyTo(gh.Slice(k * h3, h3));
            Gemm.Multiply(false, true, a, h3, H, 1f, hidden, H, whh, H, 1f, gh, h3);
            int slot0 = _slotStart[s];
            for (int k = 0; k < a; k++)
            {
                int b = _order[k], t = TimeOf(b, s);
                var g = gi.Slice((b * _t + t) * h3, h3);
                var hh = gh.Slice(k * h3, h3);
                var hPrev = hidden.Slice(k * H, H);
                Span<float> r, z, n;
                if (_saveForBackward)
                {
                    int o = (slot0 + k) * H;
                    r = _r.AsSpan(o, H);
                    z = _z.AsSpan(o, H);
                    n = _n.AsSpan(o, H);
                    hh.Slice(2 * H, H).CopyTo(_ghn.AsSpan(o, H));
                    hPrev.CopyTo(_hPrev.AsSpan(o, H));
                }
                else
                {
                    // Without a backward pass the gates live in the (already consumed) W_hh h slots.
                    r = hh.Slice(0, H);
                    z = hh.Slice(H, H);
                    n = g.Slice(2 * H, H);
                }
                TensorPrimitives.Add(g.Slice(0, H), hh.Slice(0, H), r);
                TensorPrimitives.Sigmoid(r, r);
                TensorPrimitives.Add(g.Slice(H, H), hh.Slice(H, H), z);
                TensorPrimitives.Sigmoid(z, z);
                TensorPrimitives.FusedMultiplyAdd(r, hh.Slice(2 * H, H), g.Slice(2 * H, H), n);
                TensorPrimitives.Tanh(n, n);
                // h' = (h - n) * z + n, written in place over h.
                TensorPrimitives.Subtract(hPrev, n, hPrev);
                TensorPrimitives.FusedMultiplyAdd(hPrev, z, n, hPrev);
                hPrev.CopyTo(output.Slice((b * _t + t) * outStride + outOffset, H));
            }
        }
        for (int k = 0; k < _b; k++) hidden.Slice(k * H, H).CopyTo(hN.Slice(_order[k] * H, H));
    }

    /// <summary>
    /// Back-propagates. <paramref name="dOutput"/> (same layout as the forward output; may be empty) and
    /// <paramref name="dhN"/> [B*H] (may be empty) are the incoming gradients. Gradients are added into the weight
    /// and bias gradients when the accumulate flags say so, else overwrite them; <paramref name="dx"/> [B*T, I]
    /// is overwritten; <paramref name="dh0"/> [B*H] is overwritten when not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> wih, ReadOnlySpan<float> whh,
        ReadOnlySpan<float> dOutput, int outStride, int outOffset, ReadOnlySpan<float> dhN,
        Span<float> dx, Span<float> dWih, bool accWih, Span<float> dWhh, bool accWhh, Span<float> dBih, bool accBih,
        Span<float> dBhh, bool accBhh, Span<float> dh0)
    {
        if (!_saveForBackward) throw new InvalidOperationException("GRU backward needs the forward activations (recorded without gradient).");
        int h3 = 3 * _h, H = _h;
        using var dGiBuf = new PooledBuffer(_b * _t * h3);
        using var dGhBuf = new PooledBuffer(Math.Max(1, _slots) * h3);
        using var dhBuf = new PooledBuffer(_b * H);
        var dGi = dGiBuf.Span;
        var dGh = dGhBuf.Span.Slice(0, _slots * h3);
        var dh = dhBuf.Span;
        dGi.Clear();
        for (int k = 0; k < _b; k++)
        {
            var dst = dh.Slice(k * H, H);
            if (dhN.IsEmpty) dst.Clear(); else dhN.Slice(_order[k] * H, H).CopyTo(dst);
        }
        for (int s = _active.Length - 1; s >= 0; s--)
        {
            int a = _active[s], slot0 = _slotStart[s];
            for (int k = 0; k < a; k++)
            {
                int b = _order[k], t = TimeOf(b, s);
                var dhk = dh.Slice(k * H, H);
                if (!dOutput.IsEmpty) TensorPrimitives.Add(dhk, dOutput.Slice((b * _t + t) * outStride + outOffset, H), dhk);
                int o = (slot0 + k) * H;
                var r = _r.AsSpan(o, H);
                var z = _z.AsSpan(o, H);
                var n = _n.AsSpan(o, H);
                var ghn = _ghn.AsSpan(o, H);
                var hp = _hPrev.AsSpan(o, H);
                var gRow = dGi.Slice((b * _t + t) * h3, h3);
                var hRow = dGh.Slice((slot0 + k) * h3, h3);
                for (int j = 0; j < H; j++)
                {
                    float dhj = dhk[j], zj = z[j], nj = n[j], rj = r[j];
                    float dn = dhj * (1f - zj);
                    float dz = dhj * (hp[j] - nj);
                    float dan = dn * (1f - nj * nj);
                    float dar = dan * ghn[j] * rj * (1f - rj);
                    float daz = dz * zj * (1f - zj);
                    gRow[j] = dar;
                    gRow[H + j] = daz;
                    gRow[2 * H + j] = dan;
                    hRow[j] = dar;
                    hRow[H + j] = daz;
                    hRow[2 * H + j] = dan * rj;
                    dhk[j] = dhj * zj; // the direct path; W_hh^T dGh is added below
                }
            }
            // dh_prev[0..a) += dGh_s W_hh
            Gemm.Multiply(false, false, a, H, h3, 1f, dGh.Slice(slot0 * h3), h3, whh, H, 1f, dh, H);
        }
        // Weight gradients over all steps at once.
        if (_slots > 0)
        {
            Gemm.Multiply(true, false, h3, H, _slots, 1f, dGh, h3, _hPrev.AsSpan(0, _slots * H), H, accWhh ? 1f : 0f, dWhh, H);
        }
        else if (!accWhh) dWhh.Clear();
        ColumnSums(dGh, _slots, h3, dBhh, accBhh);
        Gemm.Multiply(true, false, h3, _i, _b * _t, 1f, dGi, h3, x, _i, accWih ? 1f : 0f, dWih, _i);
        ColumnSums(dGi, _b * _t, h3, dBih, accBih);
        Gemm.Multiply(false, false, _b * _t, _i, h3, 1f, dGi, h3, wih, _i, 0f, dx, _i);
        if (!dh0.IsEmpty)
            for (int k = 0; k < _b; k++) dh.Slice(k * H, H).CopyTo(dh0.Slice(_order[k] * H, H));
    }

    private static void ColumnSums(ReadOnlySpan<float> m, int rows, int cols, Span<float> dst, bool accumulate)
    {
        if (!accumulate) dst.Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(dst, m.Slice(r * cols, cols), dst);
    }
}
