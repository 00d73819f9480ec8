using System.Numerics.Tensors;
using CrossModal.Tensors;
using Tensor = CrossModal.Tensors.Tensor;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// Greedy captioning with the decoder (DecoderRNN.forward, mode 'inference' with sample_max): step 0 is fed
/// &lt;start&gt;, every later step the arg-max word of the step before; the attention reads the previous state as in
/// training. Dropout is off here (the original leaves its captioning dropouts active even in 'inference'; a check of
/// what the branch learned should not be random). No gradients; plain buffers.
/// </summary>
internal static class GreedyDecoder
{
    private const int Start = 1;

    /// <summary>
    /// The arg-max word of steps 0 .. steps - 1 for each row: encoderOutputs [B, N, H], encoderHidden [B, H];
    /// returns [B][steps] ids (the original's seq_preds[1:] for steps = max_len - 2).
    /// </summary>
    public static int[][] Decode(CaptionDecoder d, ReadOnlySpan<float> encoderOutputs, ReadOnlySpan<float> encoderHidden, int b, int n, int steps)
    {
        int h = d.HiddenSize, w = d.WordSize, v = d.VocabSize, inSize = w + h;
        var w1 = d.Attention.Linear1.Weight.Data;
        var b1 = d.Attention.Linear1.Bias!.Data;
        var w2 = d.Attention.Linear2.Weight.Data;
        var emb = d.Embedding.Weight.Data;
        var rnn = d.Rnn;
        var encProj = new float[b * n * h];
        for (int r = 0; r < b * n; r++) b1.CopyTo(encProj.AsSpan(r * h, h));
        Gemm.Multiply(false, true, b * n, h, h, 1f, encoderOutputs, h, w1, 2 * h, 1f, encProj, h);
        var state = encoderHidden.Slice(0, b * h).ToArray();
        var next = new float[b * h];
        var hp = new float[b * h];
        var x = new float[b * inSize];
        var gates = new float[b * 3 * h];
        var ghn = new float[b * h];
        var logits = new float[b * v];
        var att = new float[n * h];
        var e = new float[n];
        var tokens = new int[b];
        Array.Fill(tokens, Start);
        var result = new int[b][];
        for (int r = 0; r < b; r++) result[r] = new int[steps];
        for (int s = 0; s < steps; s++)
        {
            Gemm.Multiply(false, true, b, h, h, 1f, state, h, w1.Slice(h), 2 * h, 0f, hp, h);
            for (int k = 0; k < b; k++)
            {
                for (int j = 0; j < n; j++) TensorPrimitives.Add(encProj.AsSpan((k * n + j) * h, h), hp.AsSpan(k * h, h), att.AsSpan(j * h, h));
                TensorPrimitives.Tanh(att, att);
                for (int j = 0; j < n; j++) e[j] = TensorPrimitives.Dot(att.AsSpan(j * h, h), w2);
                TensorPrimitives.Subtract(e, TensorPrimitives.Max(e), e);
                TensorPrimitives.Exp(e, e);
                TensorPrimitives.Divide(e, TensorPrimitives.Sum(e), e);
                var xk = x.AsSpan(k * inSize, inSize);
                emb.Slice(tokens[k] * w, w).CopyTo(xk);
                var ctx = xk.Slice(w, h);
                ctx.Clear();
                for (int j = 0; j < n; j++) TensorPrimitives.MultiplyAdd(encoderOutputs.Slice((k * n + j) * h, h), e[j], ctx, ctx);
            }
            GruCell.StepForward(b, inSize, h, x, state, rnn.WeightIh.Data, rnn.WeightHh.Data, rnn.BiasIh.Data, rnn.BiasHh.Data, gates, ghn, next);
            (state, next) = (next, state);
            // log_softmax is monotone: the arg-max of the logits is the arg-max of the log-probabilities.
            var bo = d.Out.Bias!.Data;
            for (int k = 0; k < b; k++) bo.CopyTo(logits.AsSpan(k * v, v));
            Gemm.Multiply(false, true, b, v, h, 1f, state, h, d.Out.Weight.Data, h, 1f, logits, v);
            for (int k = 0; k < b; k++)
            {
                tokens[k] = TensorPrimitives.IndexOfMax(logits.AsSpan(k * v, v));
                result[k][s] = tokens[k];
            }
        }
        return result;
    }
}
