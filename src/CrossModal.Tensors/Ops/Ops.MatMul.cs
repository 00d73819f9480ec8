using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Matrix product op(a) x op(b) of 2-D tensors, where op transposes when asked (read in place, never copied).
    /// Backward: dA = dC op(B)^T, dB = op(A)^T dC, each one GEMM with the transposes folded in.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        Require(a.Rank == 2 && b.Rank == 2, $"MatMul: needs 2-D tensors, got {Tensor.FormatShape(a.ShapeSpan)} and {Tensor.FormatShape(b.ShapeSpan)}.");
        int m = transA ? a.Dim(1) : a.Dim(0), k = transA ? a.Dim(0) : a.Dim(1);
        int kb = transB ? b.Dim(1) : b.Dim(0), n = transB ? b.Dim(0) : b.Dim(1);
        Require(k == kb, $"MatMul: inner sizes differ: {Tensor.FormatShape(a.ShapeSpan)}{(transA ? "^T" : "")} x {Tensor.FormatShape(b.ShapeSpan)}{(transB ? "^T" : "")}.");
        var c = Tensor.Empty(m, n);
        Gemm.Multiply(transA, transB, m, n, k, 1f, a.Data, a.Dim(1), b.Data, b.Dim(1), 0f, c.Data, n);
        if (Tape.Needs(a, b))
        {
            Tape.Record(c, g =>
            {
                if (a.RequiresGrad)
                {
                    var ga = a.GradBuffer(out bool acc);
                    // a = op^-1: if transA, dA (k x m) = op(B) dC^T; else dA (m x k) = dC op(B)^T.
                    if (transA) Gemm.Multiply(transB, true, k, m, n, 1f, b.Data, b.Dim(1), g.Data, n, acc ? 1f : 0f, ga, m);
                    else Gemm.Multiply(false, !transB, m, k, n, 1f, g.Data, n, b.Data, b.Dim(1), acc ? 1f : 0f, ga, k);
                }
                if (b.RequiresGrad)
                {
                    var gb = b.GradBuffer(out bool acc);
                    // if transB, dB (n x k) = dC^T op(A); else dB (k x n) = op(A)^T dC.
                    if (transB) Gemm.Multiply(true, transA, n, k, m, 1f, g.Data, n, a.Data, a.Dim(1), acc ? 1f : 0f, gb, k);
                    else Gemm.Multiply(!transA, false, k, n, m, 1f, a.Data, a.Dim(1), g.Data, n, acc ? 1f : 0f, gb, n);
                }
            });
        }
        return c;
    }

    /// <summary>
    /// Batched matrix product of 3-D tensors [B, ., .] (the leading axis of one side may be 1 to broadcast it).
    /// </summary>
    public static Tensor BatchedMatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        Require(a.Rank == 3 && b.Rank == 3, $"BatchedMatMul: needs 3-D tensors, got {Tensor.FormatShape(a.ShapeSpan)} and {Tensor.FormatShape(b.ShapeSpan)}.");
        int ba = a.Dim(0), bb = b.Dim(0);
        Require(ba == bb || ba == 1 || bb == 1, $"BatchedMatMul: batch sizes {ba} and {bb} do not broadcast.");
        int batch = Math.Max(ba, bb);
        int m = transA ? a.Dim(2) : a.Dim(1), k = transA ? a.Dim(1) : a.Dim(2);
        int kb = transB ? b.Dim(2) : b.Dim(1), n = transB ? b.Dim(1) : b.Dim(2);
        Require(k == kb, $"BatchedMatMul: inner sizes differ: {Tensor.FormatShape(a.ShapeSpan)} x {Tensor.FormatShape(b.ShapeSpan)} (transA={transA}, transB={transB}).");
        long sa = ba == 1 ? 0 : (long)a.Dim(1) * a.Dim(2), sb = bb == 1 ? 0 : (long)b.Dim(1) * b.Dim(2);
        int lda = a.Dim(2), ldb = b.Dim(2);
        var c = Tensor.Empty(batch, m, n);
        Gemm.MultiplyBatched(batch, transA, transB, m, n, k, 1f, a.Data, lda, sa, b.Data, ldb, sb, 0f, c.Data, n, (long)m * n);
        if (Tape.Needs(a, b))
        {
            Tape.Record(c, g =>
            {
                if (a.RequiresGrad)
                {
                    var ga = a.GradBuffer(out bool acc);
                    if (ba == 1 && batch > 1)
                    {
                        // Broadcast A: its gradient sums over the batch, one GEMM per item accumulated in order.
                        if (!acc) ga.Clear();
                        for (int i = 0; i < batch; i++)
                            GradA(ga, 0, true, g.Data.Slice(i * m * n), b.Data.Slice((int)(i * sb)));
                    }
                    else GradABatched(ga, acc, g.Data, b.Data);
                }
                if (b.RequiresGrad)
                {
                    var gb = b.GradBuffer(out bool acc);
                    if (bb == 1 && batch > 1)
                    {
                        if (!acc) gb.Clear();
                        for (int i = 0; i < batch; i++)
                            GradB(gb, true, g.Data.Slice(i * m * n), a.Data.Slice((int)(i * sa)));
                    }
                    else GradBBatched(gb, acc, g.Data, a.Data);
                }
            });
        }
        return c;

        void GradA(Span<float> ga, int _, bool acc, ReadOnlySpan<float> gc, ReadOnlySpan<float> bi)
        {
            if (transA) Gemm.Multiply(transB, true, k, m, n, 1f, bi, ldb, gc, n, acc ? 1f : 0f, ga, m);
            else Gemm.Multiply(false, !transB, m, k, n, 1f, gc, n, bi, ldb, acc ? 1f : 0f, ga, k);
        }
        void GradB(Span<float> gb, bool acc, ReadOnlySpan<float> gc, ReadOnlySpan<float> ai)
        {
            if (transB) Gemm.Multiply(true, transA, n, k, m, 1f, gc, n, ai, lda, acc ? 1f : 0f, gb, k);
            else Gemm.Multiply(!transA, false, k, n, m, 1f, ai, lda, gc, n, acc ? 1f : 0f, gb, n);
        }
        void GradABatched(Span<float> ga, bool acc, ReadOnlySpan<float> gc, ReadOnlySpan<float> bAll)
        {
            long sga = (long)m * k;
            if (transA) Gemm.MultiplyBatched(batch, transB, true, k, m, n, 1f, bAll, ldb, sb, gc, n, (long)m * n, acc ? 1f : 0f, ga, m, sga);
            else Gemm.MultiplyBatched(batch, false, !transB, m, k, n, 1f, gc, n, (long)m * n, bAll, ldb, sb, acc ? 1f : 0f, ga, k, sga);
        }
        void GradBBatched(Span<float> gb, bool acc, ReadOnlySpan<float> gc, ReadOnlySpan<float> aAll)
        {
            long sgb = (long)k * n;
            if (transB) Gemm.MultiplyBatched(batch, true, transA, n, k, m, 1f, gc, n, (long)m * n, aAll, lda, sa, acc ? 1f : 0f, gb, k, sgb);
            else Gemm.MultiplyBatched(batch, !transA, false, k, n, m, 1f, aAll, lda, sa, gc, n, (long)m * n, acc ? 1f : 0f, gb, n, sgb);
        }
    }

    /// <summary>
    /// x W^T + bias over the last axis of x (PyTorch's F.linear): x [..., in], W [out, in], bias [out] or null.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        int inF = weight.Dim(1), outF = weight.Dim(0);
        Require(x.Rank >= 1 && x.Dim(-1) == inF, $"Linear: input {Tensor.FormatShape(x.ShapeSpan)} does not end in {inF} features.");
        if (bias is not null) Require(bias.Rank == 1 && bias.Dim(0) == outF, $"Linear: bias {Tensor.FormatShape(bias.ShapeSpan)} is not [{outF}].");
        int rows = x.Length / Math.Max(1, inF);
        var shape = x.Shape;
        shape[^1] = outF;
        var y = Tensor.Empty(shape);
        var yd = y.Data;
        if (bias is not null)
        {
            var bd = bias.Data;
            for (int r = 0; r < rows; r++) bd.CopyTo(yd.Slice(r * outF, outF));
        }
        Gemm.Multiply(false, true, rows, outF, inF, 1f, x.Data, inF, weight.Data, inF, bias is null ? 0f : 1f, yd, outF);
        bool needs = bias is null ? Tape.Needs(x, weight) : Tape.Needs(new[] { x, weight, bias });
        if (needs)
        {
            Tape.Record(y, g =>
            {
                var gd = g.Data;
                if (x.RequiresGrad)
                {
                    var gx = x.GradBuffer(out bool acc);
                    Gemm.Multiply(false, false, rows, inF, outF, 1f, gd, outF, weight.Data, inF, acc ? 1f : 0f, gx, inF);
                }
                if (weight.RequiresGrad)
                {
                    var gw = weight.GradBuffer(out bool acc);
                    Gemm.Multiply(true, false, outF, inF, rows, 1f, gd, outF, x.Data, inF, acc ? 1f : 0f, gw, inF);
                }
                if (bias is not null && bias.RequiresGrad)
                {
                    var gb = bias.GradBuffer(out bool acc);
                    if (!acc) gb.Clear();
                    for (int r = 0; r < rows; r++) Elementwise.AddInPlace(gb, gd.Slice(r * outF, outF));
                }
            });
        }
        return y;
    }
}
