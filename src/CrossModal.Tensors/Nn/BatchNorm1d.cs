using System.Numerics.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Nn;

/// <summary>
/// torch.nn.BatchNorm1d on [N, C] or [N, C, L]. Training mode normalises with the batch statistics (biased variance)
/// and updates running_mean / running_var (unbiased variance) with momentum 0.1; evaluation mode uses the running
/// statistics. State: "weight", "bias", "running_mean", "running_var", "num_batches_tracked".
/// <para>
/// With a <see cref="CrossBatch"/> reducer the layer is PyTorch's SyncBatchNorm: in training mode the batch is the
/// union of the workers' parts. The forward pass sums each channel's values and the row count over the workers,
/// then the squared deviations from that global mean (the same two-pass formula as one worker, so the statistics
/// differ from one process's only by summation order), and every worker updates its running statistics with the
/// same global mean and unbiased variance. The backward pass sums Σg and Σg·x̂ over the workers for the input's
/// gradient; the weight's and bias's gradients stay this worker's share (the data-parallel gradient all-reduce adds
/// the shares).
/// </para>
/// </summary>
public sealed class BatchNorm1d : Module
{
    /// <summary>Rows per chunk when the [N, C] path is split across threads.</summary>
    private const int RowsPerChunk = 64;

    /// <summary>Creates the layer: weight 1, bias 0, running mean 0, running variance 1.</summary>
    public BatchNorm1d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f)
    {
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = RegisterParameter("weight", Tensor.Full(1f, numFeatures));
        Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Tensor.Full(1f, numFeatures));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros());
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance.</summary>
    public float Eps { get; }

    /// <summary>Running-statistics momentum.</summary>
    public float Momentum { get; }

    /// <summary>gamma [C].</summary>
    public Tensor Weight { get; }

    /// <summary>beta [C].</summary>
    public Tensor Bias { get; }

    /// <summary>[C].</summary>
    public Tensor RunningMean { get; }

    /// <summary>[C].</summary>
    public Tensor RunningVar { get; }

    /// <summary>Rank-0 counter (stored as int64 in PyTorch files).</summary>
    public Tensor NumBatchesTracked { get; }

    /// <summary>
    /// Sums the batch statistics over the workers that hold the other parts of the batch (training mode only); null:
    /// the batch is this worker's alone. Captured per forward pass, so the backward pass uses the same reducer.
    /// </summary>
    public IBatchReducer? CrossBatch { get; set; }

    /// <summary>Normalises x [N, C] or [N, C, L].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank is not (2 or 3) || x.Dim(1) != NumFeatures)
            throw new ArgumentException($"BatchNorm1d({NumFeatures}): input {Tensor.FormatShape(x.ShapeSpan)} is not [N, {NumFeatures}] or [N, {NumFeatures}, L].");
        int n = x.Dim(0), c = NumFeatures, l = x.Rank == 3 ? x.Dim(2) : 1;
        if (l == 1) return ForwardRows(x, n, c);
        int count = n * l;
        var mean = new float[c];
        var invStd = new float[c];
        var xd = x.Data;
        var reducer = Training ? CrossBatch : null;
        double total = count;
        if (Training)
        {
            var sums = new double[c + 1];
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) sums[ch] += xd[(i * c + ch) * l + j];
            sums[c] = count;
            reducer?.Sum(sums);
            total = sums[c];
            if (total <= 1) throw new ArgumentException($"BatchNorm1d: expected more than 1 value per channel when training, got input {Tensor.FormatShape(x.ShapeSpan)}{(reducer is null ? "" : $" ({total} values over all parts of the batch)")}.");
            var mus = new double[c];
            var squares = new double[c];
            for (int ch = 0; ch < c; ch++)
            {
                double mu = mus[ch] = sums[ch] / total;
                for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) { double d = xd[(i * c + ch) * l + j] - mu; squares[ch] += d * d; }
            }
            reducer?.Sum(squares);
            var rm = RunningMean.Data;
            var rv = RunningVar.Data;
            for (int ch = 0; ch < c; ch++)
            {
                double ss = squares[ch], varBiased = ss / total;
                mean[ch] = (float)mus[ch];
                invStd[ch] = (float)(1.0 / Math.Sqrt(varBiased + Eps));
                rm[ch] = (1 - Momentum) * rm[ch] + Momentum * (float)mus[ch];
                rv[ch] = (1 - Momentum) * rv[ch] + Momentum * (float)(ss / (total - 1));
            }
            NumBatchesTracked.Data[0] += 1;
        }
        else
        {
            var rm = RunningMean.Data;
            var rv = RunningVar.Data;
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = rm[ch];
                invStd[ch] = 1f / MathF.Sqrt(rv[ch] + Eps);
            }
        }
        var y = Tensor.Empty(x.Shape);
        var yd = y.Data;
        var gamma = Weight.Data;
        var beta = Bias.Data;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < l; j++)
                {
                    int p = (i * c + ch) * l + j;
                    yd[p] = (xd[p] - mean[ch]) * invStd[ch] * gamma[ch] + beta[ch];
                }
        if (Tape.Needs(new[] { x, Weight, Bias }))
        {
            bool batchStats = Training;
            Tape.Record(y, g => Backward(x, g, mean, invStd, batchStats, n, c, l, reducer, total));
        }
        return y;
    }

    /// <summary>
    /// The [N, C] case (rows are samples, or positions when a caller keeps [B, C, L] as [B·L, C]), vectorised along
    /// the channels: column statistics are summed in float over blocks of rows and the blocks in double, so the
    /// result matches the strided path within float rounding.
    /// </summary>
    private Tensor ForwardRows(Tensor x, int n, int c)
    {
        var mean = new float[c];
        var invStd = new float[c];
        var reducer = Training ? CrossBatch : null;
        double total = n;
        if (Training)
        {
            var rm = RunningMean.Data;
            var rv = RunningVar.Data;
            // The column sums and, last, the row count: summed over the workers with one reduction.
            var sums = new double[c + 1];
            ColumnSums(x, n, c, null, sums);
            sums[c] = n;
            reducer?.Sum(sums);
            total = sums[c];
            if (total <= 1) throw new ArgumentException($"BatchNorm1d: expected more than 1 value per channel when training, got input {Tensor.FormatShape(x.ShapeSpan)}{(reducer is null ? "" : $" ({total} rows over all parts of the batch)")}.");
            for (int ch = 0; ch < c; ch++) mean[ch] = (float)(sums[ch] / total);
            var squares = new double[c];
            ColumnSums(x, n, c, mean, squares);
            reducer?.Sum(squares);
            for (int ch = 0; ch < c; ch++)
            {
                double varBiased = squares[ch] / total;
                invStd[ch] = (float)(1.0 / Math.Sqrt(varBiased + Eps));
                rm[ch] = (1 - Momentum) * rm[ch] + Momentum * mean[ch];
                rv[ch] = (1 - Momentum) * rv[ch] + Momentum * (float)(squares[ch] / (total - 1));
            }
            NumBatchesTracked.Data[0] += 1;
        }
        else
        {
            var rm = RunningMean.Data;
            var rv = RunningVar.Data;
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = rm[ch];
                invStd[ch] = 1f / MathF.Sqrt(rv[ch] + Eps);
            }
        }
        // y = x * scale + shift with scale = gamma * invStd, shift = beta - mean * scale.
        var scale = new float[c];
        var shift = new float[c];
        TensorPrimitives.Multiply(Weight.Data, invStd, scale);
        TensorPrimitives.Multiply(mean, scale, shift);
        TensorPrimitives.Subtract(Bias.Data, shift, shift);
        var y = Tensor.Empty(x.Shape);
        var yd = y.Data;
        var xa = x.Buffer;
        var ya = y.Buffer;
        int xo = x.Offset, yo = y.Offset;
        Parallelism.For(n, RowsPerChunk, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var dst = ya.AsSpan(yo + r * c, c);
                TensorPrimitives.FusedMultiplyAdd(xa.AsSpan(xo + r * c, c), scale, shift, dst);
            }
        });
        if (Tape.Needs(new[] { x, Weight, Bias }))
        {
            bool batchStats = Training;
            Tape.Record(y, g => BackwardRows(x, g, mean, invStd, batchStats, n, c, reducer, total));
        }
        return y;
    }

    private void BackwardRows(Tensor x, Tensor g, float[] mean, float[] invStd, bool batchStats, int n, int c, IBatchReducer? reducer, double total)
    {
        // Σ g and Σ g·xhat per channel, where xhat = (x - mean) * invStd: Σ g (x - mean) * invStd.
        var sumG = new double[c];
        var sumGX = new double[c];
        ColumnSums(g, n, c, null, sumG);
        ColumnSums(x, n, c, mean, sumGX, g);
        for (int ch = 0; ch < c; ch++) sumGX[ch] *= invStd[ch];
        if (Weight.RequiresGrad)
        {
            var gw = Weight.GradBuffer(out bool acc);
            for (int ch = 0; ch < c; ch++) gw[ch] = (acc ? gw[ch] : 0f) + (float)sumGX[ch];
        }
        if (Bias.RequiresGrad)
        {
            var gb = Bias.GradBuffer(out bool acc);
            for (int ch = 0; ch < c; ch++) gb[ch] = (acc ? gb[ch] : 0f) + (float)sumG[ch];
        }
        if (!x.RequiresGrad) return;
        if (reducer is not null) (sumG, sumGX) = SumOverWorkers(reducer, sumG, sumGX);
        var gx = x.GradBuffer(out bool accX);
        var gamma = Weight.Data;
        // Batch statistics: dx = a ⊙ g - b ⊙ (x - mean) - d with a = gamma·invStd, b = a·invStd·Σ(g xhat)/n,
        // d = a·Σg/n. Running statistics: dx = a ⊙ g.
        var a = new float[c];
        var bCoef = new float[c];
        var dCoef = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            a[ch] = gamma[ch] * invStd[ch];
            bCoef[ch] = batchStats ? (float)(a[ch] * invStd[ch] * sumGX[ch] / total) : 0f;
            dCoef[ch] = batchStats ? (float)(a[ch] * sumG[ch] / total) : 0f;
        }
        var xa = x.Buffer;
        var ga = g.Buffer;
        var gxa = x.Grad!.Buffer;
        int xo = x.Offset, go = g.Offset, gxo = x.Grad.Offset;
        Parallelism.For(n, RowsPerChunk, (r0, r1) =>
        {
            using var tmp = new PooledBuffer(2 * c);
            var t = tmp.Span.Slice(0, c);
            var u = tmp.Span.Slice(c, c);
            for (int r = r0; r < r1; r++)
            {
                var dst = gxa.AsSpan(gxo + r * c, c);
                TensorPrimitives.Subtract(xa.AsSpan(xo + r * c, c), mean, t);
                TensorPrimitives.FusedMultiplyAdd(t, bCoef, dCoef, t);
                TensorPrimitives.Multiply(ga.AsSpan(go + r * c, c), a, u);
                TensorPrimitives.Subtract(u, t, u);
                if (accX) TensorPrimitives.Add(dst, u, dst);
                else u.CopyTo(dst);
            }
        });
    }

    /// <summary>
    /// Per channel, the sum over the <paramref name="n"/> rows of [n, c] data of: the value (no
    /// <paramref name="center"/>), its squared deviation from center (no <paramref name="weights"/>), or the
    /// deviation times the weights' element. Float sums over blocks of rows, blocks added in double; split
    /// across threads by channel ranges (the result does not depend on the split).
    /// </summary>
    private static void ColumnSums(Tensor data, int n, int c, float[]? center, double[] output, Tensor? weights = null)
    {
        const int RowBlock = 64, ChunkColumns = 256;
        float[] d = data.Buffer, w = weights?.Buffer ?? Array.Empty<float>();
        int dOff = data.Offset, wOff = weights?.Offset ?? 0;
        bool weighted = weights is not null;
        int chunks = (c + ChunkColumns - 1) / ChunkColumns;
        Parallelism.For(chunks, 1, (k0, k1) =>
        {
            int c0 = k0 * ChunkColumns, width = Math.Min(c, k1 * ChunkColumns) - c0;
            using var buf = new PooledBuffer(2 * width);
            var block = buf.Span.Slice(0, width);
            var t = buf.Span.Slice(width, width);
            for (int r0 = 0; r0 < n; r0 += RowBlock)
            {
                block.Clear();
                int r1 = Math.Min(n, r0 + RowBlock);
                for (int r = r0; r < r1; r++)
                {
                    var row = d.AsSpan(dOff + r * c + c0, width);
                    if (center is null) TensorPrimitives.Add(block, row, block);
                    else
                    {
                        TensorPrimitives.Subtract(row, center.AsSpan(c0, width), t);
                        if (!weighted) TensorPrimitives.FusedMultiplyAdd(t, t, block, block);
                        else TensorPrimitives.FusedMultiplyAdd(t, w.AsSpan(wOff + r * c + c0, width), block, block);
                    }
                }
                for (int j = 0; j < width; j++) output[c0 + j] += block[j];
            }
        });
    }

    /// <summary>Σg and Σg·x̂ of every worker's part, summed with one reduction.</summary>
    private static (double[] SumG, double[] SumGXhat) SumOverWorkers(IBatchReducer reducer, double[] sumG, double[] sumGXhat)
    {
        int c = sumG.Length;
        var both = new double[2 * c];
        sumG.CopyTo(both, 0);
        sumGXhat.CopyTo(both, c);
        reducer.Sum(both);
        return (both[..c], both[c..]);
    }

    private void Backward(Tensor x, Tensor g, float[] mean, float[] invStd, bool batchStats, int n, int c, int l, IBatchReducer? reducer, double count)
    {
        var gd = g.Data;
        var xd = x.Data;
        var sumG = new double[c];
        var sumGXhat = new double[c];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < l; j++)
                {
                    int p = (i * c + ch) * l + j;
                    double xhat = (xd[p] - mean[ch]) * invStd[ch];
                    sumG[ch] += gd[p];
                    sumGXhat[ch] += gd[p] * xhat;
                }
        if (Weight.RequiresGrad)
        {
            var gw = Weight.GradBuffer(out bool acc);
            for (int ch = 0; ch < c; ch++) gw[ch] = (acc ? gw[ch] : 0f) + (float)sumGXhat[ch];
        }
        if (Bias.RequiresGrad)
        {
            var gb = Bias.GradBuffer(out bool acc);
            for (int ch = 0; ch < c; ch++) gb[ch] = (acc ? gb[ch] : 0f) + (float)sumG[ch];
        }
        if (!x.RequiresGrad) return;
        if (reducer is not null) (sumG, sumGXhat) = SumOverWorkers(reducer, sumG, sumGXhat);
        float fcount = (float)count;
        var gx = x.GradBuffer(out bool accX);
        var gamma = Weight.Data;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < l; j++)
                {
                    int p = (i * c + ch) * l + j;
                    float v;
                    if (batchStats)
                    {
                        // dx = gamma * invStd / N * (N g - sum(g) - xhat * sum(g xhat))
                        double xhat = (xd[p] - mean[ch]) * invStd[ch];
                        v = (float)(gamma[ch] * invStd[ch] / fcount * (fcount * gd[p] - sumG[ch] - xhat * sumGXhat[ch]));
                    }
                    else v = gd[p] * gamma[ch] * invStd[ch];
                    if (accX) gx[p] += v; else gx[p] = v;
                }
    }
}
