using System.Numerics.Tensors;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// Element-wise Add, Sub, Mul, Div with ONNX multidirectional (numpy) broadcasting (opset 7 on). The output is
/// walked as rows of its last axis; within a row each operand is either contiguous or a broadcast scalar, so the
/// inner loop is one TensorPrimitives call. Opset 1-6 'broadcast'/'axis' attributes are refused.
/// </summary>
internal sealed class BinaryOperator(NodeAttributes a) : CnnOperator(a)
{
    private readonly string _op = a.Node.OpType;

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants)
    {
        int ra = inputRanks[0], rb = inputRanks[1];
        if (constants[0] is null && constants[1] is null) return ra == rb ? new[] { ra } : null;
        // A constant broadcasts over the batch when it has fewer axes or a leading 1.
        var (c, rankActivation) = constants[0] is { } ca ? (ca, rb) : (constants[1]!, ra);
        if (constants[0] is not null && constants[1] is not null) return null;
        return c.Rank < rankActivation || (c.Rank == rankActivation && c.Shape[0] == 1) ? new[] { rankActivation } : null;
    }

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "A");
        var z = Input(inputs, 1, "B");
        int rank = Math.Max(x.Rank, z.Rank);
        var shape = new int[rank];
        var sa = Strides(x.Shape, rank);
        var sb = Strides(z.Shape, rank);
        for (int d = 0; d < rank; d++)
        {
            int da = Dim(x.Shape, d, rank), db = Dim(z.Shape, d, rank);
            if (da != db && da != 1 && db != 1) throw ShapeError($"shapes {Tensor.FormatShape(x.Shape)} and {Tensor.FormatShape(z.Shape)} do not broadcast");
            shape[d] = da == 1 ? db : da;
            if (da == 1 && db != 1) sa[d] = 0;
            if (db == 1 && da != 1) sb[d] = 0;
            if (da == 1 && db == 1) { sa[d] = 0; sb[d] = 0; }
        }
        var y = CnnValue.Rent(shape);
        var dst = y.Span;
        ReadOnlySpan<float> av = x.Span, bv = z.Span;
        if (x.Length == y.Length && z.Length == y.Length)
        {
            Apply(av, bv, dst);
            return new CnnValue?[] { y };
        }
        int last = rank == 0 ? 1 : shape[rank - 1];
        int rows = y.Length / Math.Max(1, last);
        int la = rank == 0 ? 0 : sa[rank - 1], lb = rank == 0 ? 0 : sb[rank - 1];
        var index = new int[Math.Max(0, rank - 1)];
        int offA = 0, offB = 0;
        for (int r = 0; r < rows; r++)
        {
            var o = dst.Slice(r * last, last);
            if (la != 0 && lb != 0) Apply(av.Slice(offA, last), bv.Slice(offB, last), o);
            else if (la != 0) ApplyScalarRight(av.Slice(offA, last), bv[offB], o);
            else if (lb != 0) ApplyScalarLeft(av[offA], bv.Slice(offB, last), o);
            else o.Fill(Scalar(av[offA], bv[offB]));
            // Odometer over the leading axes.
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                offA += sa[d];
                offB += sb[d];
                if (index[d] < shape[d]) break;
                offA -= sa[d] * shape[d];
                offB -= sb[d] * shape[d];
                index[d] = 0;
            }
        }
        return new CnnValue?[] { y };
    }

    private static int Dim(int[] shape, int d, int rank) => d < rank - shape.Length ? 1 : shape[d - (rank - shape.Length)];

    private static int[] Strides(int[] shape, int rank)
    {
        var s = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            s[d] = stride;
            stride *= Dim(shape, d, rank);
        }
        return s;
    }

    private float Scalar(float a, float b) => _op switch { "Add" => a + b, "Sub" => a - b, "Mul" => a * b, _ => a / b };

    private void Apply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (_op)
        {
            case "Add": TensorPrimitives.Add(a, b, y); break;
            case "Sub": TensorPrimitives.Subtract(a, b, y); break;
            case "Mul": TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private void ApplyScalarRight(ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (_op)
        {
            case "Add": TensorPrimitives.Add(a, b, y); break;
            case "Sub": TensorPrimitives.Subtract(a, b, y); break;
            case "Mul": TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private void ApplyScalarLeft(float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (_op)
        {
            case "Add": TensorPrimitives.Add(b, a, y); break;
            case "Sub": TensorPrimitives.Subtract(a, b, y); break;
            case "Mul": TensorPrimitives.Multiply(b, a, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }
}
