using System.Numerics.Tensors;
using CrossModal.Tensors;
using Tensor = CrossModal.Tensors.Tensor;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Nn;
using CrossModal.Tensors.Threading;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's caption decoder in teacher-forcing mode (DecoderRNN.forward, mode 'train') as one differentiable op over
/// all steps. Step s of row b: context = attention(encoder outputs of b, h_prev), input = dropout([embedding of
/// token s; context]) (word first), h = GRU cell(input, h_prev), starting from the encoder's final state; the
/// output is every step's h (the caller applies the output layer and the loss).
/// <para>
/// What it does not compute, and why that is exact: the original runs max_len - 1 steps for every row, but the
/// loss masks every position after a caption's first pad, so a row's later steps influence neither the loss nor
/// any gradient. Rows run only their <see cref="SlotLayout.Steps"/>; with captions sorted by length the active
/// rows of a step are a prefix and their data are contiguous "slots". The attention's linear1 is split into its
/// encoder half, applied once per batch, and its state half, applied per step (linear1([e; h]) = W_e e + W_h h + b).
/// The backward pass walks the steps in reverse and does the weight-gradient GEMMs once over all slots.
/// </para>
/// Lifetime: buffers come from the current <see cref="TensorScope"/> (they live until the training step ends).
/// </summary>
internal sealed class TeacherForcedDecoder
{
    /// <summary>Rows per chunk when a step's per-row attention is split across threads.</summary>
    private const int RowsPerChunk = 8;

    private readonly CaptionDecoder _d;
    private readonly SlotLayout _layout;
    private readonly int _b, _n, _h, _w, _in;
    private readonly int[] _tokens;          // [slots]: the word fed at each slot
    private readonly float[] _encProj;       // [B·N, H]: W_e e + b
    private readonly float[] _hPrev;         // [slots, H]
    private readonly float[] _att;           // [slots, N, H]: tanh(W_e e + b + W_h h_prev), then its gradient
    private readonly float[] _alpha;         // [slots, N]
    private readonly float[] _x;             // [slots, W + H]: the GRU input after dropout
    private readonly float[]? _mask;         // [slots, W + H]
    private readonly float[] _gates;         // [slots, 3H]
    private readonly float[] _ghn;           // [slots, H]
    private readonly float[] _encOut;        // the encoder outputs' storage, from _encOutOffset: [B, N, H]
    private readonly int _encOutOffset;

    private TeacherForcedDecoder(CaptionDecoder decoder, SlotLayout layout, Tensor encoderOutputs, int[] tokens, bool dropout)
    {
        int n = encoderOutputs.Dim(1);
        _encOut = encoderOutputs.Buffer;
        _encOutOffset = encoderOutputs.Offset;
        _d = decoder;
        _layout = layout;
        _b = layout.Rows;
        _n = n;
        _h = decoder.HiddenSize;
        _w = decoder.WordSize;
        _in = _w + _h;
        _tokens = tokens;
        int slots = layout.Count;
        _encProj = TensorScope.Allocate(Math.Max(1, _b * n * _h), clear: false);
        _hPrev = TensorScope.Allocate(Math.Max(1, slots * _h), clear: false);
        _att = TensorScope.Allocate(Math.Max(1, slots * n * _h), clear: false);
        _alpha = TensorScope.Allocate(Math.Max(1, slots * n), clear: false);
        _x = TensorScope.Allocate(Math.Max(1, slots * _in), clear: false);
        _mask = dropout ? TensorScope.Allocate(Math.Max(1, slots * _in), clear: false) : null;
        _gates = TensorScope.Allocate(Math.Max(1, slots * 3 * _h), clear: false);
        _ghn = TensorScope.Allocate(Math.Max(1, slots * _h), clear: false);
    }

    /// <summary>
    /// The hidden state after every slot's step, [slots, H] in <paramref name="layout"/>'s order. encoderOutputs
    /// [B, N, H], encoderHidden [B, H]; tokens[b * stride + s] is the word fed to row b at step s (teacher forcing:
    /// the target caption from &lt;start&gt;). Dropout on the inputs when <paramref name="dropout"/> is given.
    /// </summary>
    public static Tensor Run(CaptionDecoder decoder, Tensor encoderOutputs, Tensor encoderHidden, ReadOnlySpan<int> tokens, int stride,
        SlotLayout layout, DropoutMasks? dropout, GlobalBatchRows? global = null)
    {
        int b = layout.Rows, h = decoder.HiddenSize;
        if (encoderOutputs.Rank != 3 || encoderOutputs.Dim(0) != b || encoderOutputs.Dim(2) != h)
            throw new ArgumentException($"Decoder: encoder outputs {Tensor.FormatShape(encoderOutputs.ShapeSpan)} are not [{b}, N, {h}].");
        if (encoderHidden.Rank != 2 || encoderHidden.Dim(0) != b || encoderHidden.Dim(1) != h)
            throw new ArgumentException($"Decoder: encoder state {Tensor.FormatShape(encoderHidden.ShapeSpan)} is not [{b}, {h}].");
        var slotTokens = new int[layout.Count];
        int vocab = decoder.VocabSize;
        for (int s = 0; s < layout.StepCount; s++)
        {
            if (s >= stride) throw new ArgumentException($"Decoder: {layout.StepCount} steps but only {stride} tokens per row.");
            for (int k = 0; k < layout.Active[s]; k++)
            {
                int id = tokens[k * stride + s];
                if ((uint)id >= (uint)vocab) throw new ArgumentException($"Decoder: token id {id} outside the vocabulary of {vocab}.");
                slotTokens[layout.SlotStart[s] + k] = id;
            }
        }
        var run = new TeacherForcedDecoder(decoder, layout, encoderOutputs, slotTokens, dropout is not null && dropout.P > 0f);
        var output = Tensor.Empty(layout.Count, h);
        run.Forward(encoderOutputs.Data, encoderHidden.Data, output.Data, dropout, global);
        var inputs = new List<Tensor> { encoderOutputs, encoderHidden };
        inputs.AddRange(decoder.Parameters());
        if (Tape.Needs(inputs))
            Tape.Record(output, g => run.Backward(encoderOutputs, encoderHidden, output.Data, g.Data));
        return output;
    }

    private void Forward(ReadOnlySpan<float> encOut, ReadOnlySpan<float> encHidden, Span<float> output, DropoutMasks? dropout, GlobalBatchRows? global)
    {
        int h = _h, n = _n, inSize = _in;
        var w1 = _d.Attention.Linear1.Weight.Data;
        // W_e e + b for every region of every row: one GEMM against the encoder half of linear1 (row stride 2H).
        var encProj = _encProj.AsSpan(0, _b * n * h);
        var b1 = _d.Attention.Linear1.Bias!.Data;
        for (int r = 0; r < _b * n; r++) b1.CopyTo(encProj.Slice(r * h, h));
        Gemm.Multiply(false, true, _b * n, h, h, 1f, encOut, h, w1, 2 * h, 1f, encProj, h);

        var rnn = _d.Rnn;
        using var hpBuf = new PooledBuffer(Math.Max(1, _b * h));
        for (int s = 0; s < _layout.StepCount; s++)
        {
            int a = _layout.Active[s], slot0 = _layout.SlotStart[s];
            var hPrev = _hPrev.AsSpan(slot0 * h, a * h);
            if (s == 0) encHidden.Slice(0, a * h).CopyTo(hPrev);
            else output.Slice(_layout.SlotStart[s - 1] * h, a * h).CopyTo(hPrev);
            // W_h h_prev: the state half of linear1 (columns H..2H-1).
            var hp = hpBuf.Span.Slice(0, a * h);
            Gemm.Multiply(false, true, a, h, h, 1f, hPrev, h, w1.Slice(h), 2 * h, 0f, hp, h);
            var hpArray = hpBuf.Array;
            Parallelism.For(a, RowsPerChunk, (k0, k1) => AttendRows(slot0, k0, k1, hpArray));
            var x = _x.AsSpan(slot0 * inSize, a * inSize);
            if (_mask is not null)
            {
                var mask = _mask.AsSpan(slot0 * inSize, a * inSize);
                // A rank's active rows are the first of its rows; the global batch's, the first Active[s] of it.
                if (global is null) dropout!.Fill(mask);
                else dropout!.FillRows(mask, inSize, global.Rows.AsSpan(0, a), global.Layout.Active[s]);
                TensorPrimitives.Multiply(x, mask, x);
            }
            GruCell.StepForward(a, inSize, h, x, hPrev, rnn.WeightIh.Data, rnn.WeightHh.Data, rnn.BiasIh.Data, rnn.BiasHh.Data,
                _gates.AsSpan(slot0 * 3 * h, a * 3 * h), _ghn.AsSpan(slot0 * h, a * h), output.Slice(slot0 * h, a * h));
        }
        // The global batch's later steps, which none of this rank's rows reach: their masks are drawn all the same,
        // so that the generator advances as one process's does.
        if (_mask is not null && global is not null)
            for (int s = _layout.StepCount; s < global.Layout.StepCount; s++)
                dropout!.FillRows(Span<float>.Empty, inSize, ReadOnlySpan<int>.Empty, global.Layout.Active[s]);
    }

    /// <summary>Attention and GRU input of rows [k0, k1) at the step starting at <paramref name="slot0"/>.</summary>
    private void AttendRows(int slot0, int k0, int k1, float[] hp)
    {
        int h = _h, n = _n, inSize = _in;
        var w2 = _d.Attention.Linear2.Weight.Data;
        var emb = _d.Embedding.Weight.Data;
        Span<float> e = n <= 256 ? stackalloc float[n] : new float[n];
        for (int k = k0; k < k1; k++)
        {
            int slot = slot0 + k;
            var att = _att.AsSpan(slot * n * h, n * h);
            var hpk = hp.AsSpan(k * h, h);
            for (int j = 0; j < n; j++) TensorPrimitives.Add(_encProj.AsSpan((k * n + j) * h, h), hpk, att.Slice(j * h, h));
            TensorPrimitives.Tanh(att, att);
            for (int j = 0; j < n; j++) e[j] = TensorPrimitives.Dot(att.Slice(j * h, h), w2);
            // Softmax over the regions, max-subtracted as PyTorch's.
            var alpha = _alpha.AsSpan(slot * n, n);
            TensorPrimitives.Subtract(e, TensorPrimitives.Max(e), alpha);
            TensorPrimitives.Exp(alpha, alpha);
            TensorPrimitives.Divide(alpha, TensorPrimitives.Sum(alpha), alpha);
            var x = _x.AsSpan(slot * inSize, inSize);
            emb.Slice(_tokens[slot] * _w, _w).CopyTo(x);
            var ctx = x.Slice(_w, h);
            ctx.Clear();
            for (int j = 0; j < n; j++) TensorPrimitives.MultiplyAdd(_encOut.AsSpan(_encOutOffset + (k * n + j) * h, h), alpha[j], ctx, ctx);
        }
    }

    private void Backward(Tensor encoderOutputs, Tensor encoderHidden, ReadOnlySpan<float> output, ReadOnlySpan<float> dOutput)
    {
        int h = _h, n = _n, inSize = _in, slots = _layout.Count;
        var rnn = _d.Rnn;
        var att1 = _d.Attention.Linear1;
        var w1 = att1.Weight.Data;
        var encOut = encoderOutputs.Data;
        using var carryBuf = new PooledBuffer(Math.Max(1, _b * h));
        using var dhBuf = new PooledBuffer(Math.Max(1, _b * h));
        using var dxBuf = new PooledBuffer(Math.Max(1, _b * inSize));
        using var dHpBuf = new PooledBuffer(Math.Max(1, slots * h));
        using var dEncProjBuf = new PooledBuffer(Math.Max(1, _b * n * h));
        using var dEncOutBuf = new PooledBuffer(Math.Max(1, _b * n * h));
        int chunksMax = Math.Max(1, Parallelism.Threads);
        using var dw2Buf = new PooledBuffer(chunksMax * h);
        var carry = carryBuf.Span;
        carry.Clear();
        dEncProjBuf.Span.Clear();
        dEncOutBuf.Span.Clear();
        dw2Buf.Span.Clear();
        var dEmb = _d.Embedding.Weight.RequiresGrad ? ZeroedGrad(_d.Embedding.Weight) : Span<float>.Empty;
        var dxArray = dxBuf.Array;
        var dHpArray = dHpBuf.Array;
        var dEncProjArray = dEncProjBuf.Array;
        var dEncOutArray = dEncOutBuf.Array;
        var dw2Array = dw2Buf.Array;

        for (int s = _layout.StepCount - 1; s >= 0; s--)
        {
            int a = _layout.Active[s], slot0 = _layout.SlotStart[s];
            var dhNew = dhBuf.Span.Slice(0, a * h);
            TensorPrimitives.Add(dOutput.Slice(slot0 * h, a * h), carry.Slice(0, a * h), dhNew);
            var dx = dxBuf.Span.Slice(0, a * inSize);
            GruCell.StepBackward(a, inSize, h, dhNew, _hPrev.AsSpan(slot0 * h, a * h), rnn.WeightIh.Data, rnn.WeightHh.Data,
                _gates.AsSpan(slot0 * 3 * h, a * 3 * h), _ghn.AsSpan(slot0 * h, a * h), dx, carry.Slice(0, a * h));
            if (_mask is not null) TensorPrimitives.Multiply(dx, _mask.AsSpan(slot0 * inSize, a * inSize), dx);
            if (!dEmb.IsEmpty)
                for (int k = 0; k < a; k++)
                {
                    var row = dEmb.Slice(_tokens[slot0 + k] * _w, _w);
                    TensorPrimitives.Add(row, dx.Slice(k * inSize, _w), row);
                }
            Parallelism.ForChunks(a, RowsPerChunk, (chunk, k0, k1) =>
                AttendRowsBackward(slot0, k0, k1, dxArray, dHpArray, dEncProjArray, dEncOutArray, dw2Array.AsSpan(chunk * h, h)));
            // The state half of linear1: d h_prev += dhp W_h.
            Gemm.Multiply(false, false, a, h, h, 1f, dHpBuf.Span.Slice(slot0 * h, a * h), h, w1.Slice(h), 2 * h, 1f, carry.Slice(0, a * h), h);
        }
        if (encoderHidden.RequiresGrad) encoderHidden.AccumulateGrad(carry);

        // Weight gradients over all slots at once.
        GruCell.AccumulateWeightGradients(slots, inSize, h, _x.AsSpan(0, slots * inSize), _hPrev.AsSpan(0, slots * h),
            _gates.AsSpan(0, slots * 3 * h), _ghn.AsSpan(0, slots * h),
            ZeroedGrad(rnn.WeightIh), ZeroedGrad(rnn.WeightHh), ZeroedGrad(rnn.BiasIh), ZeroedGrad(rnn.BiasHh));
        var dEncProj = dEncProjBuf.Span;
        if (att1.Weight.RequiresGrad)
        {
            var dW1 = ZeroedGrad(att1.Weight);
            Gemm.Multiply(true, false, h, h, slots, 1f, dHpBuf.Span, h, _hPrev.AsSpan(0, slots * h), h, 1f, dW1.Slice(h), 2 * h);
            Gemm.Multiply(true, false, h, h, _b * n, 1f, dEncProj, h, encOut, h, 1f, dW1, 2 * h);
        }
        if (att1.Bias!.RequiresGrad)
        {
            var db1 = ZeroedGrad(att1.Bias);
            for (int r = 0; r < _b * n; r++) TensorPrimitives.Add(db1, dEncProj.Slice(r * h, h), db1);
        }
        var w2 = _d.Attention.Linear2.Weight;
        if (w2.RequiresGrad)
        {
            var dw2 = ZeroedGrad(w2);
            for (int c = 0; c < chunksMax; c++) TensorPrimitives.Add(dw2, dw2Buf.Span.Slice(c * h, h), dw2);
        }
        if (encoderOutputs.RequiresGrad)
        {
            var dEncOut = dEncOutBuf.Span;
            Gemm.Multiply(false, false, _b * n, h, h, 1f, dEncProj, h, w1, 2 * h, 1f, dEncOut, h);
            encoderOutputs.AccumulateGrad(dEncOut);
        }
    }

    /// <summary>
    /// Attention backward of rows [k0, k1) at the step starting at <paramref name="slot0"/>, from the context part
    /// of dx: dα_j = dctx · e_j, d e_j += α_j dctx, d score = α ⊙ (dα − α·dα), d(linear2 weight) += Σ_j dscore_j t_j,
    /// d pre_j = dscore_j w2 ⊙ (1 − t_j²) into the encoder projection's gradient and, summed over j, into dhp.
    /// </summary>
    private void AttendRowsBackward(int slot0, int k0, int k1, float[] dx, float[] dHp, float[] dEncProj, float[] dEncOut, Span<float> dw2)
    {
        int h = _h, n = _n, inSize = _in;
        var w2 = _d.Attention.Linear2.Weight.Data;
        Span<float> dAlpha = n <= 256 ? stackalloc float[n] : new float[n];
        using var tmpBuf = new PooledBuffer(h);
        var tmp = tmpBuf.Span;
        for (int k = k0; k < k1; k++)
        {
            int slot = slot0 + k;
            var dctx = dx.AsSpan(k * inSize + _w, h);
            var alpha = _alpha.AsSpan(slot * n, n);
            for (int j = 0; j < n; j++)
            {
                var e = _encOut.AsSpan(_encOutOffset + (k * n + j) * h, h);
                dAlpha[j] = TensorPrimitives.Dot(dctx, e);
                var de = dEncOut.AsSpan((k * n + j) * h, h);
                TensorPrimitives.MultiplyAdd(dctx, alpha[j], de, de);
            }
            float dot = TensorPrimitives.Dot(alpha, dAlpha);
            var att = _att.AsSpan(slot * n * h, n * h);
            var dhp = dHp.AsSpan(slot * h, h);
            dhp.Clear();
            for (int j = 0; j < n; j++)
            {
                float dScore = alpha[j] * (dAlpha[j] - dot);
                var t = att.Slice(j * h, h);
                TensorPrimitives.MultiplyAdd(t, dScore, dw2, dw2);
                // d pre = dScore · w2 ⊙ (1 − t²), written over t.
                TensorPrimitives.Multiply(t, t, tmp);
                TensorPrimitives.Subtract(1f, tmp, tmp);
                TensorPrimitives.Multiply(tmp, w2, tmp);
                TensorPrimitives.Multiply(tmp, dScore, t);
                var dp = dEncProj.AsSpan((k * n + j) * h, h);
                TensorPrimitives.Add(dp, t, dp);
                TensorPrimitives.Add(dhp, t, dhp);
            }
        }
    }

    /// <summary>The parameter's gradient buffer, zeroed when fresh, for adding into; empty when it needs none.</summary>
    private static Span<float> ZeroedGrad(Tensor p)
    {
        if (!p.RequiresGrad) return Span<float>.Empty;
        var g = p.GradBuffer(out bool acc);
        if (!acc) g.Clear();
        return g;
    }
}
