using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using CrossModal.Tensors.Threading;
using Tensor = CrossModal.Tensors.Tensor;

namespace CrossModal.Vision.Cnn.Operators;

/// <summary>
/// ONNX MaxPool and AveragePool over 1-D or 2-D maps: kernel_shape, strides, pads, dilations (MaxPool), auto_pad,
/// ceil_mode and count_include_pad, with PyTorch's rule that a ceil-mode window starting in the right padding is
/// dropped (the rule torch exports rely on). Max ignores padding; the average divides by the window clipped to
/// the padded input (count_include_pad=1) or to the input (0). Parallel over (image, channel) planes.
/// </summary>
internal sealed class PoolOperator : CnnOperator
{
    private readonly bool _max;
    private readonly string _autoPad;
    private readonly int[] _kernel;
    private readonly int[]? _strides, _pads, _dilations;
    private readonly bool _ceil, _countIncludePad;

    public PoolOperator(NodeAttributes a, bool max) : base(a)
    {
        _max = max;
        _autoPad = a.String("auto_pad", "NOTSET");
        if (_autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER")) throw a.Invalid($"auto_pad '{_autoPad}'");
        _kernel = a.Ints("kernel_shape") ?? throw a.Invalid("kernel_shape is required");
        if (_kernel.Length is < 1 or > 2) throw a.Unsupported($"{_kernel.Length}-D pooling; only 1-D and 2-D are supported");
        _strides = a.Ints("strides");
        _pads = a.Ints("pads");
        _dilations = a.Ints("dilations");
        _ceil = a.Int("ceil_mode", 0) != 0;
        _countIncludePad = a.Int("count_include_pad", 0) != 0;
        if (max && a.Node.Outputs.Count > 1 && a.Node.Outputs[1].Length > 0) throw a.Unsupported("the Indices output of MaxPool");
    }

    public override int[]? SeparableOutputRanks(int[] inputRanks, CnnValue?[] constants) =>
        RestConstant(inputRanks, constants) ? new[] { inputRanks[0] } : null;

    public override CnnValue?[] Run(CnnValue?[] inputs)
    {
        var x = Input(inputs, 0, "X");
        int spatial = _kernel.Length;
        if (x.Rank != spatial + 2) throw ShapeError($"input {Tensor.FormatShape(x.Shape)} does not have {spatial} spatial axes");
        int n = x.Shape[0], c = x.Shape[1], h = spatial == 2 ? x.Shape[2] : 1, w = x.Shape[^1];
        int kh = spatial == 2 ? _kernel[0] : 1, kw = _kernel[^1];
        int sh = spatial == 2 ? Get(_strides, 0, 1) : 1, sw = Get(_strides, spatial - 1, 1);
        int dh = spatial == 2 ? Get(_dilations, 0, 1) : 1, dw = Get(_dilations, spatial - 1, 1);
        var (pt, pb, ho) = spatial == 2 ? Output(h, kh, sh, dh, 0, spatial) : (0, 0, 1);
        var (pl, pr, wo) = Output(w, kw, sw, dw, spatial - 1, spatial);
        if (ho <= 0 || wo <= 0) throw ShapeError($"input {Tensor.FormatShape(x.Shape)} is smaller than the pooling window");
        var y = CnnValue.Rent(spatial == 2 ? new[] { n, c, ho, wo } : new[] { n, c, wo });
        float[] xb = x.Buffer, yb = y.Buffer;
        int xo = x.Offset;
        var geo = new PoolGeometry(h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ho, wo);
        bool max = _max, include = _countIncludePad;
        Parallelism.For(n * c, Math.Max(1, 4096 / Math.Max(1, ho * wo * kh * kw)), (s, e) =>
        {
            var rowBuffer = new float[w];
            var slideBuffer = new float[w];
            for (int plane = s; plane < e; plane++)
                PoolPlane(xb.AsSpan(xo + plane * h * w, h * w), yb.AsSpan(plane * ho * wo, ho * wo), geo, max, include, rowBuffer, slideBuffer);
        });
        return new CnnValue?[] { y };
    }

    private readonly record struct PoolGeometry(int H, int W, int Kh, int Kw, int Sh, int Sw, int Dh, int Dw,
        int PadTop, int PadLeft, int PadBottom, int PadRight, int Ho, int Wo);

    /// <summary>
    /// One plane, separably: for each output row the valid input rows of its windows are first reduced element-wise
    /// over the whole width (vectorised max or sum), then each output takes its kw taps from that reduced row.
    /// Padding never contributes to the max; the average divides by the window clipped to the padded input
    /// (count_include_pad) or to the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PoolPlane(ReadOnlySpan<float> src, Span<float> dst, in PoolGeometry g, bool max, bool includePad, float[] rowBuffer, float[] slideBuffer)
    {
        var row = rowBuffer.AsSpan(0, g.W);
        for (int oy = 0; oy < g.Ho; oy++)
        {
            int y0 = oy * g.Sh - g.PadTop;
            int rows = 0;
            for (int i = 0; i < g.Kh; i++)
            {
                int iy = y0 + i * g.Dh;
                if ((uint)iy >= (uint)g.H) continue;
                var input = src.Slice(iy * g.W, g.W);
                if (rows == 0) input.CopyTo(row);
                else if (max) TensorPrimitives.Max(row, input, row);
                else TensorPrimitives.Add(row, input, row);
                rows++;
            }
            var output = dst.Slice(oy * g.Wo, g.Wo);
            if (rows == 0)
            {
                output.Fill(max ? float.NegativeInfinity : 0f);
                continue;
            }
            // Rows of the window inside the (padded) input, for the average's divisor.
            int yEnd = Math.Min(y0 + g.Kh, g.H + g.PadBottom);
            int paddedRows = yEnd - y0, validRows = Math.Min(yEnd, g.H) - Math.Max(y0, 0);
            if (max)
            {
                // Sliding maximum over kw neighbours for every start column, vectorised (kw - 1 passes over the
                // row); interior outputs then just pick their start column.
                int starts = g.W - (g.Kw - 1) * g.Dw;
                var slide = slideBuffer.AsSpan(0, Math.Max(0, starts));
                if (starts > 0 && g.Dw == 1)
                {
                    if (g.Kw == 1) row.Slice(0, starts).CopyTo(slide);
                    else TensorPrimitives.Max(row.Slice(0, starts), row.Slice(1, starts), slide);
                    for (int j = 2; j < g.Kw; j++) TensorPrimitives.Max(slide, row.Slice(j, starts), slide);
                }
                for (int ox = 0; ox < g.Wo; ox++)
                {
                    int x0 = ox * g.Sw - g.PadLeft;
                    float acc;
                    if (x0 >= 0 && x0 < starts && g.Dw == 1) acc = slide[x0];
                    else if (x0 >= 0 && x0 < starts)
                    {
                        // Dilated interior window. MathF.Max is branch-free (a data-dependent branch here
                        // mispredicts half the time) and propagates NaN.
                        acc = row[x0];
                        for (int j = 1; j < g.Kw; j++) acc = MathF.Max(acc, row[x0 + j * g.Dw]);
                    }
                    else
                    {
                        acc = float.NegativeInfinity;
                        for (int j = 0; j < g.Kw; j++)
                        {
                            int ix = x0 + j * g.Dw;
                            if ((uint)ix < (uint)g.W) acc = MathF.Max(acc, row[ix]);
                        }
                    }
                    output[ox] = acc;
                }
            }
            else
            {
                for (int ox = 0; ox < g.Wo; ox++)
                {
                    int x0 = ox * g.Sw - g.PadLeft;
                    int xs = Math.Max(x0, 0), xe = Math.Min(x0 + g.Kw, g.W);
                    float acc = 0f;
                    for (int ix = xs; ix < xe; ix++) acc += row[ix];
                    int xEnd = Math.Min(x0 + g.Kw, g.W + g.PadRight);
                    int count = includePad ? paddedRows * (xEnd - x0) : validRows * Math.Max(0, xe - xs);
                    output[ox] = count > 0 ? acc / count : 0f;
                }
            }
        }
    }

    private static int Get(int[]? values, int index, int fallback) => values is null ? fallback : values[index];

    private (int Begin, int End, int Out) Output(int input, int kernel, int stride, int dilation, int axis, int spatial)
    {
        if (_strides is not null && _strides.Length != spatial) throw ShapeError($"strides has {_strides.Length} values for {spatial} spatial axes");
        if (_dilations is not null && _dilations.Length != spatial) throw ShapeError($"dilations has {_dilations.Length} values for {spatial} spatial axes");
        int effective = (kernel - 1) * dilation + 1;
        if (_autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int outSize = (input + stride - 1) / stride;
            int total = Math.Max(0, (outSize - 1) * stride + effective - input);
            int small = total / 2, large = total - small;
            return _autoPad == "SAME_UPPER" ? (small, large, outSize) : (large, small, outSize);
        }
        int begin = 0, end = 0;
        if (_autoPad == "NOTSET" && _pads is not null)
        {
            if (_pads.Length != 2 * spatial) throw ShapeError($"pads has {_pads.Length} values for {spatial} spatial axes");
            begin = _pads[axis];
            end = _pads[axis + spatial];
        }
        int span = input + begin + end - effective;
        if (span < 0) return (begin, end, 0);
        int o = _ceil ? (span + stride - 1) / stride + 1 : span / stride + 1;
        // PyTorch: the last window must start inside the input or the left padding.
        if (_ceil && (o - 1) * stride >= input + begin) o--;
        return (begin, end, o);
    }
}
