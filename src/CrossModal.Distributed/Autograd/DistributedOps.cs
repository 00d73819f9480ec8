using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Distributed.Autograd;

/// <summary>
/// Collectives as differentiable tensor ops, recorded on the calling thread's tape like any other op. Every rank
/// records the same ops in the same order, so the collectives in their backward passes meet as well. The convention
/// that makes the ranks' gradients add up to the one-process gradient: each rank's backward computes the gradient
/// of the global loss with respect to the tensors that rank computed; what is computed identically on every rank
/// (after a gather) carries the whole gradient on each of them (see <see cref="GatheredUse"/>).
/// </summary>
public static class DistributedOps
{
    /// <summary>
    /// The global tensor whose rows the ranks hold (<paramref name="layout"/>): [rows, w] from local [b, w], or
    /// [rows, T, d] from local [b, t, d] (T = the longest valid length when the layout has lengths, else t; padding
    /// is zero). Forward: an all-gather of the valid rows; backward: per <paramref name="use"/>.
    /// </summary>
    public static Tensor AllGatherRows(ICommunicator ranks, Tensor local, RowLayout layout, GatheredUse use)
    {
        if (layout.Ranks != ranks.Size) throw new ArgumentException($"The row layout is for {layout.Ranks} ranks, the job has {ranks.Size}.");
        if (local.Rank is not (2 or 3)) throw new ArgumentException($"A row gather takes [rows, w] or [rows, t, d], got {Tensor.FormatShape(local.ShapeSpan)}.");
        var mine = layout.RowsOf(ranks.Rank);
        if (local.Dim(0) != mine.Length) throw new ArgumentException($"Rank {ranks.Rank} holds {local.Dim(0)} rows, the layout gives it {mine.Length}.");
        if (local.Rank == 2 && layout.ValidLengths is not null) throw new ArgumentException("Valid lengths need [rows, t, d] tensors.");
        int t = local.Rank == 3 ? local.Dim(1) : 1, d = local.Dim(-1);
        int outT = layout.ValidLengths is not null ? layout.MaxLength : t;
        foreach (int j in mine)
            if (Valid(layout, j, t) > t) throw new ArgumentException($"Row {j} is valid for {Valid(layout, j, t)} positions, the local tensor has {t}.");

        var counts = Counts(layout, t, d);
        int total = 0;
        foreach (int c in counts) total += c;
        var output = local.Rank == 3 ? Tensor.Zeros(layout.GlobalRows, outT, d) : Tensor.Zeros(layout.GlobalRows, d);
        var send = TensorPool.Rent(Math.Max(1, counts[ranks.Rank]));
        var receive = TensorPool.Rent(Math.Max(1, total));
        try
        {
            Pack(layout, ranks.Rank, local.Data, t, d, send, global: false);
            ranks.AllGatherV<float>(send.AsSpan(0, counts[ranks.Rank]), receive.AsSpan(0, total), counts);
            int offset = 0;
            for (int r = 0; r < ranks.Size; r++)
                foreach (int j in layout.RowsOf(r))
                {
                    int n = Valid(layout, j, t) * d;
                    receive.AsSpan(offset, n).CopyTo(output.Data.Slice(j * outT * d, n));
                    offset += n;
                }
        }
        finally
        {
            TensorPool.Return(send);
            TensorPool.Return(receive);
        }
        if (!Tape.Needs(local)) return output;

        Tape.Record(output, g =>
        {
            var grad = local.GradBuffer(out bool accumulate);
            using var own = new PooledBuffer(Math.Max(1, counts[ranks.Rank]));
            if (use == GatheredUse.Replicated)
            {
                // Every rank holds the whole gradient of the replicated computation: keep the rows it contributed.
                Pack(layout, ranks.Rank, g.Data, outT, d, own.Array, global: true);
            }
            else
            {
                // Each rank holds a partial gradient of every row: sum them over the ranks, each rank receiving its rows.
                using var all = new PooledBuffer(Math.Max(1, total));
                int offset = 0;
                for (int r = 0; r < ranks.Size; r++)
                {
                    Pack(layout, r, g.Data, outT, d, all.Array.AsSpan(offset), global: true);
                    offset += counts[r];
                }
                ranks.ReduceScatterV<float>(all.Span[..total], own.Span[..counts[ranks.Rank]], counts);
            }
            Unpack(layout, ranks.Rank, own.Array, t, d, grad, accumulate);
        });
        return output;
    }

    /// <summary>
    /// The sum over the ranks of each rank's <paramref name="local"/> (e.g. a per-sample loss term summed over the
    /// rank's rows), on every rank. Whatever follows is computed identically on every rank, so the backward passes
    /// the output gradient to each rank's own partial sum unchanged.
    /// </summary>
    public static Tensor SumOverRanks(ICommunicator ranks, Tensor local)
    {
        var output = local.Clone();
        ranks.AllReduce<float>(output.Data, ReduceOperation.Sum);
        if (Tape.Needs(local)) Tape.Record(output, g => local.AccumulateGrad(g.Data));
        return output;
    }

    private static int Valid(RowLayout layout, int row, int t) => layout.ValidLengths?[row] ?? t;

    /// <summary>Floats each rank contributes.</summary>
    private static int[] Counts(RowLayout layout, int t, int d)
    {
        var counts = new int[layout.Ranks];
        for (int r = 0; r < layout.Ranks; r++)
        {
            long n = 0;
            foreach (int j in layout.RowsOf(r)) n += (long)Valid(layout, j, t) * d;
            if (n > int.MaxValue) throw new ArgumentException($"Rank {r}'s rows hold {n} floats, more than one collective carries.");
            counts[r] = (int)n;
        }
        return counts;
    }

    /// <summary>
    /// Copies the valid part of each of rank <paramref name="rank"/>'s rows, in its order, into
    /// <paramref name="destination"/>: from its local tensor [b, stride, d] (<paramref name="global"/> false) or from
    /// a global tensor [rows, stride, d] (true).
    /// </summary>
    private static void Pack(RowLayout layout, int rank, ReadOnlySpan<float> source, int stride, int d, Span<float> destination, bool global)
    {
        var rows = layout.RowsOf(rank);
        int offset = 0;
        for (int k = 0; k < rows.Length; k++)
        {
            int j = rows[k];
            int n = Valid(layout, j, stride) * d;
            source.Slice((global ? j : k) * stride * d, n).CopyTo(destination.Slice(offset, n));
            offset += n;
        }
    }

    /// <summary>Writes packed rows into the local gradient [b, t, d] (padding zero; added when accumulating).</summary>
    private static void Unpack(RowLayout layout, int rank, ReadOnlySpan<float> packed, int t, int d, Span<float> grad, bool accumulate)
    {
        if (!accumulate) grad.Clear();
        var rows = layout.RowsOf(rank);
        int offset = 0;
        for (int k = 0; k < rows.Length; k++)
        {
            int n = Valid(layout, rows[k], t) * d;
            var dst = grad.Slice(k * t * d, n);
            var src = packed.Slice(offset, n);
            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst); else src.CopyTo(dst);
            offset += n;
        }
    }
}
