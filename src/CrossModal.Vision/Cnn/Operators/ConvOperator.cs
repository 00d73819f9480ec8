using System.Numerics.Tensors;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;
using Tensor = CrossModal.Tensors.Tensor;
using TensorPool = CrossModal.Tensors.TensorPool;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX Conv (1-D and 2-D; groups, pads, strides, dilations, auto_pad) as im2col + the engine's GEMM: for each
/// image and group, output[Mg, P] = W[Mg, Cg*kh*kw] x columns[Cg*kh*kw, P] where P is a range of output positions.
/// A 1x1 convolution with unit stride and no padding multiplies the input directly (no im2col copy). The work is
/// split into (image, output-column range) items over the cores; inside an item GEMM runs single-threaded, so
/// the time goes to Gemm.Multiply and the im2col copy is parallel too. Bias and an optional fused ReLU are applied
/// per row right after its GEMM while the row is still in cache.
/// </summary>
internal sealed class ConvOperator : CnnOperator
{
    private readonly string _autoPad;
    private readonly int[]? _dilations, _kernelShape, _pads, _strides;
    private readonly int _group;

    public ConvOperator(NodeAttributes a, Func<string, CnnValue?> constant) : base(a)
    {
        _autoPad = a.String("auto_pad", "NOTSET");
        if (_autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw a.Invalid($"auto_pad '{_autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        _dilations = a.Ints("dilations");
        _kernelShape = a.Ints("kernel_shape");
        _pads = a.Ints("pads");
        _strides = a.Ints("strides");
        _group = (int)a.Int("group", 1);
        if (_group < 1) throw a.Invalid($"group={_group}");
        if (a.Node.Inputs.Count < 2) throw a.Invalid("Conv needs X and W inputs");
        if (constant(a.Node.Inputs[1]) is { } w && (w.Rank < 3 || w.Rank > 4))
            throw a.Unsupported($"{w.Rank - 2}-D convolution (weights {Tensor.FormatShape(w.Shape)}); only 1-D and 2-D are supported");
    }

    public override bool CanFuseRelu => true;

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        RestConstant(inputRanks, constants) ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs) => new CnnValue?[] { Compute(inputs, relu: false, null, 0, 0) };

    public override CnnValue?[] RunWithRelu(CnnValue?[] inputs) => new CnnValue?[] { Compute(inputs, relu: true, null, 0, 0) };

    /// <summary>The number of output channels when the weights are a constant, else -1 (for in-place Concat planning).</summary>
    public static int OutputChannels(CnnValue? weights) => weights is { IsInt64: false, Rank: >= 3 } ? weights.Shape[0] : -1;

    /// <summary>
    /// Computes the convolution straight into channels [offset, offset + M) of a Concat's output of
    /// <paramref name="totalChannels"/> channels (created here when <paramref name="target"/> is null), so the
    /// Concat copies nothing. Returns the target.
    /// </summary>
    public CnnValue RunInto(CnnValue?[] inputs, bool relu, CnnValue? target, int offset, int totalChannels) =>
        Compute(inputs, relu, target, offset, totalChannels);

    private CnnValue Compute(CnnValue?[] inputs, bool relu, CnnValue? target, int channelOffset, int totalChannels)
    {
        var x = Input(inputs, 0, "X");
        var w = Input(inputs, 1, "W");
        var b = inputs.Length > 2 ? inputs[2] : null;
        if (x.Rank != w.Rank) throw ShapeError($"input {Tensor.FormatShape(x.Shape)} and weights {Tensor.FormatShape(w.Shape)} differ in rank");
        if (x.Rank != 3 && x.Rank != 4) throw Attributes.Unsupported($"{x.Rank - 2}-D convolution; only 1-D and 2-D are supported");
        bool oneD = x.Rank == 3;
        int n = x.Shape[0], c = x.Shape[1], h = oneD ? 1 : x.Shape[2], wIn = x.Shape[^1];
        int m = w.Shape[0], cg = w.Shape[1], kh = oneD ? 1 : w.Shape[2], kw = w.Shape[^1];
        int g = _group;
        if (c != cg * g) throw ShapeError($"input has {c} channels, weights {Tensor.FormatShape(w.Shape)} with group={g} expect {cg * g}");
        if (m % g != 0) throw ShapeError($"{m} output channels are not divisible by group={g}");
        if (_kernelShape is not null && !_kernelShape.SequenceEqual(w.Shape[2..])) throw ShapeError($"kernel_shape [{string.Join(", ", _kernelShape)}] disagrees with weights {Tensor.FormatShape(w.Shape)}");
        if (b is not null && (b.IsInt64 || b.Length != m)) throw ShapeError($"bias {b} does not match {m} output channels");

        int spatial = oneD ? 1 : 2;
        var strides = Pick(_strides, spatial, 1, "strides");
        var dil = Pick(_dilations, spatial, 1, "dilations");
        int sh = oneD ? 1 : strides[0], sw = strides[^1], dh = oneD ? 1 : dil[0], dw = dil[^1];
        var (pt, pb, ho) = oneD ? (0, 0, 1) : OutputSize(h, kh, sh, dh, 0, spatial);
        var (pl, pr, wo) = OutputSize(wIn, kw, sw, dw, spatial - 1, spatial);
        if (ho <= 0 || wo <= 0) throw ShapeError($"input {Tensor.FormatShape(x.Shape)} is smaller than the kernel {kh}x{kw} (output {ho}x{wo})");

        int outChannels = target is null && totalChannels == 0 ? m : totalChannels;
        var shape = oneD ? new[] { n, outChannels, wo } : new[] { n, outChannels, ho, wo };
        if (target is not null && !target.Shape.AsSpan().SequenceEqual(shape))
            throw ShapeError($"output {Tensor.FormatShape(shape)} does not fit the concatenation {target} it is written into");
        if (channelOffset + m > outChannels) throw ShapeError($"channels {channelOffset}..{channelOffset + m} exceed the concatenation's {outChannels}");
        var y = target ?? CnnValue.Rent(shape);
        int mg = m / g, kg = cg * kh * kw, hw = ho * wo, inPlane = h * wIn;
        bool direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && pb == 0 && pr == 0;

        // Work items: whole images when there are enough of them, else column ranges of the output plane.
        int threads = Parallelism.InsideRegion ? 1 : Parallelism.Threads;
        int chunks = n >= threads ? 1 : Math.Max(1, Math.Min((threads + n - 1) / n, hw / 64));
        int items = n * chunks;
        float[] xb = x.Buffer, wb = w.Buffer, yb = y.Buffer;
        int xo = x.Offset, wOff = w.Offset;
        float[]? bb = b?.Buffer;
        int bo = b?.Offset ?? 0;
        var geo = new Im2Col.Geometry(h, wIn, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo);

        Parallelism.For(items, 1, (start, end) =>
        {
            float[]? cols = direct ? null : TensorPool.Rent(Math.Max(1, kg * ((hw + chunks - 1) / chunks + 1)));
            try
            {
                for (int item = start; item < end; item++)
                {
                    int img = item / chunks, part = item % chunks;
                    int p0 = (int)((long)hw * part / chunks), p1 = (int)((long)hw * (part + 1) / chunks);
                    int width = p1 - p0;
                    if (width == 0) continue;
                    for (int gi = 0; gi < g; gi++)
                    {
                        int inBase = xo + (img * c + gi * cg) * inPlane;
                        int outBase = (img * outChannels + channelOffset + gi * mg) * hw + p0;
                        ReadOnlySpan<float> bMat;
                        int ldb;
                        if (direct)
                        {
                            bMat = xb.AsSpan(inBase + p0);
                            ldb = inPlane;
                        }
                        else
                        {
                            Im2Col.Fill(xb.AsSpan(inBase, cg * inPlane), cg, geo, p0, p1, cols.AsSpan(0, kg * width));
                            bMat = cols.AsSpan(0, kg * width);
                            ldb = width;
                        }
                        var profile = CnnProfile.Current;
                        long t0 = profile is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                        Gemm.Multiply(false, false, mg, width, kg, 1f, wb.AsSpan(wOff + gi * mg * kg, mg * kg), kg,
                            bMat, ldb, 0f, yb.AsSpan(outBase), hw);
                        profile?.AddGemm(System.Diagnostics.Stopwatch.GetTimestamp() - t0);
                        for (int r = 0; r < mg; r++)
                        {
                            var row = yb.AsSpan(outBase + r * hw, width);
                            if (bb is not null) TensorPrimitives.Add(row, bb[bo + gi * mg + r], row);
                            if (relu) TensorPrimitives.Max(row, 0f, row);
                        }
                    }
                }
            }
            finally
            {
                if (cols is not null) TensorPool.Return(cols);
            }
        });
        return y;
    }

    private int[] Pick(int[]? values, int spatial, int fallback, string name)
    {
        if (values is null) return Enumerable.Repeat(fallback, spatial).ToArray();
        if (values.Length != spatial) throw ShapeError($"{name} has {values.Length} values for {spatial} spatial axes");
        if (values.Any(v => v < 1)) throw ShapeError($"{name} must be positive");
        return values;
    }

    /// <summary>Begin/end padding and output length along spatial axis <paramref name="axis"/>.</summary>
    private (int Begin, int End, int Out) OutputSize(int input, int kernel, int stride, int dilation, int axis, int spatial)
    {
        int effective = (kernel - 1) * dilation + 1;
        switch (_autoPad)
        {
            case "VALID":
                return (0, 0, (input - effective) / stride + 1);
            case "SAME_UPPER":
            case "SAME_LOWER":
                {
                    int outSize = (input + stride - 1) / stride;
                    int total = Math.Max(0, (outSize - 1) * stride + effective - input);
                    int small = total / 2, large = total - small;
                    return _autoPad == "SAME_UPPER" ? (small, large, outSize) : (large, small, outSize);
                }
            default:
                {
                    int begin = 0, end = 0;
                    if (_pads is not null)
                    {
                        if (_pads.Length != 2 * spatial) throw ShapeError($"pads has {_pads.Length} values for {spatial} spatial axes");
                        begin = _pads[axis];
                        end = _pads[axis + spatial];
                        if (begin < 0 || end < 0) throw Attributes.Unsupported("negative pads");
                    }
                    int span = input + begin + end - effective;
                    return (begin, end, span < 0 ? 0 : span / stride + 1);
                }
        }
    }
}
