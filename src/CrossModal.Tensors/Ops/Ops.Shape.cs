using CrossModal.Tensors.Autograd;

namespace CrossModal.Tensors;

public static partial class Ops
{
    /// <summary>A view with a new shape (one entry may be -1). The gradient is reshaped back.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        shape = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                Require(infer < 0, $"Reshape: more than one -1 in {Tensor.FormatShape(shape)}.");
                infer = i;
            }
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            Require(known > 0 && x.Length % known == 0, $"Reshape: cannot reshape {Tensor.FormatShape(x.ShapeSpan)} to {Tensor.FormatShape(shape)}.");
            shape[infer] = (int)(x.Length / known);
        }
        Require(Tensor.Count(shape) == x.Length, $"Reshape: cannot reshape {Tensor.FormatShape(x.ShapeSpan)} ({x.Length} elements) to {Tensor.FormatShape(shape)}.");
        var y = x.View(shape);
        if (Tape.Needs(x)) Tape.Record(y, g => x.AccumulateGrad(g.Data));
        return y;
    }

    /// <summary>
    /// Elements [start, start + length) along <paramref name="axis"/>. A view when the slice is contiguous
    /// (axis 0, or every axis before it has size 1); a copy otherwise.
    /// </summary>
    public static Tensor Narrow(Tensor x, int axis, int start, int length)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        Require(start >= 0 && length >= 0 && start + length <= n, $"Narrow: [{start}, {start + length}) out of range for axis {axis} of size {n}.");
        var shape = x.Shape;
        shape[axis] = length;
        Tensor y;
        if (outer == 1)
        {
            y = x.View(start * inner, shape);
        }
        else
        {
            y = Tensor.Empty(shape);
            var src = x.Data;
            var dst = y.Data;
            for (int o = 0; o < outer; o++)
                src.Slice((o * n + start) * inner, length * inner).CopyTo(dst.Slice(o * length * inner, length * inner));
        }
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                if (!acc) gx.Clear();
                var gy = g.Data;
                for (int o = 0; o < outer; o++)
                    Kernels.Elementwise.AddInPlace(gx.Slice((o * n + start) * inner, length * inner), gy.Slice(o * length * inner, length * inner));
            });
        }
        return y;
    }

    /// <summary>Concatenates tensors along <paramref name="axis"/>; all other dimensions must agree.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis)
    {
        Require(xs.Count > 0, "Concat: no tensors.");
        var first = xs[0];
        axis = first.NormalizeAxis(axis);
        int total = 0;
        foreach (var t in xs)
        {
            Require(t.Rank == first.Rank, $"Concat: rank {t.Rank} differs from {first.Rank}.");
            for (int d = 0; d < t.Rank; d++)
                if (d != axis) Require(t.Dim(d) == first.Dim(d), $"Concat: shapes {Tensor.FormatShape(first.ShapeSpan)} and {Tensor.FormatShape(t.ShapeSpan)} differ outside axis {axis}.");
            total += t.Dim(axis);
        }
        var shape = first.Shape;
        shape[axis] = total;
        var y = Tensor.Empty(shape);
        var (outer, _, inner) = SplitAxis(shape, axis);
        var dst = y.Data;
        int offset = 0;
        foreach (var t in xs)
        {
            int w = t.Dim(axis) * inner;
            var src = t.Data;
            for (int o = 0; o < outer; o++) src.Slice(o * w, w).CopyTo(dst.Slice(o * total * inner + offset, w));
            offset += w;
        }
        if (Tape.Needs(xs))
        {
            var inputs = xs.ToArray();
            Tape.Record(y, g =>
            {
                var gy = g.Data;
                int off = 0;
                foreach (var t in inputs)
                {
                    int w = t.Dim(axis) * inner;
                    if (t.RequiresGrad)
                    {
                        var gx = t.GradBuffer(out bool acc);
                        for (int o = 0; o < outer; o++)
                        {
                            var s = gy.Slice(o * total * inner + off, w);
                            if (acc) Kernels.Elementwise.AddInPlace(gx.Slice(o * w, w), s); else s.CopyTo(gx.Slice(o * w, w));
                        }
                    }
                    off += w;
                }
            });
        }
        return y;
    }

    /// <summary>Stacks equally shaped tensors along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> xs, int axis)
    {
        Require(xs.Count > 0, "Stack: no tensors.");
        int rank = xs[0].Rank;
        if (axis < 0) axis += rank + 1;
        Require(axis >= 0 && axis <= rank, $"Stack: axis {axis} out of range for rank {rank}.");
        var expanded = new Tensor[xs.Count];
        for (int i = 0; i < xs.Count; i++)
        {
            Require(xs[i].SameShape(xs[0]), $"Stack: shapes {Tensor.FormatShape(xs[0].ShapeSpan)} and {Tensor.FormatShape(xs[i].ShapeSpan)} differ.");
            var s = new List<int>(xs[i].Shape);
            s.Insert(axis, 1);
            expanded[i] = Reshape(xs[i], s.ToArray());
        }
        return Concat(expanded, axis);
    }

    /// <summary>Swaps two axes (a copy).</summary>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        var perm = new int[x.Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        axis0 = x.NormalizeAxis(axis0);
        axis1 = x.NormalizeAxis(axis1);
        (perm[axis0], perm[axis1]) = (perm[axis1], perm[axis0]);
        return Permute(x, perm);
    }

    /// <summary>Reorders axes: output axis i is input axis perm[i] (a copy).</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        int r = x.Rank;
        Require(perm.Length == r, $"Permute: {perm.Length} axes given for rank {r}.");
        var seen = new bool[r];
        foreach (int p in perm)
        {
            Require(p >= 0 && p < r && !seen[p], $"Permute: [{string.Join(", ", perm)}] is not a permutation of {r} axes.");
            seen[p] = true;
        }
        var inShape = x.Shape;
        var outShape = new int[r];
        for (int i = 0; i < r; i++) outShape[i] = inShape[perm[i]];
        var y = Tensor.Empty(outShape);
        PermuteCopy(x.Data, inShape, perm, y.Data, accumulate: false);
        if (Tape.Needs(x))
        {
            var inverse = new int[r];
            for (int i = 0; i < r; i++) inverse[perm[i]] = i;
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                PermuteCopy(g.Data, outShape, inverse, gx, acc);
            });
        }
        return y;
    }

    /// <summary>dst (shape = src shape permuted) = permute(src); adds instead when accumulate.</summary>
    internal static void PermuteCopy(ReadOnlySpan<float> src, int[] srcShape, int[] perm, Span<float> dst, bool accumulate)
    {
        int r = srcShape.Length;
        var srcStrides = new int[r];
        int s = 1;
        for (int i = r - 1; i >= 0; i--) { srcStrides[i] = s; s *= srcShape[i]; }
        var outShape = new int[r];
        var strideInSrc = new int[r];
        for (int i = 0; i < r; i++) { outShape[i] = srcShape[perm[i]]; strideInSrc[i] = srcStrides[perm[i]]; }
        int total = src.Length;
        if (total == 0) return;
        if (r == 0) { if (accumulate) dst[0] += src[0]; else dst[0] = src[0]; return; }
        var idx = new int[r];
        int last = r - 1;
        int innerN = outShape[last], innerStride = strideInSrc[last];
        int srcPos = 0;
        for (int o = 0; o < total; o += innerN)
        {
            var d = dst.Slice(o, innerN);
            if (accumulate) for (int j = 0, p = srcPos; j < innerN; j++, p += innerStride) d[j] += src[p];
            else for (int j = 0, p = srcPos; j < innerN; j++, p += innerStride) d[j] = src[p];
            for (int a = last - 1; a >= 0; a--)
            {
                idx[a]++;
                srcPos += strideInSrc[a];
                if (idx[a] < outShape[a]) break;
                srcPos -= idx[a] * strideInSrc[a];
                idx[a] = 0;
            }
        }
    }

    /// <summary>Rows of <paramref name="x"/> along axis 0 picked by <paramref name="indices"/> (repeats allowed).</summary>
    public static Tensor IndexSelect(Tensor x, ReadOnlySpan<int> indices)
    {
        Require(x.Rank >= 1, "IndexSelect: needs rank >= 1.");
        int rows = x.Dim(0);
        int w = rows == 0 ? 0 : x.Length / rows;
        var shape = x.Shape;
        shape[0] = indices.Length;
        var y = Tensor.Empty(shape);
        var src = x.Data;
        var dst = y.Data;
        for (int i = 0; i < indices.Length; i++)
        {
            int r = indices[i];
            if ((uint)r >= (uint)rows) throw new IndexOutOfRangeException($"IndexSelect: index {r} out of range for {rows} rows.");
            src.Slice(r * w, w).CopyTo(dst.Slice(i * w, w));
        }
        if (Tape.Needs(x))
        {
            var idx = indices.ToArray();
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                if (!acc) gx.Clear();
                var gy = g.Data;
                for (int i = 0; i < idx.Length; i++) Kernels.Elementwise.AddInPlace(gx.Slice(idx[i] * w, w), gy.Slice(i * w, w));
            });
        }
        return y;
    }

    /// <summary>
    /// Gathers along <paramref name="axis"/>: out[o, j, i] = x[o, index[o, j, i], i], where <paramref name="index"/>
    /// has x's shape except along the axis (PyTorch's torch.gather).
    /// </summary>
    public static Tensor Gather(Tensor x, int axis, ReadOnlySpan<int> index, int indexAxisLength)
    {
        axis = x.NormalizeAxis(axis);
        var (outer, n, inner) = SplitAxis(x.ShapeSpan, axis);
        Require(index.Length == outer * indexAxisLength * inner, $"Gather: {index.Length} indices for {outer}x{indexAxisLength}x{inner}.");
        var shape = x.Shape;
        shape[axis] = indexAxisLength;
        var y = Tensor.Empty(shape);
        var src = x.Data;
        var dst = y.Data;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < indexAxisLength; j++)
                for (int i = 0; i < inner; i++)
                {
                    int p = (o * indexAxisLength + j) * inner + i;
                    int k = index[p];
                    if ((uint)k >= (uint)n) throw new IndexOutOfRangeException($"Gather: index {k} out of range for axis of size {n}.");
                    dst[p] = src[(o * n + k) * inner + i];
                }
        if (Tape.Needs(x))
        {
            var idx = index.ToArray();
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                if (!acc) gx.Clear();
                var gy = g.Data;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < indexAxisLength; j++)
                        for (int i = 0; i < inner; i++)
                        {
                            int p = (o * indexAxisLength + j) * inner + i;
                            gx[(o * n + idx[p]) * inner + i] += gy[p];
                        }
            });
        }
        return y;
    }

    /// <summary>
    /// Replaces elements where <paramref name="mask"/> is true by <paramref name="value"/>. The mask has x's shape or
    /// broadcasts to it from the left (its length divides x's and it repeats over the leading axes).
    /// </summary>
    public static Tensor MaskedFill(Tensor x, ReadOnlySpan<bool> mask, float value)
    {
        Require(mask.Length > 0 && x.Length % mask.Length == 0, $"MaskedFill: mask of {mask.Length} does not broadcast to {Tensor.FormatShape(x.ShapeSpan)}.");
        var y = x.Clone();
        var d = y.Data;
        int m = mask.Length;
        for (int i = 0; i < d.Length; i++) if (mask[i % m]) d[i] = value;
        if (Tape.Needs(x))
        {
            var mk = mask.ToArray();
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                var gy = g.Data;
                for (int i = 0; i < gy.Length; i++)
                {
                    float v = mk[i % m] ? 0f : gy[i];
                    if (acc) gx[i] += v; else gx[i] = v;
                }
            });
        }
        return y;
    }
}
