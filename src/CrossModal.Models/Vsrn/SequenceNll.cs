using System.Numerics.Tensors;
using CrossModal.Tensors;
using Tensor = CrossModal.Tensors.Tensor;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Threading;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// VSRN's LanguageModelCriterion on the positions it counts: scale · Σ_r −log_softmax(logits_r)[target_r], with
/// scale = 1 / batch size (the original divides the masked sum by the batch size, not by the number of tokens).
/// Log-softmax and NLL fused: the backward is scale · (softmax − one-hot) per row, so the [rows, V] log-probabilities
/// are never stored (one log-sum-exp per row is).
/// </summary>
internal static class SequenceNll
{
    private const int RowsPerChunk = 16;

    /// <summary>The loss (rank 0) of logits [rows, V] against one target id per row.</summary>
    public static Tensor Compute(Tensor logits, int[] targets, float scale)
    {
        if (logits.Rank != 2 || logits.Dim(0) != targets.Length)
            throw new ArgumentException($"Sequence NLL: logits {Tensor.FormatShape(logits.ShapeSpan)} for {targets.Length} targets.");
        int rows = targets.Length, v = logits.Dim(1);
        foreach (int t in targets)
            if ((uint)t >= (uint)v) throw new ArgumentException($"Sequence NLL: target id {t} outside the vocabulary of {v}.");
        var lse = new float[rows];
        float[] xa = logits.Buffer;
        int xo = logits.Offset;
        int chunks = Math.Max(1, Parallelism.ChunkCount(rows, RowsPerChunk));
        var partial = new double[chunks];
        Parallelism.ForChunks(rows, RowsPerChunk, (c, r0, r1) =>
        {
            double sum = 0;
            using var tmp = new PooledBuffer(v);
            var e = tmp.Span;
            for (int r = r0; r < r1; r++)
            {
                var row = xa.AsSpan(xo + r * v, v);
                float m = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, m, e);
                TensorPrimitives.Exp(e, e);
                lse[r] = m + MathF.Log(TensorPrimitives.Sum(e));
                sum += lse[r] - row[targets[r]];
            }
            partial[c] = sum;
        });
        double total = 0;
        foreach (double p in partial) total += p;
        var y = Tensor.Scalar((float)(total * scale));
        if (Tape.Needs(logits))
        {
            Tape.Record(y, g =>
            {
                float g0 = g.Data[0] * scale;
                logits.GradBuffer(out bool acc);
                float[] ga = logits.Grad!.Buffer;
                int go = logits.Grad.Offset;
                Parallelism.For(rows, RowsPerChunk, (r0, r1) =>
                {
                    using var tmp = new PooledBuffer(v);
                    var t = tmp.Span;
                    for (int r = r0; r < r1; r++)
                    {
                        // d/dx_i = g0 (softmax_i − [i = target]).
                        TensorPrimitives.Subtract(xa.AsSpan(xo + r * v, v), lse[r], t);
                        TensorPrimitives.Exp(t, t);
                        t[targets[r]] -= 1f;
                        var dst = ga.AsSpan(go + r * v, v);
                        if (acc) TensorPrimitives.MultiplyAdd(t, g0, dst, dst);
                        else TensorPrimitives.Multiply(t, g0, dst);
                    }
                });
            });
        }
        return y;
    }
}
