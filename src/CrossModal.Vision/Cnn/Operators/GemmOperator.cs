using System.Numerics.Tensors;
using CrossModal.Tensors;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX Gemm: Y = alpha * op(A) * op(B) + beta * C with op = optional transpose and C unidirectionally broadcast to
/// [M, N] (optional from opset 11). Y is first filled with beta * C, then one engine GEMM accumulates into it.
/// </summary>
internal sealed class GemmOperator : CnnOperator
{
    private readonly float _alpha, _beta;
    private readonly bool _transA, _transB;

    public GemmOperator(NodeAttributes a) : base(a)
    {
        _alpha = a.Float("alpha", 1f);
        _beta = a.Float("beta", 1f);
        _transA = a.Int("transA", 0) != 0;
        _transB = a.Int("transB", 0) != 0;
    }

    public override bool CanFuseRelu => true;

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        // Rows of A are the images: B and C must be constants and C must not vary by row.
        if (_transA || constants[0] is not null || constants[1] is null || inputRanks[0] != 2) return null;
        if (inputRanks.Length > 2 && inputRanks[2] >= 0 && (constants[2] is not { } c || (c.Rank == 2 && c.Shape[0] != 1))) return null;
        return new[] { 2 };
    }

    public override CnnValue?[] Run(CnnValue?[] inputs) => new CnnValue?[] { Compute(inputs, relu: false) };

    public override CnnValue?[] RunWithRelu(CnnValue?[] inputs) => new CnnValue?[] { Compute(inputs, relu: true) };

    private CnnValue Compute(CnnValue?[] inputs, bool relu)
    {
        var a = Input(inputs, 0, "A");
        var b = Input(inputs, 1, "B");
        var c = inputs.Length > 2 ? inputs[2] : null;
        if (a.Rank != 2 || b.Rank != 2) throw ShapeError($"A {a} and B {b} must be 2-D");
        int m = _transA ? a.Shape[1] : a.Shape[0], k = _transA ? a.Shape[0] : a.Shape[1];
        int kb = _transB ? b.Shape[1] : b.Shape[0], n = _transB ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw ShapeError($"A {a} (transA={_transA}) and B {b} (transB={_transB}) have inner sizes {k} and {kb}");
        var y = CnnValue.Rent(new[] { m, n });
        var dst = y.Span;
        float beta = 0f;
        if (c is not null && _beta != 0f)
        {
            if (c.IsInt64) throw ShapeError("C is int64");
            var cs = c.Span;
            int cr = c.Rank >= 2 ? c.Shape[^2] : 1, cc = c.Rank >= 1 ? c.Shape[^1] : 1;
            if ((cr != 1 && cr != m) || (cc != 1 && cc != n) || c.Rank > 2) throw ShapeError($"C {c} does not broadcast to [{m}, {n}]");
            for (int i = 0; i < m; i++)
            {
                var row = dst.Slice(i * n, n);
                var src = cs.Slice((cr == 1 ? 0 : i) * cc, cc);
                if (cc == 1) row.Fill(src[0] * _beta);
                else TensorPrimitives.Multiply(src, _beta, row);
            }
            beta = 1f;
        }
        Gemm.Multiply(_transA, _transB, m, n, k, _alpha, a.Span, a.Shape[1], b.Span, b.Shape[1], beta, dst, n);
        if (relu) TensorPrimitives.Max(dst, 0f, dst);
        return y;
    }
}
