using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX MatMul with numpy semantics: 1-D operands are promoted (and the added axis removed again), leading batch
/// axes broadcast, one engine GEMM per batch element.
/// </summary>
internal sealed class MatMulOperator(NodeAttributes a) : CnnOperator(a)
{
    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        constants[0] is null && inputRanks[0] >= 2 && constants[1] is { Rank: 2 } ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "A");
        var z = Input(inputs, 1, "B");
        var sa = x.Rank == 1 ? new[] { 1, x.Shape[0] } : x.Shape;
        var sb = z.Rank == 1 ? new[] { z.Shape[0], 1 } : z.Shape;
        if (sa.Length == 0 || sb.Length == 0) throw ShapeError("scalar operands");
        int m = sa[^2], k = sa[^1], kb = sb[^2], n = sb[^1];
        if (k != kb) throw ShapeError($"A {Tensor.FormatShape(x.Shape)} and B {Tensor.FormatShape(z.Shape)} have inner sizes {k} and {kb}");
        int batchRank = Math.Max(sa.Length, sb.Length) - 2;
        var batch = new int[batchRank];
        for (int d = 0; d < batchRank; d++)
        {
            int da = D(sa, d, batchRank), db = D(sb, d, batchRank);
            if (da != db && da != 1 && db != 1) throw ShapeError($"batch axes of {Tensor.FormatShape(x.Shape)} and {Tensor.FormatShape(z.Shape)} do not broadcast");
            batch[d] = Math.Max(da, db);
        }
        var outShape = new List<int>(batch);
        if (x.Rank != 1) outShape.Add(m);
        if (z.Rank != 1) outShape.Add(n);
        var y = CnnValue.Rent(outShape.ToArray());
        int count = CnnValue.ShapeSize(batch);
        var index = new int[batchRank];
        ReadOnlySpan<float> av = x.Span, bv = z.Span;
        var dst = y.Span;
        for (int i = 0; i < count; i++)
        {
            int rem = i, offA = 0, offB = 0, strideA = m * k, strideB = k * n;
            for (int d = batchRank - 1; d >= 0; d--)
            {
                index[d] = rem % batch[d];
                rem /= batch[d];
                int da = D(sa, d, batchRank), db = D(sb, d, batchRank);
                if (da != 1) offA += index[d] * strideA;
                if (db != 1) offB += index[d] * strideB;
                strideA *= da;
                strideB *= db;
            }
            Gemm.Multiply(false, false, m, n, k, 1f, av.Slice(offA, m * k), k, bv.Slice(offB, k * n), n, 0f, dst.Slice(i * m * n, m * n), n);
        }
        return new CnnValue?[] { y };
    }

    private static int D(int[] shape, int d, int batchRank)
    {
        int lead = shape.Length - 2;
        int pos = d - (batchRank - lead);
        return pos < 0 ? 1 : shape[pos];
    }
}
