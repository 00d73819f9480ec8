using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;

namespace CrossModal.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Embedding lookup: rows of <paramref name="weight"/> [V, D] for each id; the result has shape
    /// <paramref name="idsShape"/> + [D]. The weight's gradient is a scatter-add of the output gradient.
    /// </summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<int> ids, params int[] idsShape)
    {
        Require(weight.Rank == 2, $"Embedding: weight must be 2-D, got {Tensor.FormatShape(weight.ShapeSpan)}.");
        if (idsShape.Length == 0) idsShape = new[] { ids.Length };
        Require(Tensor.Count(idsShape) == ids.Length, $"Embedding: {ids.Length} ids do not fill shape {Tensor.FormatShape(idsShape)}.");
        int v = weight.Dim(0), d = weight.Dim(1);
        var shape = new int[idsShape.Length + 1];
        idsShape.CopyTo(shape, 0);
        shape[^1] = d;
        var y = Tensor.Empty(shape);
        var w = weight.Data;
        var yd = y.Data;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)v) throw new IndexOutOfRangeException($"Embedding: id {id} out of range for a table of {v} rows.");
            w.Slice(id * d, d).CopyTo(yd.Slice(i * d, d));
        }
        if (Tape.Needs(weight))
        {
            var idCopy = ids.ToArray();
            Tape.Record(y, g =>
            {
                var gw = weight.GradBuffer(out bool acc);
                if (!acc) gw.Clear();
                var gd = g.Data;
                for (int i = 0; i < idCopy.Length; i++) Elementwise.AddInPlace(gw.Slice(idCopy[i] * d, d), gd.Slice(i * d, d));
            });
        }
        return y;
    }

    /// <summary>
    /// Inverted dropout: in training, zeroes each element with probability <paramref name="p"/> and scales the rest by
    /// 1 / (1 - p); identity otherwise.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Rng rng)
    {
        Require(p >= 0f && p < 1f || p == 1f, $"Dropout: probability {p} outside [0, 1].");
        if (!training || p == 0f) return x;
        var mask = new float[x.Length];
        float scale = p == 1f ? 0f : 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < p ? 0f : scale;
        var y = Tensor.Empty(x.Shape);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, mask, y.Data);
        if (Tape.Needs(x))
        {
            Tape.Record(y, g =>
            {
                var gx = x.GradBuffer(out bool acc);
                if (acc)
                {
                    var gd = g.Data;
                    for (int i = 0; i < gd.Length; i++) gx[i] += gd[i] * mask[i];
                }
                else System.Numerics.Tensors.TensorPrimitives.Multiply(g.Data, mask, gx);
            });
        }
        return y;
    }
}
